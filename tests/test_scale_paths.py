"""A scale given as a file path (issue 15 item 8): ``evaluate`` and ``report`` work for an
absolute path, and for a relative one from another folder (the spec records it absolute)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from personascope import results
from personascope.cli import main
from personascope.graphs.runner import ExperimentSpec, run_experiment
from personascope.scales.loader import _builtin_dir

from graph_fakes import RecordingRPA, er_assessor


@pytest.mark.parametrize("relative", [True, False], ids=["relative", "absolute"])
def test_evaluate_and_report_with_a_scale_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], relative: bool
) -> None:
    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    work.mkdir()
    elsewhere.mkdir()
    text = (_builtin_dir() / "ipip-bfm-50.yaml").read_text(encoding="utf-8")
    (work / "my-scale.yaml").write_text(text.replace("id: ipip-bfm-50", "id: my-bfm"), encoding="utf-8")
    monkeypatch.chdir(work)
    scale = "my-scale.yaml" if relative else str(work / "my-scale.yaml")
    exp = tmp_path / "exp"
    spec = ExperimentSpec(characters=["alice"], scales=[scale])
    asyncio.run(run_experiment(spec, exp, rpa=RecordingRPA(), assessor=er_assessor()))
    (rec,) = results.run_records(exp)
    assert rec.scale == str(work / "my-scale.yaml")

    monkeypatch.chdir(elsewhere)
    assert main(["evaluate", str(exp), "--out", "ev"]) == 0, capsys.readouterr().err
    assert main(["report", str(exp), "--out", "r.html"]) == 0, capsys.readouterr().err
    assert (elsewhere / "r.html").stat().st_size > 0
    assert sorted(p.parent for p in (elsewhere / "ev").rglob("*")) == [elsewhere / "ev"] * len(
        list((elsewhere / "ev").iterdir())
    ), "every table is a file directly in --out (safe names)"
