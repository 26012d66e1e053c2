"""``personascope reassess``: assess finished transcripts again, with another assessor or
method, without asking the RPA anything (each run forked at its transcript)."""

from __future__ import annotations

import argparse
from pathlib import Path

from personascope.cli._common import Subparsers, arg, command
from personascope.cli._display import render
from personascope.cli._progress import print_scores
from personascope.methods import method_ids


def _reassess(args: argparse.Namespace) -> int:
    from rich.live import Live

    from personascope.cli._common import console
    from personascope.graphs.progress import ProgressState
    from personascope.graphs.reassess import reassess_sync

    state = ProgressState(runs_total=0)
    with Live(get_renderable=lambda: render(state), console=console(), refresh_per_second=4):
        outcomes = reassess_sync(args.dir, args.method, args.assessor, runs=args.runs, on_event=state.update)
    return print_scores(Path(args.dir), outcomes)


def register(sub: Subparsers) -> None:
    command(
        sub,
        "reassess",
        "assess finished runs again with another assessor or method (forks; the RPA is not asked again)",
        _reassess,
        arg("dir", help="experiment directory"),
        arg("--assessor", required=True, help="assessor model spec"),
        arg("--method", required=True, choices=method_ids(), help="assessment method"),
        arg("--runs", default=None, help="glob on run ids or labels (default: every finished run)"),
    )
