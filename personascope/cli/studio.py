"""``personascope studio DIR``: LangGraph Studio on an experiment's runs (loopback only)."""

from __future__ import annotations

import argparse

from personascope.cli._common import Subparsers, arg, command


def _studio(args: argparse.Namespace) -> int:
    from personascope.graphs.studio import serve

    serve(args.dir, args.port)
    return 0


def register(sub: Subparsers) -> None:
    command(
        sub,
        "studio",
        "serve an experiment's runs to LangGraph Studio (a copy: forks there leave the experiment as it is)",
        _studio,
        arg("dir", help="experiment directory (SQLite checkpoints)"),
        arg(
            "--port", type=int, default=2025, help="port on 127.0.0.1 (default 2025; langgraph dev uses 2024)"
        ),
    )
