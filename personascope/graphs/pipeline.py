"""The full pipeline: interview → assessment → score → record."""

from __future__ import annotations

import sqlite3

from langchain_core.language_models import BaseChatModel
from langgraph.graph import END, StateGraph
from langgraph.types import RetryPolicy

from personascope.agents.rpa import RolePlayingAgent, RPAFactory
from personascope.graphs.assessment import add_assessment
from personascope.graphs.context import Context
from personascope.graphs.interview import add_interview
from personascope.graphs.nodes import Nodes
from personascope.graphs.provenance import prompt_hashes
from personascope.graphs.state import PipelineState, RunInput
from personascope.memories.store import MemoryStore

__all__ = ["build_pipeline_graph", "graph", "prompt_hashes", "transient_store_error"]


def transient_store_error(exc: Exception) -> bool:
    """A results-store error that a retry can cure: SQLite busy or locked; a PostgreSQL
    connection that failed or dropped."""
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        return "locked" in text or "busy" in text
    return type(exc).__module__.startswith("psycopg") and type(exc).__name__ in (
        "OperationalError",
        "InterfaceError",
    )


def build_pipeline_graph(
    rpa: RolePlayingAgent | RPAFactory | None = None,
    interviewer: BaseChatModel | None = None,
    assessor: BaseChatModel | None = None,
    store: MemoryStore | None = None,
    *,
    rpa_label: str | None = None,
    assessor_label: str | None = None,
) -> StateGraph[PipelineState, Context, RunInput]:
    """Uncompiled pipeline graph. ``rpa_label`` / ``assessor_label`` name injected objects
    in the results record (default: the context's model specs)."""
    nodes = Nodes(
        rpa=rpa,
        interviewer=interviewer,
        assessor=assessor,
        store=store,
        rpa_label=rpa_label,
        assessor_label=assessor_label,
    )
    graph = StateGraph(PipelineState, context_schema=Context, input_schema=RunInput)
    add_interview(graph, nodes)
    add_assessment(graph, nodes, "collect_transcript")
    # The record is written with an upsert, so repeating it is safe: a results store
    # briefly locked by another writer or a dropped database connection is retried by
    # LangGraph (a full disk or a bad record is not: those fail the run at once).
    graph.add_node(
        "record", nodes.record, retry_policy=RetryPolicy(max_attempts=4, retry_on=transient_store_error)
    )
    graph.add_edge("score", "record")
    graph.add_edge("record", END)
    return graph


graph = build_pipeline_graph().compile(name="pipeline")
