"""``personascope behavior build | test``: the occasion-based behaviour test (RealBehavior)."""

from __future__ import annotations

import argparse
import asyncio
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from personascope.cli._common import Subparsers, arg, command, fmt, print_table
from personascope.errors import InputError

if TYPE_CHECKING:
    from personascope.graphs.behavior import BehaviorContext


def _ctx(args: argparse.Namespace) -> BehaviorContext:
    from personascope.graphs.behavior import BehaviorContext

    return BehaviorContext(
        model=args.generator,
        behavior_dir=str(Path(args.dir) / "behavior"),
        n_occasions=args.occasions,
        keep=args.keep,
        n_descriptions=args.descriptions,
    )


def _build(args: argparse.Namespace) -> int:
    from personascope.graphs.behavior import build_behavior
    from personascope.scales import load_scale
    from personascope.scales.loader import read_data_file

    load_scale(args.scale)
    ctx = _ctx(args)
    if args.occasions_file:
        data = read_data_file(Path(args.occasions_file))
        if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
            raise InputError(args.occasions_file, "(top level)", "expected {dimension: [occasion, ...]}")
        Path(ctx.behavior_dir).mkdir(parents=True, exist_ok=True)
        shutil.copy(args.occasions_file, Path(ctx.behavior_dir) / "occasions.yaml")
    metrics = asyncio.run(build_behavior(args.scale, ctx))
    rows = [(d, fmt(m["accuracy"], 3), m["n_train"], m["n_test"]) for d, m in metrics.items()]
    print_table(
        "Behaviour classifiers (held-out validation)", ("dimension", "accuracy", "train", "test"), rows
    )
    return 0


def _test(args: argparse.Namespace) -> int:
    from personascope.graphs.behavior import behavior_test, build_subjects

    ctx = _ctx(args)
    subjects = build_subjects(args.character, args.model, args.temperatures, args.trials, args.dir)
    res = asyncio.run(behavior_test(subjects, ctx, args.dir))
    print_table(
        "Criterion scores (fraction of behaviours at the positive pole)",
        ("subject", "dimension", "CrS", "behaviours"),
        ((r.subject, r.dimension, f"{r.crs:.2f}", r.n_behaviours) for r in res.crs.itertuples()),
    )
    if res.bc is not None:
        print_table(
            "Behavioural consistency (Pearson r of scale score and CrS across subjects)",
            list(res.bc.columns),
            res.bc.itertuples(index=False),
        )
    if res.failed:
        print(f"{res.failed} descriptions failed and were left out (see {res.out_dir / 'test_labels.csv'})")
    return 0


def register(sub: Subparsers) -> None:
    bsub = sub.add_parser("behavior", help="occasion-based behaviour test (RealBehavior)").add_subparsers(
        dest="behavior_command", required=True
    )
    common = (
        arg("--dir", required=True, help="experiment directory (behaviour files go in <dir>/behavior)"),
        arg("--scale", default="ipip-bfm-50"),
        arg("--generator", default="local", help="model spec that generates the dataset"),
        arg("--occasions", type=int, default=40, help="occasions to generate per dimension"),
        arg("--keep", type=int, default=35, help="occasions kept after de-duplication"),
        arg("--descriptions", type=int, default=10, help="behaviours per occasion and polarity"),
    )
    command(
        bsub,
        "build",
        "generate occasions, behaviours and classifiers",
        _build,
        *common,
        arg("--occasions-file", help="your own {dimension: [occasion, ...]} YAML"),
    )
    command(
        bsub,
        "test",
        "classify the tested models' behaviours; CrS and BC",
        _test,
        *common,
        arg("--character", nargs="+", required=True),
        arg("--model", default="local", help="the RPA: a model spec or an RPA spec (rpa:<name>, ...)"),
        arg("--temperatures", type=float, nargs="+", default=[0.0]),
        arg("--trials", type=int, default=1),
    )
