"""``personascope check-rpa SPEC``: the RPA conformance kit on your own agent (exit 0 when
every check passes, 1 otherwise); ``--list``: every name ``rpa:<name>`` can use."""

from __future__ import annotations

import argparse

from rich.markup import escape
from rich.table import Table

from personascope.cli._common import Subparsers, arg, command, console
from personascope.errors import InputError

_STYLE = {"ok": "green", "FAIL": "bold red", "skip": "yellow"}


def _list() -> int:
    from personascope.agents.rpa_specs import rpa_catalog

    table = Table(title="Named RPAs (use as rpa:<name>)")
    for col in ("name", "factory", "package", "version"):
        table.add_column(col)
    for e in rpa_catalog():
        table.add_row(*(escape(x or "-") for x in (e.name, e.source, e.package, e.version)))
    console().print(table)
    return 0


def _check(args: argparse.Namespace) -> int:
    from personascope.agents.conformance import DEFAULT_CHARACTERS, check_rpa
    from personascope.agents.preflight import check_rpa_spec
    from personascope.memories.characters import load_character

    if args.list:
        return _list()
    if not args.spec:
        raise InputError(
            "command line", "SPEC", "give an RPA spec (e.g. rpa:<name>, module:factory) or --list"
        )
    characters = args.character or list(DEFAULT_CHARACTERS)
    for c in characters:
        load_character(c)
    check_rpa_spec(args.spec, "rpa")  # not buildable at all: one line, exit 2
    store = None
    if not args.no_memories:
        from personascope.memories.store import MemoryStore

        store = MemoryStore.ephemeral()
    report = check_rpa(
        args.spec,
        timeout=args.timeout,
        characters=characters,
        store=store,
        deterministic=True if args.deterministic else None,
    )
    table = Table(title=f"RPA conformance: {escape(args.spec)}")
    for col in ("check", "result", "detail"):
        table.add_column(col)
    for c in report.checks:
        table.add_row(escape(c.name), f"[{_STYLE[c.status]}]{c.status}[/]", escape(c.detail))
    console().print(table)
    failed = [c.name for c in report.checks if not c.passed]
    print("conforms" if report.passed else f"does not conform: {', '.join(failed)}")
    return 0 if report.passed else 1


def register(sub: Subparsers) -> None:
    command(
        sub,
        "check-rpa",
        "check that an RPA can be measured (conformance kit); --list the named RPAs",
        _check,
        arg(
            "spec", nargs="?", help="rpa:<name>?k=v, package.module:factory, langgraph:<id>@<url> or a model"
        ),
        arg("--list", action="store_true", help="list every RPA name rpa:<name> can use, with its package"),
        arg(
            "--character",
            action="append",
            help="character to build the RPA for (twice: the pair for the leakage check; default alice, "
            "sherlock-holmes)",
        ),
        arg("--timeout", type=float, default=120.0, help="seconds per answer (default 120)"),
        arg(
            "--deterministic",
            action="store_true",
            help="check determinism at temperature 0 even if unpromised",
        ),
        arg("--no-memories", action="store_true", help="build requests without a memory store (faster)"),
    )
