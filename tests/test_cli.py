"""The `personascope` command for scales and scoring."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from personascope.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples/answers-ipip-bfm-50.yaml"


def test_scales_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scales", "list"]) == 0
    out = capsys.readouterr().out
    for sid in ("ipip-neo-120", "ipip-bfm-100", "ipip-bfm-50"):
        assert sid in out
    assert main(["scales", "show", "ipip-neo-120", "--items"]) == 0
    out = capsys.readouterr().out
    assert "Worry about things" in out and "Do you worry about things?" in out


def test_score_example_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["score", "--scale", "ipip-bfm-50", "--answers", str(EXAMPLE), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    dims = result["dimensions"]
    # The example respondent is introverted and very orderly (see the file's answers).
    assert dims["extraversion"]["type"] == "L"
    assert dims["conscientiousness"]["score"] == 49.0
    assert dims["intellect"]["missing"] == ["I7"] and dims["intellect"]["prorated"] is True


def test_score_rejects_bad_answers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "answers.yaml"
    bad.write_text("answers:\n  E1: 9\n")
    assert main(["score", "--scale", "ipip-bfm-50", "--answers", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad}: answers: answers[E1]: 9.0 is outside")
    bad.write_text("answers:\n  E1: often\n")
    assert main(["score", "--scale", "ipip-bfm-50", "--answers", str(bad)]) == 2
    assert "answers[E1]: expected a number or null" in capsys.readouterr().err


def test_console_script_runs() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "personascope.cli", "scales", "show", "nope"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert (
        proc.stderr.strip() == "error: nope: scale: not a built-in scale "
        "(ipip-bfm-100, ipip-bfm-50, ipip-neo-120) nor a scale file"
    )


def test_unknown_subcommand_exits_nonzero() -> None:
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2
