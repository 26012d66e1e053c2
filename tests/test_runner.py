"""Experiments: checkpointed runs, resume after a crash, idempotent re-runs, results store."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml
from langchain_core.messages import BaseMessage

from personascope import results
from personascope.errors import InputError
from personascope.graphs.runner import ExperimentSpec, load_spec, plan_runs, run_experiment

from graph_fakes import RecordingRPA, er_assessor, oc_assessor

SPEC = ExperimentSpec(
    characters=["sherlock-holmes", "jay-gatsby"],
    scales=["ipip-bfm-50"],
    methods=["er_batch", "oc"],
    trials=2,
    concurrency=2,
    run_concurrency=2,
)


def test_plan_runs_cross_product() -> None:
    runs = plan_runs(SPEC)
    assert len(runs) == 2 * 1 * 2 * 1 * 1 * 1 * 2
    assert len({r.run_id for r in runs}) == len(runs)


def test_experiment_then_rerun_makes_no_model_call(tmp_path: Path, database: str | None) -> None:
    rpa = RecordingRPA()
    shared = lambda request: rpa  # noqa: E731 - one recorder for both characters: the test counts calls
    assessor = er_assessor()
    spec = SPEC.model_copy(update={"methods": ["er_batch"], "database": database})
    outcomes = asyncio.run(
        run_experiment(
            spec, tmp_path, rpa=shared, assessor=assessor, rpa_label="fake:rpa", assessor_label="fake:er"
        )
    )
    assert [o.status for o in outcomes] == ["ran"] * 4
    calls = (sum(rpa.asked.values()), assessor.calls)
    assert calls == (4 * 50, 4 * 15)
    again = asyncio.run(
        run_experiment(
            spec, tmp_path, rpa=shared, assessor=assessor, rpa_label="fake:rpa", assessor_label="fake:er"
        )
    )
    assert [o.status for o in again] == ["done"] * 4
    assert (sum(rpa.asked.values()), assessor.calls) == calls  # zero new calls
    df = results.load(tmp_path)
    assert len(df) == 4 * 5 and set(df["rpa_model"]) == {"fake:rpa"}
    for fmt in ("csv", "parquet", "jsonl"):
        out = results.export(tmp_path, tmp_path / f"export.{fmt}", fmt)
        assert out.stat().st_size > 0
    # Where the records and checkpoints went: PostgreSQL leaves no SQLite files behind.
    assert (tmp_path / "results.sqlite").exists() == (database is None)
    assert (tmp_path / "checkpoints.sqlite").exists() == (database is None)


class Crash(BaseException):
    """Stands in for the process being killed (not an Exception: nothing may catch it)."""


class CrashingRPA:
    def __init__(self, crash_after: int) -> None:
        self.crash_after = crash_after
        self.calls: Counter[str] = Counter()
        self.completed: set[str] = set()
        self.armed = True

    async def areply(self, messages: Sequence[BaseMessage]) -> str:
        q = str(messages[-1].content)
        self.calls[q] += 1
        if self.armed and len(self.completed) >= self.crash_after:
            raise Crash()
        await asyncio.sleep(0)
        self.completed.add(q)
        return "I keep to myself."


def test_resume_after_crash_reasks_only_missing_items(tmp_path: Path, database: str | None) -> None:
    spec = ExperimentSpec(
        characters=["sherlock-holmes"],
        scales=["ipip-bfm-50"],
        methods=["oc"],
        run_concurrency=1,
        database=database,
    )
    rpa = CrashingRPA(crash_after=20)
    with pytest.raises(Crash):
        asyncio.run(run_experiment(spec, tmp_path, rpa=rpa, assessor=oc_assessor(4)))
    answered_before = set(rpa.completed)
    assert len(answered_before) == 20
    rpa.armed = False
    outcomes = asyncio.run(run_experiment(spec, tmp_path, rpa=rpa, assessor=oc_assessor(4)))
    assert [o.status for o in outcomes] == ["ran"]
    for q in answered_before:
        assert rpa.calls[q] == 1, f"asked twice although checkpointed: {q}"
    assert len(rpa.calls) == 50
    # The resumed run's result equals an uninterrupted one.
    fresh = asyncio.run(
        run_experiment(
            spec.model_copy(update={"name": "fresh"}),
            tmp_path / "fresh",
            rpa=RecordingRPA("I keep to myself."),
            assessor=oc_assessor(4),
        )
    )
    assert fresh[0].result and outcomes[0].result
    assert fresh[0].result["scores"] == outcomes[0].result["scores"]


def test_spec_errors_are_clear(tmp_path: Path) -> None:
    cases = [
        ({"characters": ["moriarty"], "scales": ["ipip-bfm-50"]}, "characters[0]", "not a shipped"),
        ({"characters": ["alice"], "scales": ["mmpi"]}, "scales[0]", "not a built-in scale"),
        ({"characters": ["alice"], "scales": ["ipip-bfm-50"], "methods": ["vibes"]}, "methods.0", "er_batch"),
        ({"characters": ["alice"], "scales": ["ipip-bfm-50"], "temperatures": [3]}, "temperatures", "[0, 2]"),
        (
            {"characters": ["alice"], "scales": ["ipip-bfm-50"], "rpa_models": ["gpt4"]},
            "rpa_models[0]",
            "unknown provider",
        ),
        ({"characters": [], "scales": ["ipip-bfm-50"]}, "characters", "at least 1"),
        ({"characters": ["alice"], "scales": ["ipip-bfm-50"], "trials": 0}, "trials", "greater than"),
        (
            {"characters": ["alice"], "scales": ["ipip-bfm-50"], "context": {"trial": 3}},
            "context",
            "spec-owned",
        ),
        (
            {"characters": ["alice"], "scales": ["ipip-bfm-50"], "database": "mysql://x"},
            "database",
            "postgresql://",
        ),
    ]
    for data, field, expected in cases:
        path = tmp_path / "spec.yaml"
        path.write_text(yaml.safe_dump(data))
        with pytest.raises(InputError) as info:
            load_spec(path)
        assert info.value.field == field and expected in info.value.detail, str(info.value)


def test_experiments_sharing_a_database_are_kept_apart(tmp_path: Path, postgres_url: str) -> None:
    rpa = RecordingRPA()
    one = SPEC.model_copy(
        update={"methods": ["er_batch"], "trials": 1, "database": postgres_url, "name": "a"}
    )
    two = one.model_copy(update={"name": "b"})
    shared = lambda request: rpa  # noqa: E731 - one recorder for both characters: the test counts calls
    asyncio.run(run_experiment(one, tmp_path / "a", rpa=shared, assessor=er_assessor()))
    asked = sum(rpa.asked.values())
    outcomes = asyncio.run(run_experiment(two, tmp_path / "b", rpa=shared, assessor=er_assessor()))
    # Same runs, other experiment: its own threads, so it runs instead of finding "a" done.
    assert [o.status for o in outcomes] == ["ran", "ran"]
    assert sum(rpa.asked.values()) == 2 * asked
    assert len(results.load_records(tmp_path / "a")) == len(results.load_records(tmp_path / "b")) == 2
    assert len(results.load_records(postgres_url, "a")) == 2


def test_database_from_environment(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = SPEC.model_copy(
        update={"methods": ["er_batch"], "trials": 1, "characters": ["jay-gatsby"], "database": "env:PS_DB"}
    )
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec.model_dump(mode="json")))
    with pytest.raises(InputError) as info:
        load_spec(path)
    assert info.value.field == "database" and "PS_DB" in info.value.detail
    monkeypatch.setenv("PS_DB", postgres_url)
    spec = load_spec(path)
    exp = tmp_path / "exp"
    asyncio.run(run_experiment(spec, exp, rpa=RecordingRPA(), assessor=er_assessor()))
    assert postgres_url not in (exp / "spec.yaml").read_text()  # the password stays out of files
    assert len(results.load(exp)) == 5


def test_the_collector_is_tuned_during_an_experiment_and_restored_after(tmp_path: Path) -> None:
    import gc

    from personascope.graphs.runner import ENGINE_GC_THRESHOLD

    seen: list[int] = []

    class ThresholdRPA(RecordingRPA):
        async def areply(self, messages: Sequence[BaseMessage]) -> str:
            seen.append(gc.get_threshold()[0])
            return await super().areply(messages)

    before = gc.get_threshold()
    spec = SPEC.model_copy(update={"characters": ["sherlock-holmes"], "methods": ["er_batch"], "trials": 1})
    rpa = ThresholdRPA()
    asyncio.run(run_experiment(spec, tmp_path, rpa=lambda request: rpa, assessor=er_assessor()))
    assert seen and min(seen) >= ENGINE_GC_THRESHOLD
    assert gc.get_threshold() == before
