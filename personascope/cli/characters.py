"""``personascope characters list | show | validate | index``."""

from __future__ import annotations

import argparse
import time

from personascope.cli._common import Subparsers, arg, command, console, print_table


def _list(args: argparse.Namespace) -> int:
    from personascope.memories.characters import list_characters

    rows = [
        (c.id, c.name, c.source.split(",")[0], c.experimenter, len(c.memories), ", ".join(c.labels))
        for c in list_characters()
    ]
    print_table("Characters", ("id", "name", "source", "experimenter", "memories", "labels"), rows)
    return 0


def _show(args: argparse.Namespace) -> int:
    from personascope.memories.characters import load_character

    c = load_character(args.character)
    con = console()
    con.print(f"[bold]{c.name}[/bold] ({c.id}) — {c.source}")
    con.print(
        f"Aliases: {', '.join(c.aliases) or '—'}; language {c.language}; "
        f"interviewed by {c.experimenter}; {len(c.memories)} memories"
    )
    con.print(c.description.strip())
    for scale, dims in c.labels.items():
        con.print(f"Labels {scale}: " + ", ".join(f"{d}={lab.type}" for d, lab in dims.items()))
    for i, m in enumerate(c.memories if args.memories else []):
        con.print(f"[{i}] {m}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from personascope.memories.characters import load_character_file

    for raw in args.paths:
        c = load_character_file(raw)
        print(f"ok: {raw}: {c.id} ({len(c.memories)} memories)")
    return 0


def _index(args: argparse.Namespace) -> int:
    from personascope.memories.characters import load_character
    from personascope.memories.store import MemoryStore

    c = load_character(args.character)
    store = MemoryStore(path=args.store)
    t = time.perf_counter()
    store.index(c)
    action = "indexed" if store.indexed else "up to date"
    print(f"{c.id}: {action} ({len(c.memories)} memories) in {time.perf_counter() - t:.1f}s at {args.store}")
    for m in store.retrieve(c, args.query, k=args.k) if args.query else []:
        print(f"- {m}")
    return 0


def register(sub: Subparsers) -> None:
    csub = sub.add_parser("characters", help="list, show, validate and index characters").add_subparsers(
        dest="characters_command", required=True
    )
    who = arg("character", help="shipped id or path to a profile file")
    command(csub, "list", "list the shipped characters", _list)
    command(
        csub,
        "show",
        "show one character",
        _show,
        who,
        arg("--memories", action="store_true", help="also print every memory"),
    )
    command(csub, "validate", "validate character profile files", _validate, arg("paths", nargs="+"))
    command(
        csub,
        "index",
        "build (or reuse) a character's memory collection",
        _index,
        who,
        arg("--store", default=".personascope/memories", help="Chroma folder"),
        arg("--query", help="also retrieve the memories nearest to this question"),
        arg("-k", type=int, default=4, help="memories to retrieve"),
    )
