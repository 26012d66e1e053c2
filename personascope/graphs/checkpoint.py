"""Checkpointers for experiments: SQLite in the experiment directory, or PostgreSQL.

The SQLite saver is LangGraph's own ``SqliteSaver`` driven from one dedicated thread.
``AsyncSqliteSaver`` goes through aiosqlite, which hops to its thread and back for every
cursor, execute, commit and close, four hops per checkpoint write; an interview writes
one checkpoint per answer, so those hops were the largest part of the engine's own
cost per model call (benchmarks/bench_engine.py: 1.17 → below 1 ms). Here each
checkpoint operation is one hop, and the single worker thread serialises access to the
connection. Durability is unchanged: each write is its own committed transaction, and
WAL mode with ``synchronous=NORMAL`` keeps committed writes across a killed process.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
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
    """``SqliteSaver`` with async methods that run on one dedicated thread."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__(conn)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="personascope-checkpoint")

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
        await self._call(self.put_writes, config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        await self._call(self.delete_thread, thread_id)

    async def aget_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, Any]:
        return await self._call(lambda: self.get_delta_channel_history(config=config, channels=channels))

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.conn.close()


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
