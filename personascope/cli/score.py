"""``personascope score``: score a file of answers with a scale (no LLM)."""

from __future__ import annotations

import argparse
import json

from personascope.cli._common import Subparsers, arg, command, fmt, print_table
from personascope.errors import InputError


def _score(args: argparse.Namespace) -> int:
    from personascope.scales import load_scale, score_scale
    from personascope.scales.answers import read_answers
    from personascope.scales.scoring import ScoringError

    scale = load_scale(args.scale)
    answers = read_answers(args.answers)
    try:
        result = score_scale(scale, answers, max_missing=args.max_missing, band=args.band)
    except ScoringError as exc:
        raise InputError(args.answers, "answers", str(exc)) from None
    if args.json:
        print(json.dumps(result.model_dump(mode="json"), indent=2))
        return 0
    rows = []
    for dim in scale.dimensions:
        d = result.dimensions[dim.id]
        lo, hi = scale.score_bounds(dim.id)
        norm = ""
        if d.norms:
            n = d.norms[0]
            norm = f"{n.z:+.2f} / {n.t:.0f} / {n.percentile:.0f}  ({n.population})"
            norm += f" +{len(d.norms) - 1} more" if len(d.norms) > 1 else ""
        answered = f"{d.n_answered}/{d.n_items}" + (" (prorated)" if d.prorated else "")
        rows.append(
            (dim.name, fmt(d.score), f"{lo:g}–{hi:g}", fmt(d.item_mean), d.type or "—", answered, norm)
        )
    columns = ("dimension", "score", "range", "item mean", "type", "answered", "norm (z / T / %ile)")
    print_table(f"{scale.name} — scores ({scale.scoring.value})", columns, rows)
    return 0


def register(sub: Subparsers) -> None:
    command(
        sub,
        "score",
        "score a file of answers with a scale (no LLM)",
        _score,
        arg("--scale", required=True, help="built-in id or path to a scale file"),
        arg("--answers", required=True, help="YAML/JSON mapping item id → answer"),
        arg(
            "--max-missing",
            type=float,
            default=0.2,
            help="largest fraction of missing items per dimension (default 0.2)",
        ),
        arg(
            "--band",
            type=float,
            default=0.0,
            help="half-width of the X band around the midpoint, fraction of the span",
        ),
        arg("--json", action="store_true", help="print JSON instead of a table"),
    )
