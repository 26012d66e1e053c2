"""``personascope run``: interview one character with one scale and print the scores."""

from __future__ import annotations

import argparse
from pathlib import Path

from personascope.cli._common import Subparsers, arg, command
from personascope.cli._plan import DRY_RUN, LIMIT, limited, print_plan
from personascope.cli._progress import print_scores, run_with_progress
from personascope.methods import DEFAULT_METHOD, method_ids


def _run(args: argparse.Namespace) -> int:
    from personascope.graphs.resume import check_resume
    from personascope.graphs.runner import single_run_spec

    context = {"max_tokens": args.max_tokens} if args.max_tokens else None
    spec = single_run_spec(
        args.character,
        args.scale,
        method=args.method or DEFAULT_METHOD,
        model=args.model,
        assessor=args.assessor,
        temperature=args.temperature,
        trials=args.trials,
        concurrency=args.concurrency,
        context=context,
    )
    method = spec.methods[0]
    spec, suffix = limited(spec, args.limit)
    exp_dir = Path(args.dir or Path("runs") / f"{args.character}-{args.scale}-{method}{suffix}")
    if args.dry_run:
        return print_plan(spec, exp_dir)
    # As `experiment`: another run's directory is continued only on request, with its spec.
    check_resume(spec, exp_dir, resume=args.resume, force=args.force)
    return print_scores(exp_dir, run_with_progress(spec, exp_dir))


def register(sub: Subparsers) -> None:
    command(
        sub,
        "run",
        "interview one character with one scale and print the scores",
        _run,
        arg("--character", required=True, help="shipped id or profile file"),
        arg("--scale", required=True, help="built-in id or scale file"),
        arg(
            "--method",
            default=None,
            choices=method_ids(),
            help=f"assessment method (default: {DEFAULT_METHOD}, chosen by the validity study)",
        ),
        arg(
            "--model",
            default=None,
            help="the RPA: a model spec (default: local, the embedded model), rpa:<name>?k=v, "
            "module:factory or langgraph:<assistant>@<url>",
        ),
        arg("--assessor", default=None, help="assessor model spec (default: --model, or its model=)"),
        arg("--trials", type=int, default=None, help="trials per run (default 1)"),
        arg("--temperature", type=float, default=None, help="RPA sampling temperature (default 0)"),
        arg("--concurrency", type=int, default=None, help="calls in flight within the run (default 4)"),
        arg("--max-tokens", type=int, default=None, help="longest RPA answer in tokens"),
        arg("--dir", default=None, help="experiment directory (default runs/<char>-<scale>-<method>)"),
        arg("--resume", action="store_true", help="continue the run already in --dir"),
        arg("--force", action="store_true", help="with --resume: continue even though the options changed"),
        LIMIT,
        DRY_RUN,
    )
