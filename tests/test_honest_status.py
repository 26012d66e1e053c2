"""Honest status (issue 15 item 9): a run with no score says why and fails the command;
a full disk is never recorded as the RPA's failure; waiting and answering are timed
apart; truncated answers are flagged; a resumed experiment keeps its spec."""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from langchain_core.messages import BaseMessage

from personascope import results
from personascope.cli import main
from personascope.graphs.resume import check_resume, spec_changes
from personascope.graphs.runner import ExperimentSpec, run_experiment
from personascope.results import SqliteResults

from graph_fakes import RecordingRPA, er_assessor
from stub_openai import StubOpenAI

SPEC = ExperimentSpec(characters=["alice"], scales=["ipip-bfm-50"], methods=["er_batch"], run_concurrency=4)


def test_a_run_where_every_item_failed_says_why_and_exits_nonzero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Every RPA request gets a 400 (not retried); the assessor is never reached.
    with StubOpenAI(default=400) as stub:
        spec = {
            "characters": ["alice"],
            "scales": ["ipip-bfm-50"],
            "rpa_models": [f"openai-compatible:rpa@{stub.base_url}"],
            "assessor_models": [f"openai-compatible:a@{stub.base_url}"],
            "context": {"k": 0, "max_retries": 0},
        }
        (tmp_path / "x.yaml").write_text(yaml.safe_dump(spec))
        code = main(["experiment", str(tmp_path / "x.yaml"), "--dir", str(tmp_path / "exp")])
    err = capsys.readouterr().err
    assert code == 1, err
    reasons = [line for line in err.splitlines() if "no score for" in line]
    assert len(reasons) == 1, err
    assert "50 of 50 items failed: answer " in reasons[0] and "400" in reasons[0], reasons[0]


class SlowRPA(RecordingRPA):
    async def areply(self, messages: Sequence[BaseMessage]) -> str:
        await asyncio.sleep(0.02)
        return await super().areply(messages)


def test_waiting_for_a_slot_is_not_answering_time(tmp_path: Path) -> None:
    spec = SPEC.model_copy(update={"run_concurrency": 1})
    asyncio.run(run_experiment(spec, tmp_path, rpa=SlowRPA(), assessor=er_assessor()))
    (rec,) = results.run_records(tmp_path)
    answering = [a["seconds"] for a in rec.transcript]
    waiting = [a.get("wait_seconds", 0.0) for a in rec.transcript]
    # 50 items one at a time at 20 ms each: the last waits about a second, none answers that long.
    assert max(answering) < 0.5, max(answering)
    assert max(waiting) > 0.5, max(waiting)
    assert rec.timings["answer_seconds"] == pytest.approx(sum(answering), abs=0.01)
    assert rec.timings["wait_seconds"] == pytest.approx(sum(waiting), abs=0.01)


def test_a_cut_answer_is_flagged_truncated(tmp_path: Path) -> None:
    rpa = RecordingRPA(answer="word " * 2000)
    spec = SPEC.model_copy(update={"context": {"max_answer_chars": 500}})
    asyncio.run(run_experiment(spec, tmp_path, rpa=rpa, assessor=er_assessor()))
    (rec,) = results.run_records(tmp_path)
    assert all(a.get("truncated") for a in rec.transcript)
    assert all(len(a["answer"] or "") < 700 for a in rec.transcript)


class DiskFullRPA(RecordingRPA):
    """An RPA whose own storage (memories, cache, the checkpoints of its graph) is full."""

    async def areply(self, messages: Sequence[BaseMessage]) -> str:
        if len(self.seen) >= 5:
            raise OSError(errno.ENOSPC, "No space left on device")
        return await super().areply(messages)


def test_a_full_disk_under_the_rpa_is_not_the_rpas_failure(tmp_path: Path) -> None:
    rpa = DiskFullRPA()
    (outcome,) = asyncio.run(run_experiment(SPEC, tmp_path, rpa=rpa, assessor=er_assessor()))
    assert outcome.status == "failed" and "storage full" in (outcome.error or ""), outcome.error
    assert results.run_records(tmp_path) == [], "no record may blame the RPA for the disk"
    # Space freed: the resume completes, and no answer carries a failure.
    again = RecordingRPA()
    (done,) = asyncio.run(run_experiment(SPEC, tmp_path, rpa=again, assessor=er_assessor()))
    (rec,) = results.run_records(tmp_path)
    assert done.status == "ran" and rec.status == "complete" and not rec.failures
    assert sum(again.asked.values()) <= 50


def test_a_full_disk_while_writing_results_fails_the_run_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(self: SqliteResults, record: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    rpa = RecordingRPA()
    with monkeypatch.context() as m:
        m.setattr(SqliteResults, "write", full)
        (outcome,) = asyncio.run(run_experiment(SPEC, tmp_path, rpa=rpa, assessor=er_assessor()))
    assert outcome.status == "failed" and "storage full" in (outcome.error or "")
    assert results.run_records(tmp_path) == []
    asked = sum(rpa.asked.values())
    (done,) = asyncio.run(run_experiment(SPEC, tmp_path, rpa=rpa, assessor=er_assessor()))
    (rec,) = results.run_records(tmp_path)
    assert done.status == "ran" and rec.status == "complete" and not rec.failures
    assert sum(rpa.asked.values()) == asked, "checkpointed answers are not asked again"


def test_spec_changes_name_each_field() -> None:
    old = SPEC.model_dump(mode="json")
    new = SPEC.model_copy(
        update={"trials": 3, "characters": ["alice", "bob"], "context": {"k": 2}, "database": "env:X"}
    ).model_dump(mode="json")
    assert spec_changes(old, new) == [
        "characters: ['alice'] → ['alice', 'bob']",
        "trials: 1 → 3",
        "database: changed",  # never the URL: it may hold a password
        "+context.k: 2",
    ]
    assert spec_changes(old, old) == []


def test_resume_with_a_changed_spec_needs_force(tmp_path: Path) -> None:
    asyncio.run(run_experiment(SPEC, tmp_path, rpa=RecordingRPA(), assessor=er_assessor()))
    changed = SPEC.model_copy(update={"trials": 2})
    check_resume(SPEC, tmp_path, resume=True)  # the same spec: fine
    with pytest.raises(Exception, match=r"trials: 1 → 2.*--force"):
        check_resume(changed, tmp_path, resume=True)
    check_resume(changed, tmp_path, resume=True, force=True)
    asyncio.run(run_experiment(changed, tmp_path, rpa=RecordingRPA(), assessor=er_assessor()))
    # Continued with the new spec: that is what spec.yaml says now.
    assert yaml.safe_load((tmp_path / "spec.yaml").read_text())["trials"] == 2
