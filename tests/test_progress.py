"""Streaming progress (issue 18, item 1): events from LangGraph's update and custom streams."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from personascope.graphs.progress import ProgressState, RunEvent
from personascope.graphs.runner import ExperimentSpec, plan_runs, run_experiment

from graph_fakes import RecordingRPA, er_assessor

SPEC = ExperimentSpec(
    characters=["sherlock-holmes"],
    scales=["ipip-bfm-50"],
    methods=["er_batch"],
    trials=2,
    concurrency=2,
    run_concurrency=3,
    context={"k": 0, "item_limit": 6},
)


def _run(tmp_path: Path, events: list[RunEvent]) -> list[str]:
    rpa = RecordingRPA()
    run = run_experiment(
        SPEC, tmp_path, rpa=lambda request: rpa, assessor=er_assessor(), on_event=events.append
    )
    outcomes = asyncio.run(run)
    return [o.status for o in outcomes]


def test_a_run_streams_item_events_and_the_display_state_adds_up(tmp_path: Path) -> None:
    events: list[RunEvent] = []
    assert _run(tmp_path, events) == ["ran", "ran"]
    kinds = Counter(e.kind for e in events)
    # item_limit=6: six questions per run, each asked and answered; one assessment, one record
    assert kinds == Counter(started=2, planned=2, asking=12, answered=12, assessed=2, done=2)
    assert all(e.items == 6 for e in events if e.kind == "planned")
    labels = {e.label for e in events}
    assert labels == {p.label for p in plan_runs(SPEC)} and len(labels) == 2
    assert all("assessor=" in label and "#" in label for label in labels)
    # per run: planned before asking, every answer after its asking, done last
    for run in {e.run_id for e in events}:
        mine = [e.kind for e in events if e.run_id == run]
        assert mine[0] == "started" and mine[1] == "planned" and mine[-1] == "done"
        assert mine.index("assessed") > max(i for i, k in enumerate(mine) if k == "answered")

    state = ProgressState(runs_total=2, items_expected=12)
    for e in events:
        state.update(e)
    assert (state.runs_done, state.answered, state.assessed, state.in_flight) == (2, 12, 12, 0)
    assert state.items_total == 12 and state.eta() == 0.0
    assert state.failures == []


def test_a_finished_run_is_one_skipped_event(tmp_path: Path) -> None:
    _run(tmp_path, [])
    events: list[RunEvent] = []
    assert _run(tmp_path, events) == ["done", "done"]
    assert [e.kind for e in events] == ["skipped", "skipped"] and all(e.items == 6 for e in events)


def test_failures_show_as_they_happen() -> None:
    state = ProgressState(runs_total=1, items_expected=2)
    state.update(RunEvent("r", "started", "r label"))
    state.update(RunEvent("r", "planned", "r label", items=2))
    state.update(RunEvent("r", "asking", "r label", item_id="E1"))
    assert state.in_flight == 1 and state.eta() is None  # no rate before the first answer
    state.update(RunEvent("r", "answered", "r label", item_id="E1", error="timeout"))
    assert state.failures == ["r label: item E1: timeout"] and state.in_flight == 0
    state.update(RunEvent("r", "asking", "r label", item_id="E2"))
    state.update(RunEvent("r", "failed", "r label", error="boom"))
    assert state.in_flight == 0 and state.runs_failed == 1 and state.failures[-1].endswith("boom")


def test_dry_run_prints_the_plan_and_calls_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from personascope.cli import main

    args = [
        "run",
        "--character",
        "alice",
        "--scale",
        "ipip-bfm-50",
        "--model",
        "fake:echo",
        "--method",
        "er_batch",
    ]
    assert main([*args, "--dir", str(tmp_path / "x"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    # 50 RPA calls + ER_batch's 15 (10 items per dimension: batches of 4, 3, 3)
    assert "1 run(s) to do, 0 already finished; 65 model calls" in out
    # the CLI's default, oc_item: one judgement per answer
    assert main([*args[:-2], "--dir", str(tmp_path / "z"), "--dry-run"]) == 0
    assert "100 model calls" in capsys.readouterr().out
    assert not (tmp_path / "x").exists()
    assert main([*args, "--dir", str(tmp_path / "y"), "--limit", "5", "--dry-run"]) == 0
    assert "6 model calls" in capsys.readouterr().out


def test_limit_asks_the_first_items_only(tmp_path: Path) -> None:
    from personascope import results
    from personascope.cli import main

    args = ["run", "--character", "alice", "--scale", "ipip-bfm-50", "--model", "fake:echo"]
    main([*args, "--assessor", "fake:neutral", "--limit", "5", "--dir", str(tmp_path)])
    (record,) = results.run_records(tmp_path)
    # the scale's first five items, in its order; the record says the run was shortened
    assert [a["item_id"] for a in record.transcript] == ["E1", "E2", "E3", "E4", "E5"]
    assert record.provenance.parameters["item_limit"] == 5


def test_a_locked_results_store_is_retried_by_the_record_nodes_retry_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from personascope import results
    from personascope.graphs import nodes

    real = nodes.write_record  # type: ignore[attr-defined]
    attempts: list[int] = []

    def flaky(*args: object, **kwargs: object) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise sqlite3.OperationalError("database is locked")
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(nodes, "write_record", flaky)
    spec = SPEC.model_copy(update={"trials": 1})
    rpa = RecordingRPA()
    outcomes = asyncio.run(run_experiment(spec, tmp_path, rpa=lambda request: rpa, assessor=er_assessor()))
    assert [o.status for o in outcomes] == ["ran"] and len(attempts) == 2
    assert len(results.run_records(tmp_path)) == 1

    # a full disk is not retried: the run fails at once
    def full(*args: object, **kwargs: object) -> None:
        attempts.append(1)
        raise sqlite3.OperationalError("database or disk is full")

    attempts.clear()
    monkeypatch.setattr(nodes, "write_record", full)
    other = spec.model_copy(update={"characters": ["jay-gatsby"]})
    failed = asyncio.run(
        run_experiment(other, tmp_path / "b", rpa=lambda request: rpa, assessor=er_assessor())
    )
    assert failed[0].status == "failed" and "disk" in (failed[0].error or "") and len(attempts) == 1


def test_dry_run_counts_a_conversations_turns() -> None:
    """A conversation interview: items × rounds, small talk, one follow-up per item turn at
    most, and one assessment per round (hand count against the conversation's own plan)."""
    from personascope.graphs.conversation import schedule
    from personascope.graphs.plan import estimate_plan
    from personascope.graphs.runner import ExperimentSpec
    from personascope.records import Question

    spec = ExperimentSpec(
        name="conv",
        characters=["alice"],
        scales=["ipip-bfm-50"],
        methods=["oc_item"],
        rpa_models=["fake:echo"],
        assessor_models=["fake:echo"],
        interviewer_model="fake:echo",
        interviews=["conversation"],
        context={"item_limit": 10, "conversation_rounds": 2, "small_talk_every": 5},
    )
    (cost,) = estimate_plan(spec).runs
    qs = [Question(item_id=str(i), dimension="E", statement="", key="+", question="q") for i in range(10)]
    small_talk = sum(1 for p in schedule(qs, 2, 5) if p.kind == "small_talk")
    assert small_talk == 3  # after the 5th, 10th and 15th of 20 item turns
    assert cost.rpa_calls == 20 + small_talk + 20  # item turns, small talk, follow-ups (at most)
    assert cost.interviewer_calls == small_talk + 20  # small talk written, every item answer judged
    assert cost.assessor_calls == 2 * 10  # oc_item: one judgement per answer, per round
    isolated = estimate_plan(spec.model_copy(update={"interviews": ["isolated"]})).runs[0]
    assert (isolated.rpa_calls, isolated.assessor_calls) == (10, 10) and cost.tokens > 4 * isolated.tokens
