"""The ``personascope`` command.

Sub-commands register themselves in :data:`COMMANDS`; each is a function that
receives the parsed arguments and returns an exit code. Bad input is reported as
one line (``error: <file>: <field>: <expected>``) with exit code 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from personascope import __version__
from personascope.errors import InputError

EXIT_INPUT = 2

Handler = Callable[[argparse.Namespace], int]


def _console() -> Console:
    return Console(highlight=False, soft_wrap=False, width=max(Console().width, 140))


# -- scales -------------------------------------------------------------------------


def _cmd_scales_list(args: argparse.Namespace) -> int:
    from personascope.scales import list_scales, load_scales_from_dir

    scales = load_scales_from_dir(args.dir) if args.dir else list_scales()
    table = Table(title="Scales")
    for col in ("id", "name", "items", "dimensions", "scoring", "range", "norms"):
        table.add_column(col)
    for s in scales:
        table.add_row(
            s.id,
            s.name,
            str(len(s.items)),
            ", ".join(d.id for d in s.dimensions),
            s.scoring.value,
            f"{s.range[0]}–{s.range[1]}",
            str(len(s.norms)),
        )
    _console().print(table)
    return 0


def _cmd_scales_show(args: argparse.Namespace) -> int:
    from personascope.scales import load_scale

    s = load_scale(args.scale)
    con = _console()
    con.print(
        f"[bold]{s.name}[/bold] ({s.id}) — {len(s.items)} items, scoring {s.scoring.value}, "
        f"options {s.range[0]}–{s.range[1]}"
    )
    if s.citation:
        con.print(f"Citation: {s.citation}")
    if s.license:
        con.print(f"License: {s.license}")
    opts = ", ".join(f"{o.value} = {o.label}" for o in s.response_options)
    con.print(f"Options: {opts}")
    dims = Table(title="Dimensions")
    for col in ("id", "name", "items (+/−)", "poles", "reference α", "norms"):
        dims.add_column(col)
    for d in s.dimensions:
        its = s.items_of(d.id)
        plus = sum(i.key == "+" for i in its)
        dims.add_row(
            d.id,
            d.name,
            f"{len(its)} ({plus}/{len(its) - plus})",
            f"{d.poles.low} ↔ {d.poles.high}" if d.poles else "",
            f"{d.reference_alpha.value:.2f}" if d.reference_alpha else "",
            str(len(s.norms_of(d.id))),
        )
    con.print(dims)
    if args.items:
        items = Table(title="Items")
        for col in ("id", "dimension", "facet", "key", "text", "interview question"):
            items.add_column(col)
        for i in s.items:
            items.add_row(i.id, i.dimension, i.facet or "", i.key, i.text, i.question(args.lang) or "")
        con.print(items)
    return 0


def _cmd_scales_validate(args: argparse.Namespace) -> int:
    from personascope.scales import load_scales_from_dir, load_scales_from_file

    for raw in args.paths:
        path = Path(raw)
        scales = load_scales_from_dir(path) if path.is_dir() else load_scales_from_file(path)
        for s in scales:
            print(f"ok: {path}: {s.id} ({len(s.items)} items, {len(s.dimensions)} dimensions)")
    return 0


# -- characters ---------------------------------------------------------------------


def _cmd_characters_list(args: argparse.Namespace) -> int:
    from personascope.memories.characters import list_characters

    table = Table(title="Characters")
    for col in ("id", "name", "source", "experimenter", "memories", "labels"):
        table.add_column(col)
    for c in list_characters():
        table.add_row(
            c.id, c.name, c.source.split(",")[0], c.experimenter, str(len(c.memories)), ", ".join(c.labels)
        )
    _console().print(table)
    return 0


def _cmd_characters_show(args: argparse.Namespace) -> int:
    from personascope.memories.characters import load_character

    c = load_character(args.character)
    con = _console()
    con.print(f"[bold]{c.name}[/bold] ({c.id}) — {c.source}")
    con.print(
        f"Aliases: {', '.join(c.aliases) or '—'}; language {c.language}; "
        f"interviewed by {c.experimenter}; {len(c.memories)} memories"
    )
    con.print(c.description.strip())
    for scale, dims in c.labels.items():
        con.print(f"Labels {scale}: " + ", ".join(f"{d}={lab.type}" for d, lab in dims.items()))
    if args.memories:
        for i, m in enumerate(c.memories):
            con.print(f"[{i}] {m}")
    return 0


def _cmd_characters_validate(args: argparse.Namespace) -> int:
    from personascope.memories.characters import load_character_file

    for raw in args.paths:
        c = load_character_file(raw)
        print(f"ok: {raw}: {c.id} ({len(c.memories)} memories)")
    return 0


def _cmd_characters_index(args: argparse.Namespace) -> int:
    import time

    from personascope.memories.characters import load_character
    from personascope.memories.store import MemoryStore

    c = load_character(args.character)
    store = MemoryStore(path=args.store)
    t = time.perf_counter()
    store.index(c)
    action = "indexed" if store.indexed else "up to date"
    print(f"{c.id}: {action} ({len(c.memories)} memories) in {time.perf_counter() - t:.1f}s at {args.store}")
    if args.query:
        for m in store.retrieve(c, args.query, k=args.k):
            print(f"- {m}")
    return 0


# -- score --------------------------------------------------------------------------


def read_answers(path: Path) -> dict[str, float | None]:
    """Read an answers file: a mapping ``{item_id: value or null}``, optionally
    under an ``answers:`` key. Raises :class:`InputError` when malformed."""
    from personascope.scales.loader import read_data_file

    data = read_data_file(path)
    if isinstance(data, dict) and isinstance(data.get("answers"), dict):
        data = data["answers"]
    if not isinstance(data, dict) or not data:
        raise InputError(path, "answers", "expected a non-empty mapping of item id to answer")
    answers: dict[str, float | None] = {}
    for key, value in data.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise InputError(path, f"answers[{key}]", f"expected a number or null, got {value!r}")
        answers[str(key)] = None if value is None else float(value)
    return answers


def _fmt(x: float | None, digits: int = 2) -> str:
    return "missing" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _cmd_score(args: argparse.Namespace) -> int:
    from personascope.scales import load_scale
    from personascope.scales.scoring import ScoringError

    scale = load_scale(args.scale)
    answers = read_answers(Path(args.answers))
    try:
        result = scale.score(answers, max_missing=args.max_missing, band=args.band)
    except ScoringError as exc:
        raise InputError(args.answers, "answers", str(exc)) from None
    if args.json:
        print(json.dumps(result.model_dump(mode="json"), indent=2))
        return 0
    table = Table(title=f"{scale.name} — scores ({scale.scoring.value})")
    for col in ("dimension", "score", "range", "item mean", "type", "answered", "norm (z / T / %ile)"):
        table.add_column(col)
    for dim in scale.dimensions:
        d = result.dimensions[dim.id]
        lo, hi = scale.score_bounds(dim.id)
        norm = ""
        if d.norms:
            n = d.norms[0]
            norm = f"{n.z:+.2f} / {n.t:.0f} / {n.percentile:.0f}  ({n.population})"
            if len(d.norms) > 1:
                norm += f" +{len(d.norms) - 1} more"
        table.add_row(
            dim.name,
            _fmt(d.score),
            f"{lo:g}–{hi:g}",
            _fmt(d.item_mean),
            d.type or "—",
            f"{d.n_answered}/{d.n_items}" + (" (prorated)" if d.prorated else ""),
            norm,
        )
    _console().print(table)
    return 0


# -- run / experiment / results -----------------------------------------------------


def _progress_runner(
    spec: Any, exp_dir: Path, executor: str = "local", address: str | None = None
) -> list[Any]:
    import asyncio

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from personascope.graphs.runner import plan_runs, run_experiment

    total = len(plan_runs(spec))
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[last]}"),
        console=_console(),
        transient=False,
    ) as progress:
        task = progress.add_task(spec.name, total=total, last="")

        def done(outcome: Any) -> None:
            p = outcome.plan
            progress.update(
                task,
                advance=1,
                last=f"{p.character} {p.method} t={p.temperature:g} #{p.trial}: {outcome.status}",
            )

        if executor == "ray":
            from personascope.graphs.executors import run_with_ray

            return run_with_ray(spec, exp_dir, address=address, on_done=done)
        return asyncio.run(run_experiment(spec, exp_dir, on_done=done))


def _print_scores(exp_dir: Path, outcomes: list[Any]) -> int:
    import pandas as pd

    from personascope import results

    failed = [o for o in outcomes if o.status == "failed"]
    for o in failed:
        print(f"error: run {o.plan.run_id} failed: {o.error}", file=sys.stderr)
    ids = {o.plan.run_id for o in outcomes}
    df = results.load(exp_dir)
    df = df[df["run_id"].isin(ids)]
    if df.empty:
        return 1
    table = Table(title=f"Scores ({exp_dir})")
    for col in (
        "character",
        "scale",
        "method",
        "dimension",
        "score",
        "item mean",
        "type",
        "trials",
        "failed items",
    ):
        table.add_column(col)
    keys = ["character", "scale", "method", "dimension"]
    for key, g in df.groupby(keys, sort=False):
        score = g["score"].astype("float64")
        mean = score.mean() if score.notna().any() else None
        sd = score.std(ddof=0) if score.notna().sum() > 1 else None
        types = "/".join(sorted({t for t in g["type"] if isinstance(t, str)})) or "—"
        table.add_row(
            *[str(k) for k in key],
            "missing" if mean is None else (f"{mean:.2f}" + (f" ± {sd:.2f}" if sd is not None else "")),
            _fmt(g["item_mean"].astype("float64").mean()),
            types,
            str(len(g)),
            str(int(pd.to_numeric(g["n_failed"]).sum())),
        )
    _console().print(table)
    return 1 if failed else 0


def _cmd_run(args: argparse.Namespace) -> int:
    from personascope.graphs.runner import ExperimentSpec, check_spec

    context: dict[str, Any] = {}
    if args.max_tokens:
        context["max_tokens"] = args.max_tokens
    spec = ExperimentSpec(
        name=f"{args.character} × {args.scale}",
        characters=[args.character],
        scales=[args.scale],
        methods=[args.method],
        rpa_models=[args.model],
        assessor_models=[args.assessor or args.model],
        interviewer_model=args.assessor or args.model,
        temperatures=[args.temperature],
        trials=args.trials,
        run_concurrency=args.concurrency,
        context=context,
    )
    check_spec(spec, "command line")
    exp_dir = Path(args.dir or Path("runs") / f"{args.character}-{args.scale}-{args.method}")
    return _print_scores(exp_dir, _progress_runner(spec, exp_dir))


def _cmd_experiment(args: argparse.Namespace) -> int:
    from personascope.graphs.runner import load_spec

    spec = load_spec(args.spec)
    exp_dir = Path(args.dir or Path("runs") / Path(args.spec).stem)
    if (exp_dir / "spec.yaml").exists() and not args.resume:
        raise InputError(
            exp_dir,
            "--resume",
            "this experiment directory already has runs: pass "
            "--resume to continue it (finished runs are not re-run) or choose --dir",
        )
    if args.executor == "ray" and not spec.database:
        raise InputError(
            args.spec, "database", "the Ray executor needs a shared postgresql:// database (or env:NAME)"
        )
    if args.address and args.executor != "ray":
        raise InputError(
            "command line", "--address", "only the ray executor joins a cluster (--executor ray)"
        )
    return _print_scores(exp_dir, _progress_runner(spec, exp_dir, args.executor, args.address))


def _cmd_results_export(args: argparse.Namespace) -> int:
    from personascope import results

    exp = Path(args.experiment_dir)
    if not results.has_results(exp):
        raise InputError(exp, results.RESULTS_FILE, "no results in this directory")
    out = results.export(exp, args.out, args.format)
    print(f"wrote {out}")
    return 0


# -- evaluate / report --------------------------------------------------------------


def _labels_frame(characters: list[str], labels_file: str | None) -> Any:
    """Labels as rows (character, scale, dimension, score, type): from a file or the profiles."""
    import pandas as pd

    from personascope.memories.characters import load_character
    from personascope.scales.loader import read_data_file

    rows: list[dict[str, Any]] = []
    if labels_file:
        data = read_data_file(Path(labels_file))
        if isinstance(data, dict) and "annotation" in data:  # InCharacter characters_labels.json
            data = data["annotation"]
        if not isinstance(data, dict):
            raise InputError(
                labels_file, "(top level)", "expected {character: {scale: {dimension: {type, score}}}}"
            )
        for char, scales in data.items():
            for scale, dims in (scales or {}).items():
                for dim, lab in (dims or {}).items():
                    if not isinstance(lab, dict) or lab.get("type") not in ("H", "L", "X"):
                        raise InputError(labels_file, f"{char}.{scale}.{dim}.type", "expected H, L or X")
                    score = lab.get("score")
                    rows.append(
                        {
                            "character": char,
                            "scale": scale,
                            "dimension": dim,
                            "type": lab["type"],
                            "score": float(score) if isinstance(score, int | float) else float("nan"),
                        }
                    )
    else:
        for char in characters:
            for scale, dims in load_character(char).labels.items():
                for dim, lab in dims.items():
                    rows.append(
                        {
                            "character": char,
                            "scale": scale,
                            "dimension": dim,
                            "type": lab.type,
                            "score": float("nan") if lab.score is None else lab.score,
                        }
                    )
    return pd.DataFrame(rows, columns=["character", "scale", "dimension", "score", "type"])


def _experiment_report(args: argparse.Namespace, out_dir: Path) -> Any:
    import pandas as pd

    from personascope import results
    from personascope.evaluation.report import build_report

    exp = Path(args.experiment_dir)
    if not results.has_results(exp):
        raise InputError(exp, results.RESULTS_FILE, "no results in this directory (run an experiment first)")
    scores = results.load(exp)
    labels = _labels_frame(sorted(scores["character"].unique()), args.labels)
    crs_file = exp / "behavior" / "crs.csv"
    crs = pd.read_csv(crs_file) if crs_file.exists() else None
    return build_report(scores, results.load_items(exp), results.load_records(exp), out_dir, labels, crs)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    out_dir = Path(args.out or Path(args.experiment_dir) / "evaluation")
    report = _experiment_report(args, out_dir)
    con = _console()
    for name, table in report.tables.items():
        t = Table(title=name)
        for col in table.columns:
            t.add_column(str(col))
        for row in table.itertuples(index=False):
            t.add_row(*[f"{v:.3f}" if isinstance(v, float) else str(v) for v in row])
        con.print(t)
        table.to_csv(out_dir / f"{name.replace(' ', '_').replace('/', '-')}.csv", index=False)
    for note in report.notes:
        con.print(note)
    print(f"wrote {len(report.tables)} CSV tables and {len(report.figures)} figures to {out_dir}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from personascope.evaluation.report import write_html

    out = Path(args.out)
    figures_dir = Path(args.figures or out.with_suffix("")).resolve()
    report = _experiment_report(args, figures_dir)
    write_html(report, out, f"personascope report — {Path(args.experiment_dir).name}")
    print(f"wrote {out} ({len(report.figures)} figures, {len(report.tables)} tables; PNGs in {figures_dir})")
    return 0


# -- behaviour test -----------------------------------------------------------------


def _behavior_ctx(args: argparse.Namespace) -> Any:
    from personascope.graphs.behavior import BehaviorContext

    return BehaviorContext(
        model=args.generator,
        behavior_dir=str(Path(args.dir) / "behavior"),
        n_occasions=args.occasions,
        keep=args.keep,
        n_descriptions=args.descriptions,
    )


def _cmd_behavior_build(args: argparse.Namespace) -> int:
    import asyncio

    from personascope.graphs.behavior import build_behavior
    from personascope.scales import load_scale

    load_scale(args.scale)
    ctx = _behavior_ctx(args)
    if args.occasions_file:
        import shutil

        from personascope.scales.loader import read_data_file

        data = read_data_file(Path(args.occasions_file))
        if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
            raise InputError(args.occasions_file, "(top level)", "expected {dimension: [occasion, ...]}")
        Path(ctx.behavior_dir).mkdir(parents=True, exist_ok=True)
        shutil.copy(args.occasions_file, Path(ctx.behavior_dir) / "occasions.yaml")
    metrics = asyncio.run(build_behavior(args.scale, ctx))
    table = Table(title="Behaviour classifiers (held-out validation)")
    for col in ("dimension", "accuracy", "train", "test"):
        table.add_column(col)
    for dim, m in metrics.items():
        table.add_row(dim, _fmt(m["accuracy"], 3), str(m["n_train"]), str(m["n_test"]))
    _console().print(table)
    return 0


def _cmd_behavior_test(args: argparse.Namespace) -> int:
    import asyncio

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from personascope import results
    from personascope.agents.character_agent import CharacterAgent
    from personascope.agents.models import ModelParams, resolve_model
    from personascope.evaluation.behavior import behavioral_consistency_table, subject_keys
    from personascope.graphs.behavior import Subject, run_behavior_test
    from personascope.memories.characters import load_character
    from personascope.memories.store import MemoryStore

    ctx = _behavior_ctx(args)
    if not (Path(ctx.behavior_dir) / "classifiers" / "metrics.json").exists():
        raise InputError(ctx.behavior_dir, "classifiers", "run `personascope behavior build` first")
    exp = Path(args.dir)
    store = MemoryStore(path=exp / "memories")
    subjects = []
    for char in args.character:
        character = load_character(char)
        for t in args.temperatures:
            for trial in range(args.trials):
                model = resolve_model(
                    args.model,
                    ModelParams(
                        temperature=t,
                        trial=trial,
                        seed=trial,
                        max_tokens=120,
                        cache_path=exp / "llm-cache.sqlite",
                    ),
                )
                subjects.append(
                    Subject(
                        f"{char}|{args.model}|{t:g}|{trial}", CharacterAgent(character, model, store, k=2)
                    )
                )
    labels, crs = asyncio.run(run_behavior_test(subjects, ctx))
    out = Path(ctx.behavior_dir)
    labels.to_csv(out / "test_labels.csv", index=False)
    crs.to_csv(out / "crs.csv", index=False)
    table = Table(title="Criterion scores (fraction of behaviours at the positive pole)")
    for col in ("subject", "dimension", "CrS", "behaviours"):
        table.add_column(col)
    for row in crs.itertuples(index=False):
        table.add_row(str(row.subject), str(row.dimension), f"{row.crs:.2f}", str(row.n_behaviours))
    _console().print(table)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    pivot = crs.pivot_table(index="dimension", columns="subject", values="crs")
    pivot.plot.bar(ax=ax)
    ax.set_ylim(0, 1)
    ax.set_ylabel("CrS")
    ax.set_title("Criterion scores per dimension (RealBehavior Fig. 5)", fontsize=9)
    ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(out / "crs.png", dpi=110)
    plt.close(fig)
    if results.has_results(exp):
        scores = results.load(exp)
        scores["subject"] = subject_keys(scores)
        bc = behavioral_consistency_table(scores[["subject", "dimension", "score"]], crs)
        bc.to_csv(out / "bc.csv", index=False)
        bt = Table(title="Behavioural consistency (Pearson r of scale score and CrS across subjects)")
        for col in ("dimension", "subjects", "BC"):
            bt.add_column(col)
        for row in bc.itertuples(index=False):
            bt.add_row(str(row.dimension), str(row.subjects), _fmt(float(str(row.BC)), 3))
        _console().print(bt)
    failed = labels["label"].isna().sum()
    if failed:
        print(f"{failed} descriptions failed and were left out (see {out / 'test_labels.csv'})")
    return 0


# -- serve-model --------------------------------------------------------------------


def _cmd_serve_model(args: argparse.Namespace) -> int:
    import signal
    import threading

    from personascope.agents.local_server import LlamaServer, LocalModelError, model_path
    from personascope.agents.models import parse_spec

    spec = parse_spec(args.model)
    if spec.provider != "local":
        raise InputError(args.model, "model", "serve-model serves local models only (local:...)")
    kwargs = {"n_threads": args.threads} if args.threads else {}
    server = LlamaServer(
        model=model_path(spec.model),
        alias=args.alias,
        host=args.host,
        port=args.port,
        n_ctx=args.ctx,
        **kwargs,
    )
    try:
        server.start()
    except LocalModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"serving {server.model.name} at {server.base_url} (model name {args.alias!r})")
    print(f"use it with: --model 'openai-compatible:{args.alias}@{server.base_url}'", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while server.running and not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


# -- parser -------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="personascope",
        description="Measure the personality of LLMs and role-playing agents.",
    )
    parser.add_argument("--version", action="version", version=f"personascope {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    scales = sub.add_parser("scales", help="list, show and validate scales")
    ssub = scales.add_subparsers(dest="scales_command", required=True)
    p = ssub.add_parser("list", help="list the built-in scales (or those in --dir)")
    p.add_argument("--dir", help="a folder of scale files (ours, InCharacter, PsychoBench)")
    p.set_defaults(handler=_cmd_scales_list)
    p = ssub.add_parser("show", help="show one scale")
    p.add_argument("scale", help="built-in id or path to a scale file")
    p.add_argument("--items", action="store_true", help="also list every item")
    p.add_argument("--lang", default="en", help="language of the interview questions")
    p.set_defaults(handler=_cmd_scales_show)
    p = ssub.add_parser("validate", help="validate scale files or folders")
    p.add_argument("paths", nargs="+")
    p.set_defaults(handler=_cmd_scales_validate)

    chars = sub.add_parser("characters", help="list, show, validate and index characters")
    csub = chars.add_subparsers(dest="characters_command", required=True)
    p = csub.add_parser("list", help="list the shipped characters")
    p.set_defaults(handler=_cmd_characters_list)
    p = csub.add_parser("show", help="show one character")
    p.add_argument("character", help="shipped id or path to a profile file")
    p.add_argument("--memories", action="store_true", help="also print every memory")
    p.set_defaults(handler=_cmd_characters_show)
    p = csub.add_parser("validate", help="validate character profile files")
    p.add_argument("paths", nargs="+")
    p.set_defaults(handler=_cmd_characters_validate)
    p = csub.add_parser("index", help="build (or reuse) a character's memory collection")
    p.add_argument("character", help="shipped id or path to a profile file")
    p.add_argument("--store", default=".personascope/memories", help="Chroma folder")
    p.add_argument("--query", help="also retrieve the memories nearest to this question")
    p.add_argument("-k", type=int, default=4, help="memories to retrieve")
    p.set_defaults(handler=_cmd_characters_index)

    p = sub.add_parser("score", help="score a file of answers with a scale (no LLM)")
    p.add_argument("--scale", required=True, help="built-in id or path to a scale file")
    p.add_argument("--answers", required=True, help="YAML/JSON mapping item id → answer")
    p.add_argument(
        "--max-missing",
        type=float,
        default=0.2,
        help="largest fraction of missing items per dimension (default 0.2)",
    )
    p.add_argument(
        "--band",
        type=float,
        default=0.0,
        help="half-width of the X band around the midpoint, fraction of the span",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(handler=_cmd_score)

    from personascope.graphs.context import METHODS

    p = sub.add_parser("run", help="interview one character with one scale and print the scores")
    p.add_argument("--character", required=True, help="shipped id or profile file")
    p.add_argument("--scale", required=True, help="built-in id or scale file")
    p.add_argument("--method", default="er_batch", choices=METHODS)
    p.add_argument("--model", default="local", help="RPA model spec (default: embedded local model)")
    p.add_argument("--assessor", default=None, help="assessor model spec (default: --model)")
    p.add_argument("--trials", type=int, default=1)
    p.add_argument("--temperature", type=float, default=0.0)
    p.add_argument("--concurrency", type=int, default=4, help="calls in flight within the run")
    p.add_argument("--max-tokens", type=int, default=None, help="longest RPA answer in tokens")
    p.add_argument("--dir", default=None, help="experiment directory (default runs/<char>-<scale>-<method>)")
    p.set_defaults(handler=_cmd_run)

    p = sub.add_parser("experiment", help="run an experiment spec (YAML/JSON)")
    p.add_argument("spec")
    p.add_argument("--dir", default=None, help="experiment directory (default runs/<spec name>)")
    p.add_argument("--resume", action="store_true", help="continue an existing experiment directory")
    p.add_argument(
        "--executor",
        choices=["local", "ray"],
        default="local",
        help="local: this process; ray: one Ray task per chunk of runs (needs a PostgreSQL database)",
    )
    p.add_argument(
        "--address", default=None, help="Ray cluster to join (auto, ray://host:10001); default: start one"
    )
    p.set_defaults(handler=_cmd_experiment)

    res = sub.add_parser("results", help="export results")
    rsub = res.add_subparsers(dest="results_command", required=True)
    p = rsub.add_parser("export", help="export scores (csv, parquet) or full records (jsonl)")
    p.add_argument("experiment_dir")
    p.add_argument("--out", required=True)
    p.add_argument("--format", choices=["csv", "parquet", "jsonl"], default="csv")
    p.set_defaults(handler=_cmd_results_export)

    p = sub.add_parser("evaluate", help="print alignment, faithfulness and norm tables; write CSVs")
    p.add_argument("experiment_dir")
    p.add_argument(
        "--labels",
        help="labels file (InCharacter characters_labels.json or YAML); "
        "default: the characters' profile labels",
    )
    p.add_argument("--out", help="folder for CSVs and figures (default <dir>/evaluation)")
    p.set_defaults(handler=_cmd_evaluate)

    p = sub.add_parser("report", help="write a self-contained HTML report with figures")
    p.add_argument("experiment_dir")
    p.add_argument("--out", required=True, help="the HTML file to write")
    p.add_argument("--labels", help="labels file (default: the characters' profile labels)")
    p.add_argument("--figures", help="folder for the PNGs (default: next to the HTML)")
    p.set_defaults(handler=_cmd_report)

    beh = sub.add_parser("behavior", help="occasion-based behaviour test (RealBehavior)")
    bsub = beh.add_subparsers(dest="behavior_command", required=True)
    for name, handler in (("build", _cmd_behavior_build), ("test", _cmd_behavior_test)):
        p = bsub.add_parser(
            name,
            help="generate occasions, behaviours and classifiers"
            if name == "build"
            else "classify the tested models' behaviours; CrS and BC",
        )
        p.add_argument(
            "--dir", required=True, help="experiment directory (behaviour files go in <dir>/behavior)"
        )
        p.add_argument("--scale", default="ipip-bfm-50")
        p.add_argument("--generator", default="local", help="model spec that generates the dataset")
        p.add_argument("--occasions", type=int, default=40, help="occasions to generate per dimension")
        p.add_argument("--keep", type=int, default=35, help="occasions kept after de-duplication")
        p.add_argument("--descriptions", type=int, default=10, help="behaviours per occasion and polarity")
        p.set_defaults(handler=handler)
        if name == "build":
            p.add_argument("--occasions-file", help="your own {dimension: [occasion, ...]} YAML")
        else:
            p.add_argument("--character", nargs="+", required=True)
            p.add_argument("--model", default="local", help="model spec that plays the characters")
            p.add_argument("--temperatures", type=float, nargs="+", default=[0.0])
            p.add_argument("--trials", type=int, default=1)

    p = sub.add_parser("serve-model", help="run the embedded llama.cpp server in the foreground")
    p.add_argument("--model", default="local", help="local, local:smollm2 or local:/path/model.gguf")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback only)")
    p.add_argument("--port", type=int, default=None, help="port (default: a free one)")
    p.add_argument("--alias", default="local", help="model name the server answers to")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: all cores)")
    p.add_argument("--ctx", type=int, default=4096, help="context size in tokens")
    p.set_defaults(handler=_cmd_serve_model)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT


def _entry() -> Any:  # pragma: no cover - thin wrapper for `python -m`
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    _entry()
