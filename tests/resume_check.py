"""What a killed run had checkpointed, and what the model server was asked: the two
sides of "a resumed run re-asks nothing that already has an answer"."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from personascope.graphs.pipeline import build_pipeline_graph
from personascope.graphs.runner import ExperimentSpec, plan_runs
from personascope.memories.characters import load_character


def rpa_key(body: dict[str, Any]) -> tuple[str, str] | None:
    """(character prompt prefix, question) of an RPA request; None for assessor requests and
    for bodies cut short by the kill (the server read nothing: ``{}``)."""
    if "response_format" in body or not body.get("messages"):
        return None
    msgs = body["messages"]
    return str(msgs[0]["content"])[:30], str(msgs[-1]["content"])


async def checkpointed(saver: BaseCheckpointSaver[Any], spec: ExperimentSpec) -> set[tuple[str, str]]:
    """(character prompt prefix, question) of every answer the checkpoints hold."""
    graph = build_pipeline_graph().compile(checkpointer=saver)
    out: set[tuple[str, str]] = set()
    for plan in plan_runs(spec):
        snap = await graph.aget_state({"configurable": {"thread_id": spec.thread_id(plan)}})
        answers = list(snap.values.get("answers") or [])
        for task in snap.tasks:
            if isinstance(task.result, dict):
                answers += task.result.get("answers") or []
        prefix = f"{load_character(plan.character).description.strip()}"[:30]
        out |= {(prefix, a["question"]) for a in answers if a.get("answer") is not None}
    return out
