"""``personascope evaluate`` and ``personascope report``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from personascope.cli._common import Subparsers, arg, command, console, print_table
from personascope.errors import InputError

if TYPE_CHECKING:
    from personascope.evaluation.report import Report


def _report(args: argparse.Namespace, out_dir: Path) -> Report:
    from personascope import results
    from personascope.evaluation.report import experiment_report
    from personascope.memories.labels import labels_frame

    exp = Path(args.experiment_dir)
    characters = sorted(results.load(exp)["character"].unique()) if results.has_results(exp) else []
    return experiment_report(exp, out_dir, labels_frame(characters, args.labels, args.labels_source))


def _evaluate(args: argparse.Namespace) -> int:
    out_dir = Path(args.out or Path(args.experiment_dir) / "evaluation")
    report = _report(args, out_dir)
    for name, table in report.tables.items():
        print_table(name, list(table.columns), table.itertuples(index=False))
        table.to_csv(out_dir / f"{name.replace(' ', '_').replace('/', '-')}.csv", index=False)
    for note in report.notes:
        console().print(note)
    print(f"wrote {len(report.tables)} CSV tables and {len(report.figures)} figures to {out_dir}")
    return 0


def _html(args: argparse.Namespace) -> int:
    from personascope.evaluation.report import write_html

    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm"):  # never HTML under a .pdf (or any other) name
        raise InputError(
            out, "--out", f"report writes one HTML page: name a .html file, not {out.suffix or out.name!r}"
        )
    figures_dir = Path(args.figures or out.with_suffix("")).resolve()
    report = _report(args, figures_dir)
    write_html(report, out, f"personascope report — {Path(args.experiment_dir).name}")
    print(f"wrote {out} ({len(report.figures)} figures, {len(report.tables)} tables; PNGs in {figures_dir})")
    return 0


def register(sub: Subparsers) -> None:
    labels = arg(
        "--labels",
        help="labels file (InCharacter characters_labels.json or YAML); "
        "default: the characters' profile labels",
    )
    source = arg(
        "--labels-source",
        choices=["annotation", "pdb", "both"],
        default="both",
        help="InCharacter's labels: annotation, PDb, or both for BFI/16P as the paper reports (default)",
    )
    command(
        sub,
        "evaluate",
        "print alignment, faithfulness and norm tables; write CSVs",
        _evaluate,
        arg("experiment_dir"),
        labels,
        source,
        arg("--out", help="folder for CSVs and figures (default <dir>/evaluation)"),
    )
    command(
        sub,
        "report",
        "write a self-contained HTML report with figures",
        _html,
        arg("experiment_dir"),
        arg("--out", required=True, help="the HTML file to write"),
        labels,
        source,
        arg("--figures", help="folder for the PNGs (default: next to the HTML)"),
    )
