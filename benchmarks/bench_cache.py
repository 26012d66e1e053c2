"""LLM result caching: LangGraph's node cache (``CachePolicy``) against the per-call cache.

Usage: python benchmarks/bench_cache.py [--characters 8] [--latency 0.02]

Both variants run characters × ipip-bfm-50 with ER_batch (50 RPA calls + 15 assessor
calls per run) twice: a first pass fills the cache, a second pass in fresh threads (a
new checkpointer, as a re-run in a new experiment directory would be) is answered from
it. Models are fakes with ``latency`` seconds per call, so a cache miss is visible.

* per-call: personascope's :class:`~personascope.agents.cache.LLMCache` (LangChain's
  ``cache=``, SQLite), keyed by the serialized model (model, temperature, trial, ...)
  and the messages; 65 look-ups per run.
* CachePolicy: ``ask_item`` and ``rate_dimensions`` with a ``CachePolicy`` and the graph
  compiled with LangGraph's ``SqliteCache``; 51 look-ups per run. Its key is the node's
  input only: the context (RPA model, temperature, trial, method) is not in it, so
  a production key would need a context digest in the state (here the context is
  fixed); the assessment node's input, the whole state, needs a key function too.

Prints the second pass's wall time per run for each, their ratio, and the calls the
second pass made (must be 0 for both). The machine may be shared: compare ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import tempfile
import time
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.cache.sqlite import SqliteCache
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import CachePolicy

from personascope.agents.cache import LLMCache
from personascope.agents.fakes import FakeChatModel
from personascope.agents.rpa import RunnableRPA
from personascope.graphs.context import Context
from personascope.graphs.pipeline import build_pipeline_graph
from personascope.graphs.state import RunInput

SCALE = "ipip-bfm-50"
CHARACTERS = ["alice", "captain-ahab", "ebenezer-scrooge", "elizabeth-bennet", "fitzwilliam-darcy",
              "jay-gatsby", "john-watson", "sherlock-holmes"]  # fmt: skip


def models(latency: float, cache: LLMCache | None) -> tuple[FakeChatModel, FakeChatModel]:
    def answer(messages: Any) -> str:
        # Differs by character (system prompt) and question, as a model's answers would.
        digest = hashlib.sha256(str([m.content for m in messages]).encode()).hexdigest()[:8]
        return f"I would say so ({digest})."

    rpa = FakeChatModel(default=answer, latency=latency, cache=cache)
    assessor = FakeChatModel(default={"analysis": "steady", "score": 3}, latency=latency, cache=cache)
    return rpa, assessor


async def two_passes(graph_for_pass: Any, characters: list[str], ctx: Context) -> tuple[float, float]:
    times = []
    for _ in range(2):
        graph = graph_for_pass()
        t = time.perf_counter()
        for i, char in enumerate(characters):
            config: RunnableConfig = {"configurable": {"thread_id": f"{char}-{i}"}}
            await graph.ainvoke(RunInput(character=char, scale=SCALE), config, context=ctx)
        times.append((time.perf_counter() - t) / len(characters))
    return times[0], times[1]


def per_call(tmp: Path, characters: list[str], latency: float) -> tuple[float, float, int]:
    rpa, assessor = models(latency, LLMCache(tmp / "llm-cache.sqlite"))

    def graph() -> Any:
        return build_pipeline_graph(
            rpa=lambda request: RunnableRPA(rpa, system_prompt=f"You are {request.character.name}."),
            assessor=assessor,
        ).compile(checkpointer=InMemorySaver())

    first, second = asyncio.run(two_passes(graph, characters, Context(k=0)))
    calls_first = len(characters) * 65
    return first, second, rpa.calls + assessor.calls - calls_first


def node_cache(tmp: Path, characters: list[str], latency: float) -> tuple[float, float, int]:
    rpa, assessor = models(latency, None)
    cache: SqliteCache[Any] = SqliteCache(path=str(tmp / "node-cache.sqlite"))

    # ask_item's input (character, scale, question) is deterministic: the default key
    # (a pickle hash of it) works. The assessment node's input is the whole state, whose
    # answers carry timings that differ on every pass: it needs a key of its own.
    def transcript_key(state: Any) -> str:
        answers = [(a["item_id"], a["answer"]) for a in state["transcript"]]
        return hashlib.sha256(repr((state["character"], state["scale"], answers)).encode()).hexdigest()

    policies: dict[str, CachePolicy[Any]] = {
        "ask_item": CachePolicy(),
        "rate_dimensions": CachePolicy(key_func=transcript_key),
    }

    def graph() -> Any:
        builder = build_pipeline_graph(
            rpa=lambda request: RunnableRPA(rpa, system_prompt=f"You are {request.character.name}."),
            assessor=assessor,
        )
        for name, policy in policies.items():
            builder.nodes[name] = dataclasses.replace(builder.nodes[name], cache_policy=policy)
        return builder.compile(checkpointer=InMemorySaver(), cache=cache)

    first, second = asyncio.run(two_passes(graph, characters, Context(k=0)))
    calls_first = len(characters) * 65
    return first, second, rpa.calls + assessor.calls - calls_first


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--characters", type=int, default=8)
    ap.add_argument("--latency", type=float, default=0.02)
    args = ap.parse_args()
    chars = CHARACTERS[: args.characters]
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        pc = per_call(Path(a), chars, args.latency)
        nc = node_cache(Path(b), chars, args.latency)
    print(f"{len(chars)} runs x 65 calls at {args.latency * 1000:.0f} ms; s per run (first, cached pass)")
    print(f"  per-call LLMCache: {pc[0]:.3f}, {pc[1]:.3f}  (calls in the cached pass: {pc[2]})")
    print(f"  node CachePolicy:  {nc[0]:.3f}, {nc[1]:.3f}  (calls in the cached pass: {nc[2]})")
    print(f"  cached pass, CachePolicy / per-call: {nc[1] / pc[1]:.2f} (< 1: the node cache is faster)")


if __name__ == "__main__":
    main()
