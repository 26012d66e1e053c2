"""The full pipeline: interview → assessment → score → record."""

from __future__ import annotations

import hashlib
import platform
from datetime import UTC, datetime
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.graph import END, StateGraph
from langgraph.runtime import Runtime

from personascope import __version__
from personascope.agents import prompts
from personascope.agents.rpa import RolePlayingAgent
from personascope.graphs.assessment import add_assessment
from personascope.graphs.context import Context
from personascope.graphs.interview import add_interview
from personascope.graphs.nodes import Resources, _ctx
from personascope.graphs.state import PipelineState
from personascope.memories.store import MemoryStore
from personascope.results import run_id, write_record


def prompt_hashes() -> dict[str, str]:
    """sha256 (first 16 hex) of every prompt template, for provenance."""
    return {
        name: hashlib.sha256(value.encode()).hexdigest()[:16]
        for name, value in vars(prompts).items()
        if name.endswith("_PROMPT") and isinstance(value, str)
    }


def make_record(rpa_label: str | None, assessor_label: str | None) -> Any:
    def record(state: dict[str, Any], runtime: Runtime[Context]) -> dict[str, Any]:
        """Assemble the run's record and write it to the results store (if an experiment dir is set)."""
        ctx = _ctx(runtime)
        rpa_model = rpa_label or ctx.rpa_model
        assessor_model = assessor_label or ctx.assessor_model
        failures = state.get("failures") or []
        scores = state.get("scores") or {}
        transcript = state.get("transcript") or []
        status = "complete" if not failures else "complete_with_failures"
        if any(s.get("score") is None for s in scores.values()):
            status = "partial"
        rec = {
            "run_id": run_id(
                state["character"],
                state["scale"],
                ctx.method,
                rpa_model,
                assessor_model,
                ctx.temperature,
                ctx.trial,
            ),
            "character": state["character"],
            "scale": state["scale"],
            "method": ctx.method,
            "rpa_model": rpa_model,
            "assessor_model": assessor_model,
            "interviewer_model": ctx.interviewer_model,
            "temperature": ctx.temperature,
            "trial": ctx.trial,
            "status": status,
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "provenance": {
                "personascope_version": __version__,
                "python": platform.python_version(),
                "prompt_hashes": prompt_hashes(),
                "parameters": {
                    k: getattr(ctx, k)
                    for k in (
                        "er_batch_size",
                        "oc_batch_size",
                        "assessor_temperature",
                        "seed",
                        "k",
                        "max_chars",
                        "max_tokens",
                        "assessor_max_tokens",
                        "language",
                        "anonymize",
                        "max_missing",
                        "parse_retries",
                    )
                },
            },
            "timings": {
                "answer_seconds": round(sum(a.get("seconds", 0) for a in state.get("transcript") or []), 3)
            },
            "usage": state.get("usage") or {},
            "questions": state.get("questions") or [],
            "transcript": transcript,
            "item_values": state.get("item_values") or {},
            "dimension_ratings": state.get("dimension_ratings") or [],
            "assessor_outputs": state.get("assessor_outputs") or [],
            "failures": failures,
            "flags": state.get("flags") or [],
            "scores": scores,
        }
        if ctx.database:
            write_record(ctx.database, rec, ctx.experiment)
        elif ctx.experiment_dir:
            write_record(ctx.experiment_dir, rec)
        return {"result": rec}

    return record


def build_pipeline_graph(
    rpa: RolePlayingAgent | None = None,
    interviewer: BaseChatModel | None = None,
    assessor: BaseChatModel | None = None,
    store: MemoryStore | None = None,
    *,
    rpa_label: str | None = None,
    assessor_label: str | None = None,
) -> StateGraph[PipelineState, Context]:
    """Uncompiled pipeline graph. ``rpa_label`` / ``assessor_label`` name injected objects
    in the results record (default: the context's model specs)."""
    res = Resources(rpa=rpa, interviewer=interviewer, assessor=assessor, store=store)
    graph = StateGraph(PipelineState, context_schema=Context)
    add_interview(graph, res)
    add_assessment(graph, res, "collect_transcript")
    graph.add_node("record", make_record(rpa_label, assessor_label))
    graph.add_edge("score", "record")
    graph.add_edge("record", END)
    return graph


graph = build_pipeline_graph().compile(name="pipeline")
