"""The assessment graph: a transcript → convert_options | rate_dimensions | parse_self_report → score.

In the pipeline, ``collect_transcript → select_assessment`` comes first: the method's
node is chosen in a step of its own, so a transcript written into a thread with
``update_state(as_node="collect_transcript")`` is assessed by the method the run then
resumes with (re-assessment by fork, in Studio or by ``personascope reassess``).
"""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langgraph.graph import END, START, StateGraph

from personascope.graphs.context import Context
from personascope.graphs.nodes import Nodes, route_after_select_assessment
from personascope.graphs.state import AssessmentInput, AssessmentState, PipelineState, RunInput
from personascope.methods import ASSESSOR_NODES

ASSESSORS = list(ASSESSOR_NODES.values())


def add_assessment(
    graph: StateGraph[AssessmentState, Context, AssessmentInput]
    | StateGraph[PipelineState, Context, RunInput],
    nodes: Nodes,
    source: str,
) -> None:
    """Add the assessment and score nodes after node ``source`` (or START)."""
    graph.add_node("convert_options", nodes.convert_options)
    graph.add_node("rate_dimensions", nodes.rate_dimensions)
    graph.add_node("parse_self_report", nodes.parse_self_report)
    graph.add_node("score", nodes.score)
    if source == START:
        graph.add_conditional_edges(START, route_after_select_assessment, ASSESSORS)
    else:
        # The router runs in a node of its own, not on the transcript node's edge:
        # update_state(as_node=source) then needs no Runtime (see Nodes.select_assessment).
        graph.add_node("select_assessment", nodes.select_assessment)
        graph.add_edge(source, "select_assessment")
        graph.add_conditional_edges("select_assessment", route_after_select_assessment, ASSESSORS)
    for node in ASSESSORS:
        graph.add_edge(node, "score")


def build_assessment_graph(
    assessor: BaseChatModel | None = None,
) -> StateGraph[AssessmentState, Context, AssessmentInput]:
    """Uncompiled assessment graph over an existing transcript."""
    graph = StateGraph(AssessmentState, context_schema=Context, input_schema=AssessmentInput)
    add_assessment(graph, Nodes(assessor=assessor), START)
    graph.add_edge("score", END)
    return graph


graph = build_assessment_graph().compile(name="assessment")
