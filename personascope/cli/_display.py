"""The live display of a run's progress (what :class:`~personascope.graphs.progress.ProgressState` knows)."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    m, s = divmod(int(seconds), 60)
    return f"{m // 60}:{m % 60:02d}:{s:02d}" if m >= 60 else f"{m:02d}:{s:02d}"


def render(state: Any) -> RenderableType:
    """Items answered and assessed, runs done, calls in flight, tokens, ETA, failures."""
    total = max(1, state.items_total)
    head = Table.grid(padding=(0, 1))
    head.add_row(
        "items", ProgressBar(total=total, completed=state.answered, width=40),
        f"{state.answered}/{state.items_total} answered, {state.assessed} assessed",
        f"ETA {_clock(state.eta())}",
    )  # fmt: skip
    runs = f"runs {state.runs_done}/{state.runs_total} done" + (
        f" ({state.runs_failed} failed)" if state.runs_failed else ""
    )
    head.add_row("", runs, f"{state.in_flight} calls in flight", f"{state.tokens:,} tokens")
    active = Table.grid(padding=(0, 2))
    for run in [r for r in state.runs.values() if r.status in ("running", "assessed")][:8]:
        active.add_row(run.label, f"{run.answered}/{run.planned or '?'}", run.status)
    failures = [f"[red]{line[:200]}[/red]" for line in state.failures[-4:]]
    return Group(head, active, *failures)
