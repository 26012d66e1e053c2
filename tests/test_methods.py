"""Assessment methods are objects in a registry: adding one is one object in one place."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from personascope import methods, results
from personascope.cli import main
from personascope.errors import ConfigurationError, InputError
from personascope.graphs.context import Context
from personascope.graphs.runner import ExperimentSpec, run_experiment
from personascope.methods import BUILTIN_METHODS, Method, available_methods, get_method, register_method

from graph_fakes import RecordingRPA, er_assessor

THIRD_PARTY = """
from personascope.methods import Method

ER_PAIRS = Method(
    id="er_pairs",
    description="expert rating of two answers at a time",
    questions="open",
    assessor="dimension_rating",
    level="dimension",
    dimension_specific=True,
    batch_size=2,
)
"""


@pytest.fixture
def third_party_method(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Method]:
    """A package outside personascope that ships a method through the entry-point group."""
    (tmp_path / "thirdparty_methods.py").write_text(THIRD_PARTY)
    dist = tmp_path / "thirdparty_methods-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-methods\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[personascope.methods]\ner_pairs = thirdparty_methods:ER_PAIRS\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    methods._load_entry_points.cache_clear()
    yield available_methods()["er_pairs"]
    methods._REGISTRY.pop("er_pairs", None)
    methods._load_entry_points.cache_clear()
    sys.modules.pop("thirdparty_methods", None)


def test_the_six_incharacter_methods() -> None:
    incharacter = ["sr", "sr_cot", "oc", "d_oc", "er_all", "er_batch"]
    assert [m.id for m in BUILTIN_METHODS if m.id in incharacter] == incharacter
    assert {m.id for m in BUILTIN_METHODS} - set(incharacter) == {"oc_item", "sr_prob", "mc", "er_prob"}
    by_id = available_methods()
    item_level = {m for m in by_id if by_id[m].item_level}
    assert item_level == {"sr", "sr_cot", "oc", "d_oc", "oc_item", "sr_prob", "mc"}
    assert by_id["d_oc"].dimension_specific and not by_id["oc"].dimension_specific
    assert by_id["er_all"].batch_size == "all" and by_id["er_batch"].batch_size is None
    assert {m.node for m in BUILTIN_METHODS} == {"parse_self_report", "convert_options", "rate_dimensions"}
    assert by_id["oc_item"].assessor == "item_judgement" and by_id["oc_item"].node == "convert_options"
    assert by_id["sr_cot"].cot and not by_id["sr"].cot


def test_inconsistent_methods_are_refused() -> None:
    with pytest.raises(ValueError, match="dimension level"):
        Method(id="bad", description="", questions="open", assessor="dimension_rating", level="item")
    with pytest.raises(ValueError, match="self_report_parse"):
        Method(id="bad", description="", questions="self_report", assessor="option_conversion", level="item")
    with pytest.raises(ValueError, match="lowercase"):
        Method(id="Bad-Id", description="", questions="open", assessor="option_conversion", level="item")
    with pytest.raises(ValueError, match="already registered"):
        register_method(Method(id="oc", description="other", questions="open", assessor="option_conversion",
                               level="item", batch_size=1))  # fmt: skip


def test_unknown_methods_are_one_line_errors() -> None:
    with pytest.raises(InputError, match="expected one of sr, sr_cot"):
        get_method("ER-batch")
    with pytest.raises(InputError):
        Context(method="ER-batch")


def test_a_broken_plugin_is_a_configuration_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dist = tmp_path / "broken_methods-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-methods\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[personascope.methods]\nnope = no_such_module:X\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    methods._load_entry_points.cache_clear()
    try:
        with pytest.raises(ConfigurationError, match=r"personascope\.methods:nope"):
            available_methods()
    finally:
        monkeypatch.undo()
        methods._load_entry_points.cache_clear()


def test_a_method_from_outside_runs_end_to_end(tmp_path: Path, third_party_method: Method) -> None:
    assessor = er_assessor()  # rates each batch by its number of answers
    spec = ExperimentSpec(characters=["alice"], scales=["ipip-bfm-50"], methods=["er_pairs"])
    outcomes = asyncio.run(run_experiment(spec, tmp_path, rpa=RecordingRPA(), assessor=assessor))
    assert [o.status for o in outcomes] == ["ran"]
    (rec,) = results.run_records(tmp_path)
    assert rec.method == "er_pairs" and rec.status == "complete"
    # batch_size=2 with InCharacter's split: every dimension's 10 answers in batches of 2
    assert {len(r["item_ids"]) for r in rec.dimension_ratings} == {2}
    assert all(s["score"] == 2 * 10 for s in rec.scores.values())  # rating 2 → item mean 2 → SUM of 10
    assert get_method("er_pairs") is third_party_method


def test_cli_accepts_a_registered_method(
    third_party_method: Method, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert "er_pairs" in capsys.readouterr().out


def test_missing_key_fails_fast_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    argv = ["run", "--character", "alice", "--scale", "ipip-bfm-50", "--model", "fake:echo",
            "--assessor", "openai:gpt-4o-mini", "--dir", "exp"]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "OPENAI_API_KEY is not set" in err[0], err
    assert not (tmp_path / "exp").exists(), "nothing may be written before the check"


def test_unreachable_endpoint_fails_fast(tmp_path: Path) -> None:
    from personascope.agents.local_server import free_port

    dead = f"openai-compatible:m@http://127.0.0.1:{free_port()}/v1"
    spec = ExperimentSpec(characters=["alice"], scales=["ipip-bfm-50"], assessor_models=[dead])
    with pytest.raises(ConfigurationError, match="no server accepts connections"):
        asyncio.run(run_experiment(spec, tmp_path / "exp", rpa=RecordingRPA()))
    assert not (tmp_path / "exp").exists()
