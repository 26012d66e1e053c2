"""Issue 17: RPAs named wherever a model spec can be, built per (character, temperature,
trial) from an RPARequest, recorded with their package, refused when one object would
play several characters; the conformance kit on the command line and in a running loop."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from langchain_core.messages import BaseMessage, HumanMessage

from personascope import results
from personascope.agents.character_agent import CharacterAgent
from personascope.agents.conformance import CHECKS, check_rpa
from personascope.agents.preflight import check_models
from personascope.agents.rpa import RPARequest, RunnableRPA
from personascope.agents.rpa_specs import (
    _REGISTRY,
    build_rpa,
    parse_rpa_spec,
    register_rpa,
    rpa_provenance,
)
from personascope.cli import main
from personascope.errors import ConfigurationError, InputError
from personascope.graphs.behavior import build_subjects
from personascope.graphs.context import Context
from personascope.graphs.pipeline import build_pipeline_graph
from personascope.graphs.runner import ExperimentSpec, load_spec, run_experiment, single_run_spec
from personascope.memories.characters import load_character

from graph_fakes import RecordingRPA, er_assessor
from stub_openai import StubOpenAI

SCALE = "ipip-bfm-50"


class NamedRPA:
    """Answers as the character it was built for; remembers the request."""

    def __init__(self, request: RPARequest) -> None:
        self.request = request

    async def areply(self, messages: Sequence[BaseMessage]) -> str:
        r = self.request
        tone = r.params.get("tone", "-")
        return f"{r.character.name} at {r.temperature:g}/{r.trial} ({tone}): I rarely go out."


class CountingFactory:
    """A factory that keeps every request it was called with."""

    def __init__(self) -> None:
        self.requests: list[RPARequest] = []

    def __call__(self, request: RPARequest) -> NamedRPA:
        self.requests.append(request)
        return NamedRPA(request)


class GossipRPA:
    """Each agent keeps its own conversations apart, but hears what the other characters'
    agents were told (a backend shared across characters)."""

    board: ClassVar[dict[str, str]] = {}

    def __init__(self, request: RPARequest) -> None:
        self.name = request.character.name

    async def areply(self, messages: Sequence[BaseMessage]) -> str:
        text = str(messages[-1].content)
        if "remember this" in text:
            type(self).board[self.name] = text
            return "I will."
        overheard = [said for who, said in self.board.items() if who != self.name]
        return f"I overheard: {' / '.join(overheard)}" if overheard else "Nothing comes to mind."


@pytest.fixture
def counting() -> Iterator[CountingFactory]:
    factory = CountingFactory()
    register_rpa("unit-counting", factory)
    yield factory
    _REGISTRY.pop("unit-counting", None)


# -- parsing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "kind", "name", "params", "model"),
    [
        ("local:smollm2", "model", "character", {}, "local:smollm2"),
        ("rpa:character?model=fake:echo", "registry", "character", {"model": "fake:echo"}, "fake:echo"),
        ("rpa:my-rpa?voice=a%26b&n=2", "registry", "my-rpa", {"voice": "a&b", "n": "2"}, None),
        ("json:loads?x=1", "module", "json:loads", {"x": "1"}, None),
        (
            "langgraph:char@http://127.0.0.1:9?context=character",
            "langgraph",
            "char",
            {"context": "character"},
            None,
        ),
    ],
)
def test_spec_forms_parse(spec: str, kind: str, name: str, params: dict[str, str], model: str | None) -> None:
    parsed = parse_rpa_spec(spec)
    assert (parsed.kind, parsed.name, dict(parsed.params), parsed.model) == (kind, name, params, model)


@pytest.mark.parametrize(
    ("spec", "field", "expected"),
    [
        ("claude:opus", "rpa", "unknown provider 'claude'"),
        ("rpa:", "name", "expected rpa:<name>"),
        ("rpa:x?novalue", "parameters", "key=value"),
        ("rpa:x?a=1&a=2", "parameters", "given twice"),
        ("rpa:character?model=gpt4", "model", "unknown provider"),
        ("rpa:character?temperature=2", "parameters", "character takes model"),
        ("rpa:endpoint", "model", "needs model="),
        ("langgraph:char@ftp://x", "url", "http(s)://host:port"),
        ("langgraph:char@http://x?context=mood", "context", "character, name"),
        ("local?x=1", "parameters", "rpa:character?model="),
    ],
)
def test_bad_specs_say_what_is_wrong(spec: str, field: str, expected: str) -> None:
    with pytest.raises(InputError) as info:
        parse_rpa_spec(spec)
    assert info.value.field == field and expected in info.value.detail, str(info.value)


def test_a_bare_registered_name_points_to_the_rpa_form(counting: CountingFactory) -> None:
    with pytest.raises(InputError, match=r"named rpa:unit-counting"):
        parse_rpa_spec("unit-counting")


# -- factories per (character, temperature, trial) -----------------------------------------


def test_factory_called_once_per_character_temperature_trial(
    tmp_path: Path, counting: CountingFactory
) -> None:
    spec = ExperimentSpec(
        characters=["alice", "sherlock-holmes"],
        scales=[SCALE],
        methods=["er_batch", "er_all"],
        rpa_models=["rpa:unit-counting?tone=dry"],
        temperatures=[0.0, 0.5],
        trials=2,
        concurrency=4,
    )
    outcomes = asyncio.run(run_experiment(spec, tmp_path, assessor=er_assessor()))
    assert [o.status for o in outcomes] == ["ran"] * 16
    cells = sorted((r.character.id, r.temperature, r.trial) for r in counting.requests)
    # once per cell, though each cell runs two methods
    assert cells == sorted({(c, t, n) for c in spec.characters for t in (0.0, 0.5) for n in (0, 1)})
    for r in counting.requests:
        assert r.params == {"tone": "dry"} and r.spec == "rpa:unit-counting?tone=dry" and r.model is None
        assert r.store is not None and r.seed == r.trial  # seed 0 + trial
        assert (r.model_params.temperature, r.model_params.trial) == (r.temperature, r.trial)
        assert r.model_params.cache_path == tmp_path / "llm-cache.sqlite"
    records = results.run_records(tmp_path)
    answers = {(rec.character, rec.temperature, rec.trial): rec.transcript[0]["answer"] for rec in records}
    assert answers[("alice", 0.5, 1)].startswith("Alice at 0.5/1 (dry)")
    assert answers[("sherlock-holmes", 0.0, 0)].startswith("Sherlock Holmes at 0/0 (dry)")
    prov = records[0].provenance.rpa
    assert prov is not None
    assert (prov.kind, prov.name, prov.params, prov.spec) == (
        "registry",
        "unit-counting",
        {"tone": "dry"},
        "rpa:unit-counting?tone=dry",
    )


def test_the_character_agent_is_built_by_its_factory() -> None:
    request = RPARequest(load_character("alice"), None, temperature=0.0, trial=3, seed=3)
    agent = build_rpa("rpa:character?model=fake:echo", request)
    assert isinstance(agent, CharacterAgent) and agent.deterministic  # a fake at temperature 0
    warm = build_rpa("fake:echo", RPARequest(load_character("alice"), None, temperature=0.7))
    assert isinstance(warm, CharacterAgent) and not warm.deterministic
    assert asyncio.run(agent.areply([HumanMessage("Hello?")])) == "Hello?"


def test_the_endpoint_rpa_is_built_per_request() -> None:
    with StubOpenAI(reply=lambda body: f"[{body['messages'][0]['content'][:40]}] aye") as stub:
        request = RPARequest(load_character("captain-ahab"), None, temperature=0.7, seed=5, trial=1)
        agent = build_rpa(f"rpa:endpoint?model=openai-compatible:ahab@{stub.base_url}", request)
        answer = asyncio.run(agent.areply([HumanMessage("Whale?")]))
        body = stub.requests[-1]
    assert answer.endswith("aye") and "Ahab" in body["messages"][0]["content"]  # the role-play prompt
    assert (body["temperature"], body["seed"]) == (0.7, 5)
    bare = build_rpa(
        f"rpa:endpoint?model=openai-compatible:ahab@{stub.base_url}&system=none",
        RPARequest(load_character("captain-ahab")),
    )
    assert bare.inner.system_prompt is None  # type: ignore[attr-defined]


def test_the_remote_graph_rpa_sends_messages_and_context(monkeypatch: pytest.MonkeyPatch) -> None:
    from langgraph.pregel.remote import RemoteGraph

    sent: dict[str, Any] = {}

    async def fake_ainvoke(self: RemoteGraph, payload: Any, config: Any = None, **kw: Any) -> Any:
        sent.update(assistant=self.assistant_id, payload=payload, **kw)
        # a deployment returns its state with messages serialised as dicts
        return {"messages": [*payload["messages"], {"type": "ai", "content": "Curiouser and curiouser!"}]}

    monkeypatch.setattr(RemoteGraph, "ainvoke", fake_ainvoke)
    request = RPARequest(load_character("alice"), None, temperature=0.2, trial=1)
    agent = build_rpa("langgraph:char@http://127.0.0.1:9?context=character,temperature,trial", request)
    assert isinstance(agent, RunnableRPA) and agent.is_graph
    assert asyncio.run(agent.areply([HumanMessage("How are you?")])) == "Curiouser and curiouser!"
    assert sent["assistant"] == "char"
    assert sent["context"] == {"character": "alice", "temperature": 0.2, "trial": 1}
    system, question = sent["payload"]["messages"]
    assert "Alice" in system.content and question.content == "How are you?"


def test_module_attribute_names_an_unregistered_factory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "unit_rpa_module.py").write_text(
        "class Plain:\n"
        "    def __init__(self, request):\n        self.name = request.character.name\n"
        "    async def areply(self, messages):\n        return f'{self.name} here.'\n"
        "def make(request):\n    return Plain(request)\n"
        "ONE = Plain.__new__(Plain)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        agent = build_rpa("unit_rpa_module:make", RPARequest(load_character("jay-gatsby")))
        assert asyncio.run(agent.areply([HumanMessage("Hi")])) == "Jay Gatsby here."
        assert rpa_provenance("unit_rpa_module:make").kind == "module"
        with pytest.raises(InputError, match="not a factory"):
            build_rpa("unit_rpa_module:ONE", RPARequest(load_character("alice")))
        with pytest.raises(InputError, match="has no attribute"):
            build_rpa("unit_rpa_module:nothing", RPARequest(load_character("alice")))
    finally:
        sys.modules.pop("unit_rpa_module", None)


def test_a_failing_factory_is_one_line_naming_plugin_and_character(counting: CountingFactory) -> None:
    def broken(request: RPARequest) -> NamedRPA:
        raise RuntimeError("no weights for this character")

    register_rpa("unit-broken-factory", broken)
    try:
        with pytest.raises(ConfigurationError, match=r"'rpa:unit-broken-factory'.*'alice'.*no weights"):
            build_rpa("rpa:unit-broken-factory", RPARequest(load_character("alice")))
    finally:
        _REGISTRY.pop("unit-broken-factory", None)


# -- injected objects and factories ------------------------------------------------------


def test_one_injected_object_is_refused_for_several_characters(tmp_path: Path) -> None:
    spec = ExperimentSpec(characters=["alice", "jay-gatsby"], scales=[SCALE])
    with pytest.raises(InputError, match=r"one RecordingRPA object cannot play 2 characters") as info:
        asyncio.run(run_experiment(spec, tmp_path / "exp", rpa=RecordingRPA(), assessor=er_assessor()))
    assert "\n" not in str(info.value) and "rpa=lambda request" in str(info.value)
    assert not (tmp_path / "exp").exists()  # refused before anything is written


def test_the_graph_refuses_an_object_asked_to_play_a_second_character() -> None:
    graph = build_pipeline_graph(rpa=RecordingRPA(), assessor=er_assessor()).compile()
    asyncio.run(graph.ainvoke({"character": "alice", "scale": SCALE}))
    with pytest.raises(InputError, match="cannot play 2 characters"):
        asyncio.run(graph.ainvoke({"character": "jay-gatsby", "scale": SCALE}))


def test_an_injected_object_plays_one_character_and_a_factory_several(tmp_path: Path) -> None:
    one = ExperimentSpec(characters=["alice"], scales=[SCALE])
    asyncio.run(run_experiment(one, tmp_path / "a", rpa=RecordingRPA(), assessor=er_assessor()))
    (rec,) = results.run_records(tmp_path / "a")
    assert rec.provenance.rpa is not None and rec.provenance.rpa.kind == "object"
    assert rec.provenance.rpa.name == "graph_fakes.RecordingRPA"
    factory = CountingFactory()
    two = ExperimentSpec(characters=["alice", "jay-gatsby"], scales=[SCALE])
    asyncio.run(run_experiment(two, tmp_path / "b", rpa=factory, assessor=er_assessor()))
    assert sorted(r.character.id for r in factory.requests) == ["alice", "jay-gatsby"]
    assert {r.provenance.rpa.kind for r in results.run_records(tmp_path / "b")} == {"factory"}  # type: ignore[union-attr]


# -- everywhere a model spec goes ------------------------------------------------------


def test_run_model_takes_an_rpa_spec(
    tmp_path: Path, counting: CountingFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "--character", "alice", "--scale", SCALE, "--model", "rpa:unit-counting?tone=warm",
            "--assessor", "fake:neutral", "--dir", str(tmp_path / "exp")]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    (rec,) = results.run_records(tmp_path / "exp")
    assert rec.rpa_model == "rpa:unit-counting?tone=warm" and rec.assessor_model == "fake:neutral"
    assert rec.transcript[0]["answer"].startswith("Alice at 0/0 (warm)")


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("rpa:nobody", "no RPA registered as 'nobody'"),
        ("unit-counting", "named rpa:unit-counting"),
        ("no_such_pkg_xyz.mod:make", "unknown provider"),
        ("langgraph:char@http://127.0.0.1:9", "no LangGraph server accepts connections"),
    ],
)
def test_run_model_errors_are_one_line(
    tmp_path: Path, counting: CountingFactory, capsys: pytest.CaptureFixture[str], model: str, expected: str
) -> None:
    argv = ["run", "--character", "alice", "--scale", SCALE, "--model", model, "--assessor", "fake:neutral",
            "--dir", str(tmp_path / "exp")]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0], err
    assert not (tmp_path / "exp").exists()


def test_run_without_assessor_uses_the_rpa_model(counting: CountingFactory) -> None:
    spec = single_run_spec("alice", SCALE, model="rpa:unit-counting?model=fake:echo")
    assert spec.assessor_models == ["fake:echo"] and spec.interviewer_model == "fake:echo"
    bare = single_run_spec("alice", SCALE, model="rpa:unit-counting")
    assert bare.assessor_models == ["local"]  # the default, not the RPA spec


def test_experiment_spec_rpa_models(tmp_path: Path, counting: CountingFactory) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump({"characters": ["alice"], "scales": [SCALE],
                                    "rpa_models": ["rpa:unit-counting", "fake:echo"]}))  # fmt: skip
    assert load_spec(path).rpa_models == ["rpa:unit-counting", "fake:echo"]
    path.write_text(yaml.safe_dump({"characters": ["alice"], "scales": [SCALE], "rpa_models": ["rpa:x?y"]}))
    with pytest.raises(InputError) as info:
        load_spec(path)
    assert info.value.field == "rpa_models[0]" and "key=value" in info.value.detail


def test_preflight_checks_what_an_rpa_spec_needs(
    monkeypatch: pytest.MonkeyPatch, counting: CountingFactory
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    check_models([("rpa model", "rpa:unit-counting")])
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        check_models([("rpa model", "rpa:endpoint?model=openai:gpt-4o-mini")])
    with pytest.raises(ConfigurationError, match="rpa model 'rpa:nobody': rpa: no RPA registered"):
        check_models([("rpa model", "rpa:nobody")])


def test_studio_context_takes_an_rpa_spec(counting: CountingFactory) -> None:
    from personascope.graphs.pipeline import graph  # the graph langgraph.json serves

    ctx = Context(rpa_model="rpa:unit-counting?tone=studio", assessor_model="fake:neutral")
    out = asyncio.run(graph.ainvoke({"character": "alice", "scale": SCALE}, context=ctx))
    assert out["transcript"][0]["answer"].startswith("Alice at 0/0 (studio)")
    assert out["result"]["provenance"]["rpa"]["name"] == "unit-counting"


def test_behavior_subjects_are_built_by_the_spec(tmp_path: Path, counting: CountingFactory) -> None:
    subjects = build_subjects(["alice", "jay-gatsby"], "rpa:unit-counting", [0.0, 1.0], 2, tmp_path)
    assert len(subjects) == 8 and len(counting.requests) == 8
    assert subjects[-1].key == "jay-gatsby|rpa:unit-counting|1|1"
    last = counting.requests[-1]
    assert (last.character.id, last.temperature, last.trial) == ("jay-gatsby", 1.0, 1)


def test_provenance_names_package_and_masks_credentials(counting: CountingFactory) -> None:
    model = rpa_provenance("fake:echo")
    assert (model.kind, model.name, model.params, model.package) == (
        "model",
        "character",
        {"model": "fake:echo"},
        "personascope",
    )
    masked = rpa_provenance("rpa:unit-counting?api_key=sk-secret&tone=dry")
    assert masked.params == {"api_key": "***", "tone": "dry"}


# -- the kit ------------------------------------------------------------------------------


def test_check_rpa_cli_passes_a_conforming_spec(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-rpa", "rpa:character?model=fake:echo", "--no-memories", "--timeout", "10"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in CHECKS) and "conforms" in out


def test_check_rpa_cli_fails_leakage_across_characters(capsys: pytest.CaptureFixture[str]) -> None:
    GossipRPA.board.clear()
    register_rpa("unit-gossip", GossipRPA)
    try:
        code = main(["check-rpa", "rpa:unit-gossip", "--no-memories", "--timeout", "10"])
    finally:
        _REGISTRY.pop("unit-gossip", None)
    out = capsys.readouterr().out
    # isolated within a character, leaking across characters: only the kit's factory check sees it
    assert code == 1 and "does not conform: no leakage across characters\n" in out, out


def test_check_rpa_cli_cannot_build_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-rpa", "rpa:nobody"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_check_rpa_works_inside_a_running_event_loop() -> None:
    async def notebook_cell() -> bool:
        return check_rpa("rpa:character?model=fake:echo", timeout=10).passed

    assert asyncio.run(notebook_cell())


def test_the_readme_factory_works_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    start = readme.index("```python\nfrom langchain_core.messages import SystemMessage")
    code = readme[start + len("```python\n") : readme.index("```", start + 10)]
    (tmp_path / "readme_rpas.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        report = check_rpa("readme_rpas:build_my_rpa?model=fake:echo", timeout=10)
    finally:
        sys.modules.pop("readme_rpas", None)
    assert report.passed and not report.get("deterministic at temperature 0").skipped, str(report)  # type: ignore[union-attr]
