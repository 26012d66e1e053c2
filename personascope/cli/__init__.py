"""The ``personascope`` command: one module per command group, each a thin layer over
library functions. Bad input is one line (``error: <file>: <field>: <expected>``) with
exit code 2; so is a missing prerequisite (:class:`ConfigurationError`).
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence

from personascope import __version__
from personascope.cli import (
    behavior,
    characters,
    check_rpa,
    evaluate,
    experiment,
    reassess,
    results,
    run,
    scales,
    score,
    serve,
    studio,
    validate,
    view,
)
from personascope.cli._common import Handler, interrupted_message
from personascope.errors import ConfigurationError, InputError
from personascope.safeio import redact

EXIT_INPUT = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a Ctrl-C
GROUPS = (
    scales,
    characters,
    score,
    run,
    experiment,
    reassess,
    validate,
    results,
    evaluate,
    view,
    behavior,
    serve,
    studio,
    check_rpa,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="personascope", description="Measure the personality of LLMs and RPAs."
    )
    parser.add_argument("--version", action="version", version=f"personascope {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except (InputError, ConfigurationError) as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        # Checkpoints are committed per answer: one line saying how to continue, no traceback.
        print(interrupted_message(sys.argv[1:] if argv is None else argv), file=sys.stderr)
        return EXIT_INTERRUPTED


def _terminate(signum: int, frame: object) -> None:
    # A plain SIGTERM kills Python without running atexit: the embedded model servers (in
    # sessions of their own, so the signal does not reach them) would be left running.
    # As an interrupt, it stops them and says how to resume.
    raise KeyboardInterrupt


def _entry() -> None:  # pragma: no cover - the console script
    signal.signal(signal.SIGTERM, _terminate)
    sys.exit(main())


__all__ = ["EXIT_INPUT", "EXIT_INTERRUPTED", "build_parser", "main"]
