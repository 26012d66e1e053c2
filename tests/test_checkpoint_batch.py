"""ThreadedSqliteSaver's batched task writes: each call returns once its rows are
committed, and one failing write fails its own call only."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig

from personascope.graphs.checkpoint import sqlite_saver


def _config(checkpoint_id: str) -> RunnableConfig:
    return {"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": checkpoint_id}}


class Unserialisable:
    def __reduce__(self) -> Any:
        raise TypeError("cannot be written")


def test_concurrent_writes_are_committed_and_a_bad_one_fails_alone(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite"

    async def go() -> list[BaseException | None]:
        with sqlite_saver(db) as saver:
            calls = [
                saver.aput_writes(_config("1"), [("answers", [{"item_id": str(i)}])], f"task{i}")
                for i in range(40)
            ]
            calls.insert(7, saver.aput_writes(_config("1"), [("answers", Unserialisable())], "bad"))
            got = await asyncio.gather(*calls, return_exceptions=True)
            # Committed when each call returned: another connection sees every good write.
            with sqlite3.connect(db) as other:
                rows = other.execute("SELECT task_id FROM writes").fetchall()
            assert sorted(r[0] for r in rows) == sorted(f"task{i}" for i in range(40))
            return got  # type: ignore[return-value]

    got = asyncio.run(go())
    assert sum(g is not None for g in got) == 1 and isinstance(got[7], Exception)


def test_the_saver_still_reads_what_it_wrote(tmp_path: Path) -> None:
    async def go() -> None:
        with sqlite_saver(tmp_path / "c.sqlite") as saver:
            await asyncio.gather(*(saver.aput_writes(_config("1"), [("x", i)], f"task{i}") for i in range(5)))
            # A write after a batch (no transaction left open), and a checkpoint read.
            await saver.aput_writes(_config("1"), [("x", 9)], "task9")
            assert await saver.aget_tuple(_config("1")) is None  # writes only, no checkpoint

    asyncio.run(go())
    with sqlite3.connect(tmp_path / "c.sqlite") as conn:
        assert conn.execute("SELECT count(*) FROM writes").fetchone() == (6,)
