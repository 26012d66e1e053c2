"""The experiment checkpointer: LangGraph's SqliteSaver on one thread, durable across reopen."""

from __future__ import annotations

import asyncio
import operator
from pathlib import Path
from typing import Annotated

import pytest
from langgraph.graph import END, START, StateGraph
from langgraph.types import Send
from typing_extensions import TypedDict

from personascope.graphs.checkpoint import ThreadedSqliteSaver, is_postgres_url, open_checkpointer


class S(TypedDict, total=False):
    items: list[int]
    done: Annotated[list[int], operator.add]


def _graph(calls: list[int], fail_on: set[int]) -> StateGraph[S]:
    async def work(state: dict[str, int]) -> dict[str, list[int]]:
        calls.append(state["i"])
        if state["i"] in fail_on:
            raise RuntimeError("boom")
        return {"done": [state["i"]]}

    g = StateGraph(S)
    g.add_node("work", work)
    g.add_conditional_edges(START, lambda s: [Send("work", {"i": i}) for i in s["items"]], ["work"])
    g.add_edge("work", END)
    return g


def test_writes_survive_reopen_and_resume_skips_finished_tasks(tmp_path: Path) -> None:
    config = {"configurable": {"thread_id": "t1"}}

    async def first() -> None:
        calls: list[int] = []
        async with open_checkpointer(None, tmp_path) as saver:
            assert isinstance(saver, ThreadedSqliteSaver)
            graph = _graph(calls, fail_on={3}).compile(checkpointer=saver)
            with pytest.raises(RuntimeError, match="boom"):
                await graph.ainvoke({"items": [0, 1, 2, 3, 4]}, config)
        assert sorted(calls) == [0, 1, 2, 3, 4]

    async def second() -> tuple[list[int], list[int], int]:
        calls: list[int] = []
        async with open_checkpointer(None, tmp_path) as saver:
            graph = _graph(calls, fail_on=set()).compile(checkpointer=saver)
            out = await graph.ainvoke(None, config)
            history = [c async for c in saver.alist(config)]
            await saver.adelete_thread("t1")
            gone = await saver.aget_tuple(config)
            assert gone is None
        return calls, sorted(out["done"]), len(history)

    asyncio.run(first())
    assert (tmp_path / "checkpoints.sqlite").exists()
    calls, done, n_checkpoints = asyncio.run(second())
    assert calls == [3], "only the failed task runs again; the others' writes were on disk"
    assert done == [0, 1, 2, 3, 4]
    assert n_checkpoints >= 2


def test_postgres_urls_are_recognised() -> None:
    assert is_postgres_url("postgresql://u@127.0.0.1:5432/db")
    assert is_postgres_url("postgres://u@h/db")
    assert not is_postgres_url(None)
    assert not is_postgres_url("runs/exp")


def test_workers_set_up_a_fresh_postgres_database_together(postgres_url: str, tmp_path: Path) -> None:
    """Several workers opening the checkpointer on a new database at once: LangGraph's
    migrations build indexes CONCURRENTLY, which must not wait on a blocked lock call
    (that deadlocked before setup took its lock by polling)."""

    async def worker() -> bool:
        async with open_checkpointer(postgres_url, tmp_path) as saver:
            return await saver.aget_tuple({"configurable": {"thread_id": "none"}}) is None

    async def many() -> list[bool]:
        return list(await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(6))), timeout=90))

    assert asyncio.run(many()) == [True] * 6
