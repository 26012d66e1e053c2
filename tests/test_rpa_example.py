"""The worked plug-in example, examples/quoting-rpa, end to end as a user meets it: installed
(scripts/setup.sh does it), listed, named in an experiment spec, run on two characters with a
fake assessor, and passing the conformance kit, on the command line and as its own pytest suite."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
import yaml

from personascope import results
from personascope.cli import main
from personascope.memories.characters import load_character

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "quoting-rpa"


@pytest.fixture(scope="module", autouse=True)
def installed() -> str:
    try:
        return version("personascope-quoting-rpa")
    except PackageNotFoundError:
        pytest.fail(f"the example plug-in is not installed: pip install -e {EXAMPLE} (scripts/setup.sh does)")


def test_listed_with_its_package(capsys: pytest.CaptureFixture[str], installed: str) -> None:
    assert main(["check-rpa", "--list"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if " quoter " in line)
    assert "quoting_rpa:build" in row and "personascope-quoting-rpa" in row and installed in row


def test_named_in_a_spec_and_run_on_two_characters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], installed: str
) -> None:
    spec = tmp_path / "quoter.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "name": "quoter",
                "characters": ["alice", "sherlock-holmes"],
                "scales": ["ipip-bfm-50"],
                "methods": ["er_batch"],
                "rpa_models": ["rpa:quoter?quotes=2"],
                "assessor_models": ["fake:neutral"],
                "interviewer_model": "fake:echo",
            }
        )
    )
    assert main(["experiment", str(spec), "--dir", str(tmp_path / "exp")]) == 0, capsys.readouterr().err
    records = {r.character: r for r in results.run_records(tmp_path / "exp")}
    assert set(records) == {"alice", "sherlock-holmes"}
    for cid, rec in records.items():
        character = load_character(cid)
        assert rec.status == "complete" and rec.rpa_model == "rpa:quoter?quotes=2"
        answers = [a["answer"] or "" for a in rec.transcript]
        assert all(a.startswith(f"Speaking as {character.name}: ") for a in answers)
        # every answer quotes this character's own memories, never the other's
        assert all(any(m in a for m in character.memories) for a in answers)
        prov = rec.provenance.rpa
        assert prov is not None
        assert (prov.kind, prov.name, prov.params) == ("registry", "quoter", {"quotes": "2"})
        assert (prov.package, prov.version) == ("personascope-quoting-rpa", installed)
        assert all(s["score"] == 30.0 for s in rec.scores.values())  # fake:neutral rates 3 -> 10 items x 3


def test_passes_the_kit_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-rpa", "rpa:quoter", "--no-memories", "--timeout", "10"]) == 0
    out = capsys.readouterr().out
    assert "conforms" in out and "skip" not in out  # determinism promised and checked; two characters


def test_its_own_pytest_suite_uses_the_plugin() -> None:
    # What a third party runs: personascope.testing's class and fixture, on its own package.
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=EXAMPLE,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "17 passed" in proc.stdout, proc.stdout[-2000:]
