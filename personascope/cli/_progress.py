"""Running with a live display and printing the scores: shared by ``run`` and ``experiment``."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from personascope.cli._common import console, fmt, print_table
from personascope.cli._display import render


def run_with_progress(
    spec: Any, exp_dir: Path, executor: str = "local", address: str | None = None
) -> list[Any]:
    """Run (or resume) an experiment with a live display; returns the run outcomes."""
    from rich.live import Live

    from personascope.graphs.executors import run_with_ray
    from personascope.graphs.plan import estimate_plan
    from personascope.graphs.progress import EventKind, ProgressState, RunEvent
    from personascope.graphs.runner import plan_runs, run_experiment

    plans = plan_runs(spec)
    state = ProgressState(runs_total=len(plans), items_expected=estimate_plan(spec, exp_dir).items)
    with Live(get_renderable=lambda: render(state), console=console(), refresh_per_second=4):
        if executor == "ray":  # Ray tasks report whole runs only
            kinds: dict[str, EventKind] = {"ran": "done", "done": "skipped", "failed": "failed"}

            def done(o: Any) -> None:
                state.update(RunEvent(o.plan.run_id, kinds[o.status], o.plan.label, error=o.error))

            return run_with_ray(spec, exp_dir, address=address, on_done=done)
        return asyncio.run(run_experiment(spec, exp_dir, on_event=state.update))


def print_scores(exp_dir: Path, outcomes: list[Any]) -> int:
    """The scores of these runs, one row per configuration and dimension, and why a run
    lacks a score; exit 1 when a run failed or has no score at all."""
    from personascope import results
    from personascope.evaluation.summary import SUMMARY_KEYS, score_summary, unscored_runs, validity_notes

    failed = [o for o in outcomes if o.status == "failed"]
    for o in failed:
        print(f"error: run {o.plan.run_id} failed: {o.error}", file=sys.stderr)
    ids = {o.plan.run_id for o in outcomes}
    records = [r for r in results.run_records(exp_dir) if r.run_id in ids]
    for line in unscored_runs(records):
        print(f"warning: {line}", file=sys.stderr)
    no_score = [r for r in records if all(s.get("score") is None for s in r.scores.values())]
    df = results.load(exp_dir)
    summary = score_summary(df[df["run_id"].isin(ids)])
    if summary.empty:
        return 1
    rows = [
        (
            *(r[k] for k in SUMMARY_KEYS),
            fmt(r["mean"]) + (f" ± {r['sd']:.2f}" if r["sd"] is not None else ""),
            fmt(r["item_mean"]),
            r["types"],
            _confidence(r["score_sd"], r["confidence"]),
            r["runs"],
            r["failed_items"],
        )
        for _, r in summary.iterrows()
    ]
    columns = (*SUMMARY_KEYS, "score", "item mean", "type", "confidence", "trials", "failed items")
    print_table(f"Scores ({exp_dir})", columns, rows)
    for line in validity_notes(summary, exp_dir):
        console().print(line)
    return 1 if failed or no_score else 0


def _confidence(score_sd: float | None, confidence: float | None) -> str:
    # The assessor's uncertainty: SD of the score implied by the item distributions and
    # the mean item confidence (1 − normalised entropy); "—" when it gave none.
    if score_sd is None or pd.isna(score_sd):
        return "—"
    return f"±{score_sd:.2f} ({confidence:.2f})" if confidence is not None else f"±{score_sd:.2f}"
