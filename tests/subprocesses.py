"""Helpers for tests that start the CLI as a child process."""

from __future__ import annotations

import signal


def interruptible() -> None:
    """``preexec_fn`` for a child that the test stops with Ctrl-C (SIGINT).

    A shell starts background jobs with SIGINT ignored (``cmd &``, ``nohup``), the child
    inherits that, and Python then installs no ``KeyboardInterrupt`` handler: the test would
    measure how it was launched, not the CLI. The default disposition is restored before
    the child's Python starts."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
