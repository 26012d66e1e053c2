"""The real embedded model: role-play answers and schema-valid ratings (slow, marked)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel

from personascope.agents import local_server
from personascope.agents.models import LocalChatOpenAI, ModelParams, resolve_model

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None, reason="the [local] extra is not installed"
    ),
]

INTROVERT = (
    "I avoid parties and crowds. I spend my evenings alone with my books, I rarely "
    "talk to strangers and I find large gatherings exhausting."
)
EXTRAVERT = (
    "I adore parties! I love meeting new people, I talk to everyone in the room, "
    "I organise gatherings every week and I love being the center of attention."
)
# Anchors and an explicit direction matter for a 1.5B model: without "higher = more
# extraverted" it sometimes maps "very introverted" to 5 (measured while writing this test).
RATER = (
    "You rate how extraverted a person is from their answer. Scale: 1 = very introverted, "
    "2 = somewhat introverted, 3 = neutral, 4 = somewhat extraverted, 5 = very extraverted. "
    "Higher scores mean MORE extraverted; an introverted person gets a LOW score. Reply in "
    "JSON with a brief analysis, then the score."
)


class Rating(BaseModel):
    analysis: str
    score: Literal[1, 2, 3, 4, 5]


def _alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


@pytest.mark.parametrize("name", ["smollm2", "qwen2.5-1.5b"])
def test_embedded_model_role_plays_and_rates(name: str) -> None:
    model = resolve_model(f"local:{name}", ModelParams(max_tokens=160, temperature=0.0))
    assert isinstance(model, LocalChatOpenAI)
    server = local_server._SHARED[str(local_server.model_path(name))]
    pid = server.pid
    assert pid is not None and server.host == "127.0.0.1"
    try:
        answer = model.invoke(
            [
                (
                    "system",
                    "You are Sherlock Holmes, the detective of 221B Baker Street. Stay in "
                    "character and answer in two sentences.",
                ),
                ("user", "Watson here. Do you enjoy large parties?"),
            ]
        )
        assert isinstance(answer.content, str) and len(answer.content.split()) >= 5
        rater = model.with_structured_output(Rating)
        low = rater.invoke([("system", RATER), ("user", f"Answer: {INTROVERT}")])
        high = rater.invoke([("system", RATER), ("user", f"Answer: {EXTRAVERT}")])
        assert isinstance(low, Rating) and isinstance(high, Rating)
        if name == "qwen2.5-1.5b":
            assert low.score <= 2, low
            assert high.score >= 4, high
    finally:
        local_server.stop_all()
    assert not _alive(pid), "the server process must be gone after stop"
    assert not local_server._LIVE


def test_qwen_weights_are_verified() -> None:
    path = local_server.qwen_weights()
    marker = path.with_name(path.name + ".verified")
    assert marker.read_text().startswith(local_server.QWEN_SHA256)
    assert path.stat().st_size > 900_000_000
    assert os.access(path, os.R_OK)


def test_serve_model_command_serves_and_stops_cleanly() -> None:
    import signal
    import subprocess
    import sys
    import time

    import httpx

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "personascope.cli",
            "serve-model",
            "--model",
            "local:smollm2",
            "--alias",
            "smol",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("serving SmolLM2"), first + (proc.stderr.read() if proc.stderr else "")
        hint = proc.stdout.readline()
        url = hint.split("@", 1)[1].rstrip("'\n")
        assert url.startswith("http://127.0.0.1:")
        r = httpx.post(
            f"{url}/chat/completions",
            timeout=60,
            json={"model": "smol", "max_tokens": 8, "messages": [{"role": "user", "content": "Hello"}]},
        )
        assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"]
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    assert code == 0
    time.sleep(0.5)
    port = url.rsplit(":", 1)[1].split("/")[0]
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2)


def test_default_rpa_on_the_real_model_passes_check_rpa() -> None:
    import uuid

    from personascope.agents.character_agent import CharacterAgent
    from personascope.agents.conformance import check_rpa
    from personascope.memories.characters import load_character
    from personascope.memories.store import MemoryStore

    store = MemoryStore.ephemeral(namespace=f"it{uuid.uuid4().hex[:6]}-")
    model = resolve_model("local:smollm2", ModelParams(max_tokens=80))
    try:
        agent = CharacterAgent(load_character("sherlock-holmes"), model, store)
        report = check_rpa(agent, timeout=120)
        assert report.passed, str(report)
    finally:
        local_server.stop_all()


def test_pipeline_end_to_end_on_the_embedded_model(tmp_path: Path) -> None:
    """One shipped character, a built-in scale, the real llama.cpp server, Chroma and
    MiniLM; the second run of the same experiment makes no model call."""
    import asyncio

    from personascope import results
    from personascope.graphs.runner import ExperimentSpec, run_experiment

    spec = ExperimentSpec(
        characters=["ebenezer-scrooge"],
        scales=["ipip-bfm-50"],
        methods=["er_batch"],
        rpa_models=["local:smollm2"],
        assessor_models=["local:smollm2"],
        interviewer_model="local:smollm2",
        context={"max_tokens": 48},
    )
    try:
        first = asyncio.run(run_experiment(spec, tmp_path))
        assert [o.status for o in first] == ["ran"], first[0].error
        rec = results.load_records(tmp_path)[0]
        assert len(rec["transcript"]) == 50
        assert all(a["answer"] for a in rec["transcript"]), rec["failures"]
        assert rec["usage"]["rpa"], "token counts are recorded"
        df = results.load(tmp_path)
        assert len(df) == 5
        scored = df["score"].dropna()
        assert ((scored >= 10) & (scored <= 50)).all()
        cache = tmp_path / "llm-cache.sqlite"
        size = cache.stat().st_size
        second = asyncio.run(run_experiment(spec, tmp_path))
        assert [o.status for o in second] == ["done"]
        assert cache.stat().st_size == size
    finally:
        local_server.stop_all()


def test_item_judgement_reads_the_embedded_models_probabilities() -> None:
    """The embedded server returns token log-probabilities, and oc_item scores from them:
    an unambiguous "yes" lands above the midpoint, an unambiguous "no" below it."""
    import asyncio

    from personascope.agents.assessors import Entry, Participant
    from personascope.agents.judgement import judge_item
    from personascope.scales import load_scale

    scale = load_scale("ipip-bfm-50")
    model = resolve_model("local", ModelParams(max_tokens=3))
    who = Participant(names=["Holmes"], experimenter="Watson")
    yes = Entry(
        "E1",
        "Are you the life of the party?",
        "Yes, absolutely, that describes me.",
        "Am the life of the party.",
    )
    no = Entry(
        "E1",
        "Are you the life of the party?",
        "No, not at all, that does not describe me.",
        "Am the life of the party.",
    )
    try:
        (d_yes, r_yes), (d_no, _) = (
            asyncio.run(judge_item(model, scale, yes, who)),
            asyncio.run(judge_item(model, scale, no, who)),
        )
        assert d_yes is not None and d_no is not None
        assert r_yes.extra["source"] == "logprobs" and 0 < d_yes.coverage <= 1
        assert d_yes.expected > 3 > d_no.expected
    finally:
        local_server.stop_all()


def test_expert_rating_reads_the_rating_tokens_probabilities() -> None:
    """er_prob on the embedded server: the rating after "Score:" is read from its token
    log-probabilities; introverted answers rate below extraverted ones on Extraversion."""
    import asyncio

    from personascope.agents.assessors import Entry, Participant
    from personascope.agents.rating import rate_dimension_probabilities
    from personascope.scales import load_scale

    scale = load_scale("ipip-bfm-50")
    dim = scale.dimension_map["extraversion"]
    model = resolve_model("local", ModelParams(max_tokens=400))
    who = Participant(names=["Holmes"], experimenter="Watson")
    quiet = [
        Entry("E1", "Do you enjoy parties?", INTROVERT),
        Entry("E2", "Do you talk a lot?", "No, I rarely speak."),
    ]
    loud = [
        Entry("E1", "Do you enjoy parties?", EXTRAVERT),
        Entry("E2", "Do you talk a lot?", "Yes, all the time!"),
    ]
    try:
        (d_quiet, r_quiet), (d_loud, r_loud) = (
            asyncio.run(rate_dimension_probabilities(model, scale, dim, quiet, who)),
            asyncio.run(rate_dimension_probabilities(model, scale, dim, loud, who)),
        )
        assert d_quiet is not None and d_loud is not None, (r_quiet.error, r_loud.error)
        assert r_quiet.extra["source"] == "logprobs" and r_loud.extra["source"] == "logprobs"
        assert d_quiet.expected < 3 < d_loud.expected
    finally:
        local_server.stop_all()


def _children(pid: int) -> list[int]:
    out = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                stat = (proc / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(proc.name))
    return out


def test_sigterm_stops_the_embedded_servers(tmp_path: Path) -> None:
    """`kill <pid>` of a run: the model servers it started (in sessions of their own) stop too."""
    import signal
    import subprocess
    import sys
    import time

    cmd = [
        sys.executable,
        "-m",
        "personascope.cli",
        "run",
        "--character",
        "alice",
        "--scale",
        "ipip-bfm-50",
        "--model",
        "local:smollm2",
        "--assessor",
        "local:smollm2",
        "--dir",
        str(tmp_path / "exp"),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ})
    try:
        deadline = time.monotonic() + 120
        servers: list[int] = []
        while time.monotonic() < deadline and not servers and proc.poll() is None:
            servers = _children(proc.pid)
            time.sleep(0.5)
        assert servers, "the run started no model server"
        time.sleep(2)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        assert proc.returncode == 130
        assert proc.stderr is not None and "--resume" in proc.stderr.read().decode()
        time.sleep(1)
        assert not [pid for pid in servers if _alive(pid)], "a model server outlived its run"
    finally:
        if proc.poll() is None:
            proc.kill()
