"""``personascope scales list | show | validate``."""

from __future__ import annotations

import argparse
from pathlib import Path

from personascope.cli._common import Subparsers, arg, command, console, print_table


def _list(args: argparse.Namespace) -> int:
    from personascope.scales import list_scales, load_scales_from_dir

    scales = load_scales_from_dir(args.dir) if args.dir else list_scales()
    rows = [
        (
            s.id,
            s.name,
            len(s.items),
            ", ".join(d.id for d in s.dimensions),
            s.scoring.value,
            f"{s.range[0]}–{s.range[1]}",
            len(s.norms),
        )
        for s in scales
    ]
    print_table("Scales", ("id", "name", "items", "dimensions", "scoring", "range", "norms"), rows)
    return 0


def _show(args: argparse.Namespace) -> int:
    from personascope.scales import load_scale

    s = load_scale(args.scale)
    con = console()
    con.print(
        f"[bold]{s.name}[/bold] ({s.id}) — {len(s.items)} items, scoring {s.scoring.value}, "
        f"options {s.range[0]}–{s.range[1]}"
    )
    for label, value in (("Citation", s.citation), ("License", s.license)):
        if value:
            con.print(f"{label}: {value}")
    con.print("Options: " + ", ".join(f"{o.value} = {o.label}" for o in s.response_options))
    rows = []
    for d in s.dimensions:
        its = s.items_of(d.id)
        plus = sum(i.key == "+" for i in its)
        rows.append(
            (
                d.id,
                d.name,
                f"{len(its)} ({plus}/{len(its) - plus})",
                f"{d.poles.low} ↔ {d.poles.high}" if d.poles else "",
                f"{d.reference_alpha.value:.2f}" if d.reference_alpha else "",
                len(s.norms_of(d.id)),
            )
        )
    print_table("Dimensions", ("id", "name", "items (+/−)", "poles", "reference α", "norms"), rows)
    if args.items:
        item_rows = [
            (i.id, i.dimension, i.facet or "", i.key, i.text, i.question(args.lang) or "") for i in s.items
        ]
        print_table("Items", ("id", "dimension", "facet", "key", "text", "interview question"), item_rows)
    return 0


def _validate(args: argparse.Namespace) -> int:
    from personascope.scales import load_scales_from_dir, load_scales_from_file

    for raw in args.paths:
        path = Path(raw)
        for s in load_scales_from_dir(path) if path.is_dir() else load_scales_from_file(path):
            print(f"ok: {path}: {s.id} ({len(s.items)} items, {len(s.dimensions)} dimensions)")
    return 0


def register(sub: Subparsers) -> None:
    ssub = sub.add_parser("scales", help="list, show and validate scales").add_subparsers(
        dest="scales_command", required=True
    )
    command(
        ssub,
        "list",
        "list the built-in scales (or those in --dir)",
        _list,
        arg("--dir", help="a folder of scale files (ours, InCharacter, PsychoBench)"),
    )
    command(
        ssub,
        "show",
        "show one scale",
        _show,
        arg("scale", help="built-in id or path to a scale file"),
        arg("--items", action="store_true", help="also list every item"),
        arg("--lang", default="en", help="language of the interview questions"),
    )
    command(ssub, "validate", "validate scale files or folders", _validate, arg("paths", nargs="+"))
