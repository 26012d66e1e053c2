"""The results store: one record per run, with full provenance, in SQLite.

A run is one (character, scale, method, RPA model, assessor model, temperature,
trial). Its record holds the personascope version, model specs and parameters,
prompt template hashes, timings, token counts, every raw answer and assessor
output, every failure with its reason, and the scores.

>>> import personascope.results as results   # doctest: +SKIP
>>> df = results.load("runs/my-experiment")  # one row per run and dimension
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, TypeGuard

import pandas as pd

from personascope.errors import InputError
from personascope.records import RUN_COLUMNS, SCORE_COLUMNS, RunRecord

RESULTS_FILE = "results.sqlite"
_LOCK = threading.Lock()

# SQL types of the indexed columns (RUN_COLUMNS); the whole record is stored beside them.
_SQL_TYPES = {"temperature": ("REAL", "DOUBLE PRECISION"), "trial": ("INTEGER", "INTEGER")}


def _columns_sql(dialect: int) -> str:
    return ",\n    ".join(f"{c} {_SQL_TYPES.get(c, ('TEXT', 'TEXT'))[dialect]} NOT NULL" for c in RUN_COLUMNS)


_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS runs (
    {_columns_sql(0)},
    record TEXT NOT NULL,
    PRIMARY KEY (run_id)
)
"""


def run_id(
    character: str,
    scale: str,
    method: str,
    rpa_model: str,
    assessor_model: str,
    temperature: float,
    trial: int,
    variant: Mapping[str, str] | None = None,
) -> str:
    """Stable id of a run; also the LangGraph thread id of its checkpoints.

    ``variant``: the run's experiment axes that differ from their defaults
    (:func:`personascope.axes.variant_of`); none leaves the id as it always was, so an
    experiment made before the axes resumes under the same ids."""
    parts: list[Any] = [character, scale, method, rpa_model, assessor_model, float(temperature), int(trial)]
    slug = f"{character}|{scale}|{method}|t{temperature:g}|{trial}"
    if variant:
        parts.append(sorted(variant.items()))
        slug += "|" + ",".join(f"{k}={v}" for k, v in variant.items())
    key = json.dumps(parts)
    return f"{slug}|{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def _open(path: Path, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """A connection to a results store, its settings applied and its table created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30, check_same_thread=check_same_thread)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        # As the checkpoints: a committed record survives a killed process; no fsync per
        # commit (every run's record paid one, ~0.1 ms per model call in bench_engine part 2).
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(_SCHEMA)
        conn.commit()
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    conn = _open(path)
    try:
        yield conn
        conn.commit()
    finally:
        conn.close()


def _row(record: RunRecord) -> tuple[Any, ...]:
    return (*record.row().values(), record.model_dump_json())


def _parse(raw: Any) -> RunRecord:
    # Older records (schema version 1) are migrated by RunRecord's validator.
    return RunRecord.model_validate(raw if isinstance(raw, dict) else json.loads(raw))


_PLACEHOLDERS = len(RUN_COLUMNS) + 1
_INSERT = f"INSERT OR REPLACE INTO runs VALUES ({','.join('?' * _PLACEHOLDERS)})"


class _HeldConnection:
    """One connection to an experiment's ``results.sqlite``, opened at its first write and
    kept while the experiment runs (:func:`keep_results_open`).

    A connection per record costs more than its INSERT: the last connection to a WAL
    database to close checkpoints the WAL into the database file, with an fsync, so every
    run's record paid one (5-7 ms of a 45 ms run in bench_engine part 2). Each write is
    still its own committed transaction; the WAL is checkpointed when the experiment ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn: sqlite3.Connection | None = None
        self.holders = 0

    def write(self, row: tuple[Any, ...]) -> None:  # called under _LOCK
        if self.conn is None:  # used from the threads that record runs, one at a time
            self.conn = _open(self.path, check_same_thread=False)
        try:
            self.conn.execute(_INSERT, row)
            self.conn.commit()
        except BaseException:
            self.conn.rollback()
            raise

    def close(self) -> None:  # called under _LOCK
        if self.conn is not None:
            self.conn.close()
            self.conn = None


_HELD: dict[str, _HeldConnection] = {}


@contextmanager
def keep_results_open(experiment_dir: str | Path) -> Iterator[None]:
    """While this block runs, records written to ``experiment_dir``'s SQLite results
    store (from any thread) share one connection, closed when the block ends; nothing is
    opened (nor the file created) until the first record is written."""
    path = Path(experiment_dir) / RESULTS_FILE
    key = os.path.abspath(path)
    with _LOCK:
        held = _HELD.setdefault(key, _HeldConnection(path))
        held.holders += 1
    try:
        yield
    finally:
        with _LOCK:
            held.holders -= 1
            if held.holders == 0:
                del _HELD[key]
                held.close()


class ResultsStore(Protocol):
    """Where run records live: SQLite in the experiment directory, or PostgreSQL."""

    def write(self, record: RunRecord) -> None: ...

    def records(self) -> list[RunRecord]: ...

    def exists(self) -> bool: ...


class SqliteResults:
    """``results.sqlite`` in an experiment directory."""

    def __init__(self, experiment_dir: str | Path) -> None:
        self.path = Path(experiment_dir) / RESULTS_FILE

    def write(self, record: RunRecord) -> None:
        row = _row(record)
        with _LOCK:
            held = _HELD.get(os.path.abspath(self.path))
            if held is not None:
                held.write(row)
                return
            with _connect(self.path) as conn:
                conn.execute(_INSERT, row)

    def records(self) -> list[RunRecord]:
        if not self.path.exists():
            return []
        with _connect(self.path) as conn:
            rows = conn.execute("SELECT record FROM runs ORDER BY run_id").fetchall()
        return [_parse(r[0]) for r in rows]

    def exists(self) -> bool:
        return self.path.exists()


class PostgresResults:
    """Table ``personascope_runs`` in a PostgreSQL database, keyed by (experiment, run id):
    many workers of one experiment, or many experiments, share one database."""

    def __init__(self, url: str, experiment: str) -> None:
        self.url = url
        self.experiment = experiment

    def _conn(self) -> Any:
        import psycopg

        conn = psycopg.connect(self.url, autocommit=True)
        if self.url not in _PG_READY:
            # Concurrent CREATE TABLE IF NOT EXISTS can still collide in PostgreSQL's
            # catalog: an advisory lock serialises workers. It is polled, not waited for
            # inside a statement, which would stall the checkpointer's CREATE INDEX
            # CONCURRENTLY in another worker (see graphs/checkpoint.py).
            while not (conn.execute("SELECT pg_try_advisory_lock(%s)", (_PG_LOCK,)).fetchone() or [0])[0]:
                time.sleep(0.1)
            try:
                conn.execute(_PG_SCHEMA)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_PG_LOCK,))
            _PG_READY.add(self.url)
        return conn

    def write(self, record: RunRecord) -> None:
        with self._conn() as conn:
            conn.execute(
                f"INSERT INTO personascope_runs VALUES ({','.join(['%s'] * (_PLACEHOLDERS + 1))}) "
                "ON CONFLICT (experiment, run_id) DO UPDATE SET status = EXCLUDED.status, "
                "finished_at = EXCLUDED.finished_at, record = EXCLUDED.record",
                (self.experiment, *_row(record)),
            )

    def records(self) -> list[RunRecord]:
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT record FROM personascope_runs WHERE experiment = %s ORDER BY run_id",
                (self.experiment,),
            ).fetchall()
        return [_parse(r[0]) for r in rows]

    def exists(self) -> bool:
        with self._conn() as conn:
            row = conn.execute(
                "SELECT 1 FROM personascope_runs WHERE experiment = %s LIMIT 1", (self.experiment,)
            ).fetchone()
        return row is not None


_PG_READY: set[str] = set()
_PG_LOCK = 0x7065_7273_6F6E  # "person": any fixed 64-bit key

_PG_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS personascope_runs (
    experiment TEXT NOT NULL,
    {_columns_sql(1)},
    record JSONB NOT NULL,
    PRIMARY KEY (experiment, run_id)
)
"""


def is_postgres_url(url: str | None) -> TypeGuard[str]:
    return url is not None and url.startswith(("postgresql://", "postgres://"))


def resolve_url(value: str | None) -> str | None:
    """A database setting as written in a spec: a URL, or ``env:NAME`` to keep the
    password out of files (the spec is copied into the experiment directory)."""
    if value and value.startswith("env:"):
        name = value[4:]
        url = os.environ.get(name)
        if not url:
            raise InputError(value, "database", f"environment variable {name} is not set")
        return url
    return value


def open_store(location: str | Path, experiment: str | None = None) -> ResultsStore:
    """The results store of an experiment.

    ``location`` is an experiment directory (its ``spec.yaml`` says whether the
    experiment lives in PostgreSQL) or a ``postgresql://`` URL with ``experiment``.
    """
    text = str(location)
    if text.startswith("env:"):
        text = resolve_url(text) or ""
    if is_postgres_url(text):
        return PostgresResults(text, experiment or "experiment")
    found = _spec_database(Path(location) / "spec.yaml")
    if found is not None:
        database, name = found
        url = resolve_url(database)
        if is_postgres_url(url):
            return PostgresResults(url, experiment or name)
    return SqliteResults(location)


# spec.yaml's (database, name) by file, with the (mtime, size, inode) they were read at.
_SPEC_DATABASE: dict[str, tuple[tuple[int, int, int], tuple[Any, str]]] = {}


def _spec_database(spec_file: Path) -> tuple[Any, str] | None:
    """An experiment's ``database`` setting (unresolved) and name, from its ``spec.yaml``
    (``None``: no such file). Parsed once per version of the file: every run's record is
    written through :func:`open_store`, and parsing the spec was 2 ms of it."""
    try:
        st = spec_file.stat()
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP):
            return None  # as Path.exists() says False: no spec there
        raise
    key, stamp = os.path.abspath(spec_file), (st.st_mtime_ns, st.st_size, st.st_ino)
    cached = _SPEC_DATABASE.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    from personascope.safeio import read_data_file

    # Bounded, alias-bomb and duplicate-key safe: the directory may come from anyone.
    spec = read_data_file(spec_file) or {}
    if not isinstance(spec, dict):
        raise InputError(spec_file, "(top level)", "expected a mapping (an experiment spec)")
    found = (spec.get("database") or spec.get("checkpointer"), str(spec.get("name") or "experiment"))
    if len(_SPEC_DATABASE) >= 256:
        _SPEC_DATABASE.clear()
    _SPEC_DATABASE[key] = (stamp, found)
    return found


def write_record(location: str | Path, record: RunRecord, experiment: str | None = None) -> None:
    """Insert or replace a run's record (idempotent: a re-run writes the same row)."""
    open_store(location, experiment).write(record)


def run_records(location: str | Path, experiment: str | None = None) -> list[RunRecord]:
    """Every run record of an experiment, typed, ordered by run id."""
    return open_store(location, experiment).records()


def load_records(location: str | Path, experiment: str | None = None) -> list[dict[str, Any]]:
    """Every run record of an experiment in its JSON form (what ``export --format jsonl`` writes)."""
    return [r.model_dump(mode="json") for r in run_records(location, experiment)]


def has_results(location: str | Path) -> bool:
    return open_store(location).exists()


def load(experiment_dir: str | Path) -> pd.DataFrame:
    """Scores as a DataFrame: one row per run and dimension (columns :data:`SCORE_COLUMNS`)."""
    rows = []
    for rec in run_records(experiment_dir):
        run = rec.row()
        for dim, s in rec.scores.items():
            rows.append(
                {
                    **run,
                    "dimension": dim,
                    "score": s.get("score"),
                    "item_mean": s.get("item_mean"),
                    "type": s.get("type"),
                    "n_items": s.get("n_items"),
                    "n_failed": s.get("n_failed", 0),
                    "score_sd": s.get("score_sd"),
                    "confidence": s.get("confidence"),
                }
            )
    return pd.DataFrame(rows, columns=list(SCORE_COLUMNS))


def load_items(experiment_dir: str | Path) -> pd.DataFrame:
    """Item level: one row per run and item with the answer, its value and any failure."""
    rows = []
    for rec in run_records(experiment_dir):
        for a in rec.transcript:
            rows.append(
                {
                    "run_id": rec.run_id,
                    "character": rec.character,
                    "scale": rec.scale,
                    "method": rec.method,
                    "rpa_model": rec.rpa_model,
                    "assessor_model": rec.assessor_model,
                    "temperature": rec.temperature,
                    "trial": rec.trial,
                    "item_id": a["item_id"],
                    "dimension": a["dimension"],
                    "question": a["question"],
                    "answer": a["answer"],
                    "error": a["error"],
                    "value": rec.item_values.get(a["item_id"]),
                }
            )
    return pd.DataFrame(rows)


EXPORT_FORMATS = ("csv", "parquet", "jsonl")


def export_format(out: str | Path, fmt: str | None = None) -> str:
    """The format of an export to ``out``: ``fmt``, or the one its suffix names; a suffix
    that names another format (``x.xlsx``, ``x.csv`` with ``--format parquet``) is refused
    rather than written in a format its name does not say."""
    suffix = Path(out).suffix.lower().lstrip(".")
    if fmt is None:
        if suffix not in EXPORT_FORMATS:
            raise InputError(
                out, "--out", f"cannot write .{suffix or '(no suffix)'}: name a .csv, .parquet or .jsonl file"
            )
        return suffix
    if fmt not in EXPORT_FORMATS:
        raise InputError(out, "--format", f"expected one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")
    if suffix != fmt:
        raise InputError(out, "--out", f"--format {fmt} writes a .{fmt} file, not .{suffix or '(no suffix)'}")
    return fmt


def export(experiment_dir: str | Path, out: str | Path, fmt: str | None = "csv") -> Path:
    """Export scores (csv, parquet) or full records (jsonl); ``fmt=None``: by ``out``'s suffix."""
    fmt = export_format(out, fmt)
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "jsonl":
        with target.open("w", encoding="utf-8") as fh:
            for rec in run_records(experiment_dir):
                fh.write(rec.model_dump_json() + "\n")
    elif fmt == "csv":
        load(experiment_dir).to_csv(target, index=False)
    elif fmt == "parquet":
        load(experiment_dir).to_parquet(target, index=False)
    else:
        raise ValueError(f"fmt: expected csv, parquet or jsonl, got {fmt!r}")
    return target
