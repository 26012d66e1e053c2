"""Running with a progress bar and printing the scores: shared by ``run`` and ``experiment``."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from personascope.cli._common import console, fmt, print_table


def run_with_progress(
    spec: Any, exp_dir: Path, executor: str = "local", address: str | None = None
) -> list[Any]:
    """Run (or resume) an experiment with a progress bar; returns the run outcomes."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from personascope.graphs.executors import run_with_ray
    from personascope.graphs.runner import plan_runs, run_experiment

    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, TextColumn("{task.fields[last]}"), console=console()) as progress:
        task = progress.add_task(spec.name, total=len(plan_runs(spec)), last="")

        def done(outcome: Any) -> None:
            p = outcome.plan
            run = f"{p.character} {p.method} {p.assessor_model} t={p.temperature:g} #{p.trial}"
            last = f"{run}: {outcome.status}"
            progress.update(task, advance=1, last=last)

        if executor == "ray":
            return run_with_ray(spec, exp_dir, address=address, on_done=done)
        return asyncio.run(run_experiment(spec, exp_dir, on_done=done))


def print_scores(exp_dir: Path, outcomes: list[Any]) -> int:
    """The scores of these runs, one row per configuration and dimension, and why a run
    lacks a score; exit 1 when a run failed or has no score at all."""
    from personascope import results
    from personascope.evaluation.summary import SUMMARY_KEYS, score_summary, unscored_runs

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
            r["runs"],
            r["failed_items"],
        )
        for _, r in summary.iterrows()
    ]
    columns = (*SUMMARY_KEYS, "score", "item mean", "type", "trials", "failed items")
    print_table(f"Scores ({exp_dir})", columns, rows)
    return 1 if failed or no_score else 0
