"""``personascope evaluate`` and ``personascope report``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from personascope.cli._common import Arg, Subparsers, arg, command, console, print_table
from personascope.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from personascope.evaluation.report import Report


def labels_of(args: argparse.Namespace) -> pd.DataFrame:
    """The labels a report shows beside the scores: the file given, or the profiles' of
    the characters that have a profile here (a character measured from elsewhere has none)."""
    from personascope import results
    from personascope.memories.characters import load_character
    from personascope.memories.labels import labels_frame

    exp = Path(args.experiment_dir)
    characters = sorted(results.load(exp)["character"].unique()) if results.has_results(exp) else []
    if not args.labels:
        known = []
        for char in characters:
            try:
                load_character(char)
            except InputError:
                continue
            known.append(char)
        characters = known
    return labels_frame(characters, args.labels, args.labels_source)


def page_of(args: argparse.Namespace, live: bool = False) -> tuple[str, Report]:
    """The report page of ``args.experiment_dir`` and the report behind it."""
    from personascope.evaluation.page import experiment_page

    return experiment_page(args.experiment_dir, labels_of(args), validity=args.validity, live=live)


def _evaluate(args: argparse.Namespace) -> int:
    from personascope.evaluation.page import write_page

    out_dir = Path(args.out or Path(args.experiment_dir) / "evaluation")
    html, report = page_of(args)
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = report.tables
    for name, table in tables.items():
        print_table(name, list(table.columns), table.itertuples(index=False))
        table.to_csv(out_dir / f"{name.replace(' ', '_').replace('/', '-')}.csv", index=False)
    for note in report.notes:
        console().print(note)
    page = write_page(html, out_dir / "report.html")
    print(f"wrote {len(tables)} CSV tables to {out_dir} and the interactive report {page}")
    return 0


def _html(args: argparse.Namespace) -> int:
    from personascope.evaluation.page import write_page

    if Path(args.out).suffix.lower() not in (".html", ".htm"):  # never HTML under a .pdf (or other) name
        raise InputError(args.out, "--out", "report writes one HTML page: name a .html file")
    html, report = page_of(args)
    out = write_page(html, args.out)
    figures = len(report.figures)
    print(f"wrote {out} ({len(html.encode()) / 1e6:.1f} MB; {figures} charts; open it in a browser)")
    return 0


#: The options every report command takes.
REPORT_ARGS: tuple[Arg, ...] = (
    arg("experiment_dir"),
    arg(
        "--labels",
        help="labels file (InCharacter characters_labels.json or YAML); "
        "default: the characters' profile labels",
    ),
    arg(
        "--labels-source",
        choices=["annotation", "pdb", "both"],
        default="both",
        help="InCharacter's labels: annotation, PDb, or both for BFI/16P as the paper reports (default)",
    ),
    arg("--validity", help="a validity study's summary.csv (default <dir>/validity/summary.csv)"),
)


def register(sub: Subparsers) -> None:
    command(
        sub,
        "evaluate",
        "print alignment, faithfulness and norm tables; write CSVs and report.html",
        _evaluate,
        *REPORT_ARGS,
        arg("--out", help="folder for the CSVs and report.html (default <dir>/evaluation)"),
    )
    command(
        sub,
        "report",
        "write one self-contained interactive HTML page: overview, profiles, runs, charts",
        _html,
        *REPORT_ARGS,
        arg("--out", required=True, help="the HTML file to write"),
    )
