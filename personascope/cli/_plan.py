"""``--limit`` and ``--dry-run``, shared by ``run`` and ``experiment``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from personascope.cli._common import arg, print_table

LIMIT = arg("--limit", type=int, default=None, metavar="N", help="ask only the first N items of each scale")
DRY_RUN = arg(
    "--dry-run", action="store_true", help="print the plan (runs, calls, token estimate) and call nothing"
)


def limited(spec: Any, limit: int | None) -> tuple[Any, str]:
    """The spec asking only the first ``limit`` items, and the suffix of its default folder
    (a shortened run is kept apart from the full one)."""
    if limit is None:
        return spec, ""
    from personascope.graphs.context import Context

    Context(item_limit=limit)  # a bad N fails here, in one line
    return spec.model_copy(update={"context": {**spec.context, "item_limit": limit}}), f"-first{limit}"


def print_plan(spec: Any, exp_dir: Path) -> int:
    """``--dry-run``: the runs still to do, their calls and a token estimate; nothing is called."""
    from personascope.graphs.plan import estimate_plan

    plan = estimate_plan(spec, exp_dir)
    rows = [
        (r.plan.label, r.items, r.rpa_calls, r.interviewer_calls, r.assessor_calls, f"{r.tokens:,}")
        for r in plan.runs
    ]
    columns = ("run", "items", "RPA calls", "interviewer calls", "assessor calls", "tokens (≤)")
    print_table(f"Plan ({exp_dir}): nothing is called", columns, rows)
    print(
        f"{len(plan.runs)} run(s) to do, {plan.finished} already finished; {plan.calls:,} model calls, "
        f"about {plan.tokens:,} tokens at most"
    )
    return 0
