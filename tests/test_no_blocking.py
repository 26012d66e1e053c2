"""No blocking call on the event loop inside a node (issue 18, item 3), checked the way
`langgraph dev` checks it: with its own blockbuster set-up around the run."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver

from personascope.graphs.assessment import build_assessment_graph
from personascope.graphs.context import Context
from personascope.graphs.pipeline import build_pipeline_graph
from personascope.graphs.state import AssessmentInput, RunInput

from stub_openai import StubOpenAI

queue = pytest.importorskip("langgraph_runtime_inmem.queue", reason="langgraph-cli[inmem] is not installed")


def _reply(body: dict[str, Any]) -> str:
    if "response_format" in body or "tools" in body:
        return json.dumps({"analysis": "steady", "score": 3})
    return "Now and then, I suppose."


@pytest.fixture
def stub() -> Iterator[StubOpenAI]:
    with StubOpenAI(reply=_reply) as server:
        yield server


def _ctx(stub: StubOpenAI, tmp_path: Path, **kw: Any) -> Context:
    # An openai-compatible spec: its LLM cache file lives in experiment_dir (created on
    # first use), as do the character's memories.
    spec = f"openai-compatible:stub@{stub.base_url}"
    return Context(
        rpa_model=spec,
        assessor_model=spec,
        interviewer_model=spec,
        experiment_dir=str(tmp_path),
        k=2,
        item_limit=3,
        **kw,
    )


def _guarded(coro: Any) -> Any:
    async def go() -> Any:
        bb = queue._enable_blockbuster()
        try:
            return await coro
        finally:
            bb.deactivate()

    return asyncio.run(go())


def test_pipeline_with_an_experiment_dir_runs_under_blockbuster(stub: StubOpenAI, tmp_path: Path) -> None:
    graph = build_pipeline_graph().compile()
    out = _guarded(
        graph.ainvoke(RunInput(character="alice", scale="ipip-bfm-50"), context=_ctx(stub, tmp_path))
    )
    assert [a["error"] for a in out["transcript"]] == [None, None, None]
    assert (tmp_path / "llm-cache.sqlite").exists() and (tmp_path / "memories").is_dir()


def test_a_resumed_interview_builds_its_rpa_off_the_loop(stub: StubOpenAI, tmp_path: Path) -> None:
    # A run resumed in a fresh process (Studio after a restart) starts at ask_item: the
    # start-up node that builds the RPA does not run again.
    saver = InMemorySaver()
    config: RunnableConfig = {"configurable": {"thread_id": "t"}}
    ctx = _ctx(stub, tmp_path)
    first = build_pipeline_graph().compile(checkpointer=saver, interrupt_before=["ask_item"])
    asyncio.run(first.ainvoke(RunInput(character="alice", scale="ipip-bfm-50"), config, context=ctx))
    fresh = build_pipeline_graph().compile(checkpointer=saver)  # new Nodes: nothing resolved yet
    out = _guarded(fresh.ainvoke(None, config, context=ctx))
    assert [a["error"] for a in out["transcript"]] == [None, None, None]


def test_assessment_graph_resolves_its_assessor_off_the_loop(stub: StubOpenAI, tmp_path: Path) -> None:
    transcript = [
        {
            "item_id": i,
            "dimension": "extraversion",
            "question": "q",
            "answer": "Now and then.",
            "seconds": 0.1,
        }
        for i in ("E1", "E2", "E3")
    ]
    graph = build_assessment_graph().compile()
    payload = AssessmentInput(character="alice", scale="ipip-bfm-50", transcript=transcript)  # type: ignore[typeddict-item]
    out = _guarded(graph.ainvoke(payload, context=_ctx(stub, tmp_path)))
    assert out["scores"]["extraversion"]["score"] is not None or out["failures"]


def test_plan_questions_embeds_the_run_questions_in_one_batch(stub: StubOpenAI, tmp_path: Path) -> None:
    from personascope.memories import embeddings

    before = dict(embeddings.query_stats)
    graph = build_pipeline_graph().compile()
    ctx = _ctx(stub, tmp_path)
    out = _guarded(graph.ainvoke(RunInput(character="alice", scale="ipip-bfm-50"), context=ctx))
    assert len(out["transcript"]) == 3
    embedded = embeddings.query_stats["embedded"] - before["embedded"]
    hits = embeddings.query_stats["hits"] - before["hits"]
    # At most the three questions are embedded (once, at planning); every retrieval hits.
    assert embedded <= 3 and hits >= 3
