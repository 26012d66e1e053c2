"""Checkpointers for experiments: SQLite in the experiment directory, or PostgreSQL.

The SQLite saver is LangGraph's own ``SqliteSaver`` driven from one dedicated thread.
``AsyncSqliteSaver`` goes through aiosqlite, which hops to its thread and back for every
cursor, execute, commit and close, four hops per checkpoint write; an interview writes
one checkpoint per answer, so those hops were the largest part of the engine's own
cost per model call (benchmarks/bench_engine.py: 1.17 → below 1 ms). Here each
checkpoint operation is one hop (task writes that queue up meanwhile: one hop and one
transaction together), and the single worker thread serialises access to the
connection. Durability is unchanged: every write is committed before its call returns,
and WAL mode with ``synchronous=NORMAL`` keeps committed writes across a killed process.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)
from langgraph.checkpoint.sqlite import SqliteSaver

from personascope.errors import InputError
from personascope.results import is_postgres_url

P = ParamSpec("P")
T = TypeVar("T")

CHECKPOINT_FILE = "checkpoints.sqlite"
_SETUP_LOCK = 0x6C67_7365_7475_70  # "lgsetup": any fixed 64-bit key


class ThreadedSqliteSaver(SqliteSaver):
    """``SqliteSaver`` with async methods that run on one dedicated thread.

    Task writes (``aput_writes``: one per ``ask_item`` answer) that arrive while the thread
    is busy are written together: one transaction and one wake-up of the event loop for
    the batch instead of one of each per write. Each ``aput_writes`` still returns only
    once its rows are committed, and a write that fails fails its own call only."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__(conn)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="personascope-checkpoint")
        self._pending: list[_PendingWrite] = []
        self._pending_lock = threading.Lock()
        self._batching = False  # read and set on the worker thread only

    @contextmanager
    def cursor(self, transaction: bool = True) -> Iterator[sqlite3.Cursor]:
        # SqliteSaver.cursor, whose commit is left to the end of a batch of writes.
        with self.lock:
            self.setup()
            cur = self.conn.cursor()
            try:
                yield cur
            finally:
                if transaction and not self._batching:
                    self.conn.commit()
                cur.close()

    async def _call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return await self._call(self.get_tuple, config)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        items = await self._call(lambda: list(self.list(config, filter=filter, before=before, limit=limit)))
        for item in items:
            yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return await self._call(self.put, config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        with self._pending_lock:
            self._pending.append(_PendingWrite(loop, done, config, writes, task_id, task_path))
            first = len(self._pending) == 1
        if first:  # otherwise a batch already queued on the thread takes this write too
            self._executor.submit(self._write_pending)
        await done

    def _write_pending(self) -> None:
        """On the worker thread: every write queued so far, in one transaction."""
        with self._pending_lock:
            batch, self._pending = self._pending, []
        errors: list[BaseException | None] = []
        self._batching = True
        try:
            for w in batch:
                try:
                    self.put_writes(w.config, w.writes, w.task_id, w.task_path)
                    errors.append(None)
                except Exception as exc:
                    errors.append(exc)
        finally:
            self._batching = False
        try:
            with self.lock:
                self.conn.commit()
        except Exception as exc:  # a full disk, say: none of the batch is written
            with contextlib.suppress(Exception), self.lock:
                self.conn.rollback()
            errors = [e or exc for e in errors]
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[None], BaseException | None]]] = {}
        for w, error in zip(batch, errors, strict=True):
            by_loop.setdefault(w.loop, []).append((w.done, error))
        for loop, settled in by_loop.items():
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits
                loop.call_soon_threadsafe(_settle, settled)

    async def adelete_thread(self, thread_id: str) -> None:
        await self._call(self.delete_thread, thread_id)

    async def aget_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, Any]:
        return await self._call(lambda: self.get_delta_channel_history(config=config, channels=channels))

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.conn.close()


@dataclass(frozen=True)
class _PendingWrite:
    loop: asyncio.AbstractEventLoop
    done: asyncio.Future[None]
    config: RunnableConfig
    writes: Sequence[tuple[str, Any]]
    task_id: str
    task_path: str


def _settle(settled: list[tuple[asyncio.Future[None], BaseException | None]]) -> None:
    for done, error in settled:
        if done.done():  # cancelled while its batch was written
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)


@contextmanager
def sqlite_saver(path: str | Path) -> Iterator[ThreadedSqliteSaver]:
    """A ``ThreadedSqliteSaver`` on ``path`` (WAL, ``synchronous=NORMAL``), closed on exit."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    # check_same_thread=False: the connection is opened here and used only by the
    # saver's single worker thread (SqliteSaver also holds its own lock).
    conn = sqlite3.connect(str(p), check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    saver = ThreadedSqliteSaver(conn)
    saver.setup()
    try:
        yield saver
    finally:
        saver.close()


@asynccontextmanager
async def open_checkpointer(url: str | None, exp_dir: Path) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """PostgreSQL when ``url`` is a ``postgresql://`` URL, else SQLite in ``exp_dir``."""
    if is_postgres_url(url):
        try:
            from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        except ImportError:
            raise InputError(
                "checkpointer", "postgresql", "install personascope[distributed] to use a PostgreSQL URL"
            ) from None
        async with AsyncPostgresSaver.from_conn_string(url) as saver:
            # Workers starting together would race through LangGraph's migrations; a
            # session-level advisory lock lets one migrate while the others wait.
            # Polling pg_try_advisory_lock, never waiting inside a statement: the
            # migrations build indexes CONCURRENTLY, which wait for every open
            # transaction, including a blocked pg_advisory_lock() call (a deadlock that
            # PostgreSQL does not detect).
            import psycopg

            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as lock:
                while True:
                    row = await (
                        await lock.execute("SELECT pg_try_advisory_lock(%s)", (_SETUP_LOCK,))
                    ).fetchone()
                    if row and row[0]:
                        break
                    await asyncio.sleep(0.1)
                await saver.setup()
            yield saver
        return
    with sqlite_saver(exp_dir / CHECKPOINT_FILE) as saver:
        yield saver
