"""The assessment graph: a transcript → convert_options | rate_dimensions | parse_self_report → score."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.graph import END, START, StateGraph

from personascope.graphs.context import Context
from personascope.graphs.nodes import (
    Resources,
    make_convert_options,
    make_parse_self_report,
    make_rate_dimensions,
    route_after_collect_transcript,
    score,
)
from personascope.graphs.state import AssessmentState

ASSESSORS = ["convert_options", "rate_dimensions", "parse_self_report"]


def add_assessment(graph: Any, res: Resources, source: str) -> None:
    """Add the assessment and score nodes after node ``source`` (or START)."""
    graph.add_node("convert_options", make_convert_options(res))
    graph.add_node("rate_dimensions", make_rate_dimensions(res))
    graph.add_node("parse_self_report", make_parse_self_report(res))
    graph.add_node("score", score)
    graph.add_conditional_edges(source, route_after_collect_transcript, ASSESSORS)
    for node in ASSESSORS:
        graph.add_edge(node, "score")


def build_assessment_graph(assessor: BaseChatModel | None = None) -> StateGraph[AssessmentState, Context]:
    """Uncompiled assessment graph over an existing transcript."""
    graph = StateGraph(AssessmentState, context_schema=Context)
    add_assessment(graph, Resources(assessor=assessor), START)
    graph.add_edge("score", END)
    return graph


graph = build_assessment_graph().compile(name="assessment")
