"""The full pipeline: interview → assessment → score → record."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langgraph.graph import END, StateGraph

from personascope.agents.rpa import RolePlayingAgent, RPAFactory
from personascope.graphs.assessment import add_assessment
from personascope.graphs.context import Context
from personascope.graphs.interview import add_interview
from personascope.graphs.nodes import Nodes
from personascope.graphs.provenance import prompt_hashes
from personascope.graphs.state import PipelineState, RunInput
from personascope.memories.store import MemoryStore

__all__ = ["build_pipeline_graph", "graph", "prompt_hashes"]


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
    graph.add_node("record", nodes.record)
    graph.add_edge("score", "record")
    graph.add_edge("record", END)
    return graph


graph = build_pipeline_graph().compile(name="pipeline")
