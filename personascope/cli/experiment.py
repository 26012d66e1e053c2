"""``personascope experiment``: run or resume an experiment spec."""

from __future__ import annotations

import argparse
from pathlib import Path

from personascope.cli._common import Subparsers, arg, command
from personascope.cli._plan import DRY_RUN, LIMIT, limited, print_plan
from personascope.cli._progress import print_scores, run_with_progress
from personascope.errors import InputError


def _experiment(args: argparse.Namespace) -> int:
    from personascope.graphs.resume import check_resume
    from personascope.graphs.runner import load_spec

    spec, suffix = limited(load_spec(args.spec), args.limit)
    exp_dir = Path(args.dir or Path("runs") / f"{Path(args.spec).stem}{suffix}")
    if args.dry_run:
        return print_plan(spec, exp_dir)
    check_resume(spec, exp_dir, resume=args.resume, force=args.force)
    if args.executor == "ray" and not spec.database:
        raise InputError(
            args.spec, "database", "the Ray executor needs a shared postgresql:// database (or env:NAME)"
        )
    if args.address and args.executor != "ray":
        raise InputError(
            "command line", "--address", "only the ray executor joins a cluster (--executor ray)"
        )
    return print_scores(exp_dir, run_with_progress(spec, exp_dir, args.executor, args.address))


def register(sub: Subparsers) -> None:
    command(
        sub,
        "experiment",
        "run an experiment spec (YAML/JSON)",
        _experiment,
        arg("spec"),
        arg("--dir", default=None, help="experiment directory (default runs/<spec name>)"),
        arg("--resume", action="store_true", help="continue an existing experiment directory"),
        arg("--force", action="store_true", help="with --resume: continue even though the spec changed"),
        LIMIT,
        DRY_RUN,
        arg(
            "--executor",
            choices=["local", "ray"],
            default="local",
            help="local: this process; ray: one Ray task per chunk of runs (needs a PostgreSQL database)",
        ),
        arg(
            "--address", default=None, help="Ray cluster to join (auto, ray://host:10001); default: start one"
        ),
    )
