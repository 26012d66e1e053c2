"""One writer per experiment: an exclusive lock held by the process that runs it.

Two processes on one experiment would compute the same thread and task ids and
interleave their checkpoints, so an RPA could receive another conversation's turns.
The lock makes the second process stop before it writes anything:

- SQLite experiments: ``experiment.lock`` in the experiment directory, locked with
  ``flock``; the kernel releases it when the holder exits, however it dies (``kill -9``
  included), so a stale file never blocks a resume. The file names the holder
  (``pid@host``) for the error message only; the flock is what excludes.
- PostgreSQL experiments: a session-level advisory lock keyed by the experiment name,
  held on one connection for the whole run; PostgreSQL releases it when that connection
  closes (or its process dies). The holder is found through ``pg_stat_activity``, where
  the connection names itself ``personascope pid@host``.

Only the driver of a distributed run holds it: its Ray workers coordinate through the
database (checkpoints per run), see :mod:`personascope.graphs.executors`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import socket
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import yaml

from personascope.errors import InputError
from personascope.results import is_postgres_url

LOCK_FILE = "experiment.lock"
SPEC_FILE = "spec.yaml"
# First half of the two-int4 advisory lock key: personascope's experiment locks, apart
# from the schema locks of results.py and checkpoint.py (one-bigint keys never collide
# with two-int4 keys in PostgreSQL).
_PG_NAMESPACE = 0x7073_6578  # "psex"


class ExperimentBusy(InputError):
    """Another process holds the experiment's lock (exit code 2, one line naming it)."""


def holder_id() -> str:
    """How this process names itself to a second one: ``pid@host``."""
    return f"{os.getpid()}@{socket.gethostname()}"


def prepare_experiment_dir(path: str | Path) -> Path:
    """Create the experiment directory and check that files can be written in it.

    An unwritable place (``/proc``, a path under a file, a read-only mount) fails here in
    one line, before any model call, instead of as a traceback from the first write."""
    exp = Path(path)
    try:
        exp.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=exp, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise InputError(exp, "--dir", f"cannot write an experiment here ({exc.strerror or exc})") from None
    return exp


def _pg_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") & 0x7FFF_FFFF


def _busy(exp: Path, holder: str) -> ExperimentBusy:
    return ExperimentBusy(
        exp,
        "lock",
        f"this experiment is being run by process {holder}; wait for it to finish "
        "(then --resume), or choose another --dir",
    )


def write_spec(exp: Path, spec: dict[str, Any]) -> None:
    """``spec.yaml``: what the experiment in ``exp`` runs (replaced atomically, only when
    it changed, so a concurrent reader never sees half a file)."""
    target = exp / SPEC_FILE
    text = yaml.safe_dump(spec, sort_keys=False)
    with contextlib.suppress(OSError, UnicodeDecodeError):
        if target.read_text(encoding="utf-8") == text:
            return
    fd, tmp = tempfile.mkstemp(dir=exp, prefix=".spec-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class ExperimentLock:
    """The experiment's exclusive lock, acquired on construction (:class:`ExperimentBusy`
    when another process holds it) and released by ``close()`` or on leaving a ``with``
    / ``async with`` block."""

    def __init__(self, exp: Path, database_url: str | None, name: str) -> None:
        self.exp = exp
        self._fd: int | None = None
        self._conn: Any = None
        if is_postgres_url(database_url):
            self._acquire_pg(database_url, name)
        else:
            self._acquire_file()

    def _acquire_file(self) -> None:
        fd = os.open(self.exp / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            # The holder writes its name right after locking: an empty file is a holder
            # caught in between.
            holder = os.pread(fd, 256, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise _busy(self.exp, holder) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{holder_id()}\n".encode(), 0)
        self._fd = fd

    def _acquire_pg(self, url: str, name: str) -> None:
        import psycopg

        conn = psycopg.connect(url, autocommit=True, application_name=f"personascope {holder_id()}"[:63])
        key = (_PG_NAMESPACE, _pg_key(name))
        row = conn.execute("SELECT pg_try_advisory_lock(%s::int4, %s::int4)", key).fetchone()
        if row and row[0]:
            self._conn = conn
            return
        try:
            found = conn.execute(
                "SELECT a.application_name, a.client_addr, a.pid FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                "AND l.classid::bigint = %s AND l.objid::bigint = %s AND l.objsubid = 2",
                key,
            ).fetchone()
        finally:
            conn.close()
        holder = "another process"
        if found:
            app, addr, pid = found
            backend = f"backend {pid} from {addr or 'local'}"
            holder = str(app).removeprefix("personascope ") if app else backend
        raise _busy(self.exp, f"{holder} (database experiment {name!r})")

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None
        if self._conn is not None:
            self._conn.close()  # ends the session: PostgreSQL releases its advisory locks
            self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class _NoLock(ExperimentLock):
    def __init__(self) -> None:
        self._fd = None
        self._conn = None


def hold_experiment(
    exp: Path, spec: dict[str, Any], database_url: str | None, name: str, *, hold: bool = True
) -> ExperimentLock:
    """Lock the experiment in ``exp`` (unless ``hold`` is false: a distributed worker,
    whose driver holds it) and record its spec in ``spec.yaml``; release the lock by
    leaving the returned object's ``with`` / ``async with`` block."""
    lock = ExperimentLock(exp, database_url, name) if hold else _NoLock()
    try:
        write_spec(exp, spec)
    except BaseException:
        lock.close()
        raise
    return lock


__all__ = [
    "LOCK_FILE",
    "SPEC_FILE",
    "ExperimentBusy",
    "ExperimentLock",
    "hold_experiment",
    "holder_id",
    "prepare_experiment_dir",
    "write_spec",
]
