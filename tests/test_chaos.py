"""Chaos: a full experiment against an endpoint that fails 20 % of requests (marked)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from personascope import results
from personascope.graphs.runner import ExperimentSpec, run_experiment

from faulty_openai import FaultyOpenAI

pytestmark = pytest.mark.integration


def _spec(url: str) -> ExperimentSpec:
    return ExperimentSpec(
        characters=["sherlock-holmes", "jay-gatsby", "alice"],
        scales=["ipip-bfm-50"],
        methods=["er_batch", "oc"],
        rpa_models=[f"openai-compatible:rpa@{url}"],
        assessor_models=[f"openai-compatible:assessor@{url}"],
        trials=2,
        concurrency=4,
        run_concurrency=8,
        # k=0: no memory retrieval, so the test is about faults, not embeddings.
        context={"k": 0, "request_timeout": 1.0, "max_retries": 4, "parse_retries": 2},
    )


def _by_run(exp: Path) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {(r["character"], r["scale"], r["method"], r["trial"]): r for r in results.load_records(exp)}


def test_experiment_survives_twenty_percent_faults(tmp_path: Path) -> None:
    with FaultyOpenAI(fault_rate=0.0) as clean:
        asyncio.run(run_experiment(_spec(clean.base_url), tmp_path / "clean"))
    with FaultyOpenAI(fault_rate=0.2, seed=11) as faulty:
        outcomes = asyncio.run(run_experiment(_spec(faulty.base_url), tmp_path / "faulty"))
    assert all(o.status == "ran" for o in outcomes), [o.error for o in outcomes]
    assert set(faulty.injected) == {
        "500",
        "502",
        "503",
        "429",
        "hang",
        "drop",
        "malformed",
        "empty",
        "ignore_schema",
    }, faulty.injected
    # About 420 distinct calls (RPA answers are cached across the two methods) plus their
    # retries at a 20 % fault rate: about 100 faults; the count depends on arrival order.
    assert sum(faulty.injected.values()) > 80
    expected = _by_run(tmp_path / "clean")
    got = _by_run(tmp_path / "faulty")
    assert got.keys() == expected.keys() and len(got) == 12
    compared = 0
    for key, rec in got.items():
        for a in rec["transcript"]:
            assert (a["answer"] is not None) != (a["error"] is not None), a
            if a["error"]:
                assert a["error_kind"]
        for f in rec["failures"]:
            assert f["reason"] and f["kind"]
        if not rec["failures"]:
            assert rec["scores"] == expected[key]["scores"], key
            assert [a["answer"] for a in rec["transcript"]] == [
                a["answer"] for a in expected[key]["transcript"]
            ]
            compared += 1
    assert compared >= 10, "almost every run should recover from every transient fault"
