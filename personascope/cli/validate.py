"""``personascope validate``: how well a configuration recovers designed personas."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from personascope.cli._common import Subparsers, arg, command, fmt, print_table
from personascope.methods import DEFAULT_METHOD, method_ids


def _ci(row: object, stat: str) -> str:
    value, lo, hi = (getattr(row, f"{stat}{s}") for s in ("", "_lo", "_hi"))
    return f"{fmt(value)} [{fmt(lo)}, {fmt(hi)}]"


def _validate(args: argparse.Namespace) -> int:
    from personascope.graphs.validity import ValiditySpec, run_validity

    spec = ValiditySpec(
        name=f"validity {args.scale}",
        scale=args.scale,
        personas=args.personas,
        graded=args.graded,
        methods=args.method,
        rpa_models=args.rpa,
        assessor_models=args.assessor,
        trials=args.trials,
        interviewer_model=args.assessor[0],
        known_groups=args.known_groups,
        context={"max_tokens": args.max_tokens} if args.max_tokens else {},
    )
    exp = Path(args.dir or Path("runs") / f"validity-{args.scale}")
    outcomes, table = asyncio.run(run_validity(spec, exp))
    columns = (
        "method",
        "rpa_model",
        "assessor_model",
        "dimension",
        "n",
        "r [95% CI]",
        "ρ",
        "H/L acc [95% CI]",
        "bias",
        "Δ/range",
    )
    rows = [
        (
            r.method,
            r.rpa_model,
            r.assessor_model,
            r.dimension,
            r.n,
            _ci(r, "pearson"),
            fmt(r.spearman),
            _ci(r, "hl_accuracy"),
            fmt(r.bias),
            fmt(r.delta),
        )
        for r in table.itertuples()
    ]
    print_table(f"Persona recovery ({exp / 'validity'})", columns, rows)
    failed = [o for o in outcomes if o.status == "failed"]
    for o in failed:
        print(f"error: run {o.plan.run_id} failed: {o.error}")
    return 1 if failed or table.empty else 0


def register(sub: Subparsers) -> None:
    command(
        sub,
        "validate",
        "persona-recovery validity study of a configuration (resumable)",
        _validate,
        arg("--scale", default="ipip-bfm-50", help="built-in id or scale file"),
        arg("--personas", type=int, default=8, help="personas (a power of two; --graded: a multiple of 5)"),
        arg("--graded", action="store_true", help="five levels per dimension instead of high/low"),
        arg(
            "--method", nargs="+", default=[DEFAULT_METHOD], choices=method_ids(), help="methods to validate"
        ),
        arg(
            "--rpa",
            nargs="+",
            default=["local"],
            help="RPA specs that play the personas "
            "(rpa:oracle: unambiguous answers, to validate the assessor alone)",
        ),
        arg("--assessor", nargs="+", default=["local"], help="assessor model specs"),
        arg("--trials", type=int, default=1),
        arg("--max-tokens", type=int, default=None, help="longest RPA answer in tokens (default: run's)"),
        arg(
            "--known-groups",
            action="store_true",
            help="also interview the shipped labelled characters (known-groups check)",
        ),
        arg(
            "--dir", default=None, help="study directory (default runs/validity-<scale>); re-running resumes"
        ),
    )
