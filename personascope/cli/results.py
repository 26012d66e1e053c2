"""``personascope results export``."""

from __future__ import annotations

import argparse
from pathlib import Path

from personascope.cli._common import Subparsers, arg, command
from personascope.errors import InputError


def _export(args: argparse.Namespace) -> int:
    from personascope import results

    exp = Path(args.experiment_dir)
    fmt = results.export_format(args.out, args.format)  # before reading anything: a bad name fails fast
    if not results.has_results(exp):
        raise InputError(exp, results.RESULTS_FILE, "no results in this directory")
    print(f"wrote {results.export(exp, args.out, fmt)}")
    return 0


def register(sub: Subparsers) -> None:
    rsub = sub.add_parser("results", help="export results").add_subparsers(
        dest="results_command", required=True
    )
    command(
        rsub,
        "export",
        "export scores (csv, parquet) or full records (jsonl)",
        _export,
        arg("experiment_dir"),
        arg("--out", required=True),
        arg(
            "--format", choices=["csv", "parquet", "jsonl"], default=None, help="default: from --out's suffix"
        ),
    )
