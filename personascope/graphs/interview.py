"""The interview graph: load_scale → plan_questions → ask_item ×N (Send) → collect_transcript."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langgraph.graph import END, START, StateGraph

from personascope.agents.rpa import RolePlayingAgent, RPAFactory
from personascope.graphs.context import Context
from personascope.graphs.conversation import add_conversation
from personascope.graphs.nodes import Nodes, route_after_plan_questions
from personascope.graphs.state import InterviewState, PipelineState, RunInput
from personascope.memories.store import MemoryStore


def add_interview(
    graph: StateGraph[InterviewState, Context, RunInput] | StateGraph[PipelineState, Context, RunInput],
    nodes: Nodes,
) -> None:
    """Add the interview nodes and edges (shared with the pipeline graph)."""
    graph.add_node("load_scale", nodes.load_scale)
    graph.add_node("plan_questions", nodes.plan_questions)
    graph.add_node("ask_item", nodes.ask_item)
    graph.add_node("collect_transcript", nodes.collect_transcript)
    graph.add_edge(START, "load_scale")
    graph.add_edge("load_scale", "plan_questions")
    graph.add_conditional_edges(
        "plan_questions", route_after_plan_questions, ["ask_item", "collect_transcript", "take_turn"]
    )
    graph.add_edge("ask_item", "collect_transcript")
    add_conversation(graph, nodes)  # the context's interview: conversation asks in turn instead


def build_interview_graph(
    rpa: RolePlayingAgent | RPAFactory | None = None,
    interviewer: BaseChatModel | None = None,
    store: MemoryStore | None = None,
) -> StateGraph[InterviewState, Context, RunInput]:
    """Uncompiled interview graph; injected objects override the context's model specs."""
    graph = StateGraph(InterviewState, context_schema=Context, input_schema=RunInput)
    add_interview(graph, Nodes(rpa=rpa, interviewer=interviewer, store=store))
    graph.add_edge("collect_transcript", END)
    return graph


graph = build_interview_graph().compile(name="interview")
