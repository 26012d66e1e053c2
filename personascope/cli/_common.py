"""What every command module shares: the console, number formatting, table printing."""

from __future__ import annotations

import argparse
import math
import shlex
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

Handler = Callable[[argparse.Namespace], int]
Subparsers = Any  # argparse's _SubParsersAction is private
Arg = tuple[Sequence[str], dict[str, Any]]


def console() -> Console:
    return Console(highlight=False, soft_wrap=False, width=max(Console().width, 140))


def fmt(x: Any, digits: int = 2) -> str:
    """A number for a table; ``missing`` for None or NaN."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "missing"
    return f"{float(x):.{digits}f}"


def arg(*names: str, **kwargs: Any) -> Arg:
    """One argparse argument, as data."""
    return names, kwargs


def command(sub: Subparsers, name: str, help: str, handler: Handler, *args: Arg) -> argparse.ArgumentParser:
    """Add a sub-command with its arguments and handler."""
    p: argparse.ArgumentParser = sub.add_parser(name, help=help)
    for names, kwargs in args:
        p.add_argument(*names, **kwargs)
    p.set_defaults(handler=handler)
    return p


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A rich table of already formatted cells; floats get three decimals."""
    table = Table(title=title)
    for col in columns:
        table.add_column(str(col))
    for row in rows:
        table.add_row(*[f"{v:.3f}" if isinstance(v, float) else str(v) for v in row])
    console().print(table)


#: Commands whose work is checkpointed and continues with ``--resume``.
RESUMABLE = ("run", "experiment")


def interrupted_message(argv: Sequence[str]) -> str:
    """The one line printed on Ctrl-C: for a run or an experiment, the command that resumes it."""
    args = list(argv)
    if not args or args[0] not in RESUMABLE:
        return "interrupted"
    again = args if "--resume" in args else [*args, "--resume"]
    return f"interrupted: answers so far are saved; resume with: personascope {shlex.join(again)}"
