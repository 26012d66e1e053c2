"""Re-assessment without re-asking: fork finished runs at their transcript (time travel).

Each finished run of an experiment is a LangGraph thread; its checkpoint right after
``collect_transcript`` holds the questions, answers and transcript. :func:`reassess`
forks that checkpoint into a new thread whose id is the run id of the new
(method, assessor) pair: the values are written there with
``update_state(as_node="collect_transcript")`` and the run resumes from
``select_assessment`` with a context that names the new assessor and method. The new run
is recorded like any other (its provenance names the source thread and checkpoint in
``transcript_from``) and no RPA is called. Studio does the same by hand: pick the
checkpoint after ``collect_transcript`` (or edit the transcript and update the state as
``collect_transcript``), then resume with another method in the context.
"""

from __future__ import annotations

import asyncio
import fnmatch
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig

from personascope.agents.preflight import check_models
from personascope.errors import InputError
from personascope.graphs.checkpoint import open_checkpointer
from personascope.graphs.context import Context
from personascope.graphs.lock import SPEC_FILE, hold_experiment
from personascope.graphs.pipeline import build_pipeline_graph
from personascope.graphs.progress import EventHook, RunEvent, stream_run
from personascope.graphs.runner import ExperimentSpec, RunOutcome, RunPlan, load_spec, plan_runs
from personascope.methods import ASSESSOR_NODES, get_method
from personascope.results import run_id

#: What a fork carries over: the interview, not its assessment.
TRANSCRIPT_KEYS = ("character", "scale", "questions", "answers", "transcript", "usage")


def matches(plan: RunPlan, pattern: str | None) -> bool:
    """``--runs``: a glob on the run id or its label (``*holmes*``, ``*er_batch*t0.7*``)."""
    if not pattern:
        return True
    return any(fnmatch.fnmatch(text, pattern) for text in (plan.run_id, plan.label))


def forked_plan(source: RunPlan, method: str, assessor: str) -> RunPlan:
    """The new run: the source's character, scale, RPA, temperature and trial; another
    method and assessor."""
    new_id = run_id(source.character, source.scale, method, source.rpa_model, assessor, source.temperature,
                    source.trial, dict(source.variant))  # fmt: skip
    return replace(source, run_id=new_id, method=method, assessor_model=assessor)


async def transcript_checkpoint(graph: Any, config: RunnableConfig) -> Any | None:
    """The snapshot right after ``collect_transcript`` of a finished thread (None: the
    thread has no finished transcript)."""
    final = await graph.aget_state(config)
    if final.next or not final.values.get("result"):
        return None
    assessors = set(ASSESSOR_NODES.values())
    async for snap in graph.aget_state_history(config):
        # After collect_transcript comes select_assessment (threads of older versions went
        # straight to the assessment node).
        if snap.next == ("select_assessment",) or (
            len(snap.next) == 1 and snap.next[0] in assessors and snap.values.get("transcript") is not None
        ):
            return snap
    return None


async def reassess(
    exp_dir: str | Path,
    method: str,
    assessor_model: str,
    *,
    runs: str | None = None,
    assessor: BaseChatModel | None = None,
    on_event: EventHook | None = None,
) -> list[RunOutcome]:
    """Fork every finished run of the experiment in ``exp_dir`` matching ``runs`` and
    assess its transcript with ``method`` by ``assessor_model`` (or the injected
    ``assessor``, recorded under that name). Returns one outcome per new run ("done" when
    it exists already)."""
    exp = Path(exp_dir)
    if not (exp / SPEC_FILE).exists():
        raise InputError(exp, "DIR", "not an experiment directory (no spec.yaml)")
    spec: ExperimentSpec = load_spec(exp / SPEC_FILE)
    new_method = get_method(method, "--method")
    if assessor is None:
        check_models([("assessor model", assessor_model)])
    sources = [p for p in plan_runs(spec) if matches(p, runs)]
    if not sources:
        raise InputError(exp, "--runs", f"no run of this experiment matches {runs!r}")
    emit = on_event or (lambda event: None)
    base = Context(
        interviewer_model=spec.interviewer_model,
        concurrency=spec.run_concurrency,
        experiment_dir=str(exp),
        experiment=spec.name,
        database=spec.database,
        **spec.context,
    )
    sem = asyncio.Semaphore(spec.concurrency)
    lock = hold_experiment(exp, spec.model_dump(mode="json"), spec.database_url, spec.name)
    async with lock, open_checkpointer(spec.database_url, exp) as saver:
        graph = build_pipeline_graph(assessor=assessor, assessor_label=assessor_model).compile(
            checkpointer=saver
        )

        async def one(source: RunPlan) -> RunOutcome | None:
            plan = forked_plan(source, new_method.id, assessor_model)
            async with sem:
                t = time.perf_counter()
                if get_method(source.method).questions != new_method.questions:
                    # SR asks for an option, the open methods ask open questions: a transcript
                    # of one kind cannot be assessed as the other.
                    error = f"{source.method} asked {get_method(source.method).questions} questions"
                    error += f"; {new_method.id} needs {new_method.questions} ones"
                    return RunOutcome(plan, "failed", 0.0, error=error)
                new_config: RunnableConfig = {"configurable": {"thread_id": spec.thread_id(plan)}}
                done = await graph.aget_state(new_config)
                if done.values.get("result") and not done.next:
                    emit(RunEvent(plan.run_id, "skipped", plan.label))
                    return RunOutcome(plan, "done", 0.0, result=done.values["result"])
                source_config: RunnableConfig = {"configurable": {"thread_id": spec.thread_id(source)}}
                snap = await transcript_checkpoint(graph, source_config)
                if snap is None:
                    return None  # not finished: nothing to re-assess
                checkpoint_id = snap.config["configurable"]["checkpoint_id"]
                ctx = replace(
                    base,
                    rpa_model=plan.rpa_model,
                    assessor_model=plan.assessor_model,
                    method=plan.method,
                    temperature=plan.temperature,
                    trial=plan.trial,
                    transcript_from=f"{spec.thread_id(source)}@{checkpoint_id}",
                    **dict[str, Any](plan.variant),  # the source's axes: its provenance and run id carry over
                )
                if not done.values:  # a fork interrupted before its record resumes as it is
                    values = {k: snap.values[k] for k in TRANSCRIPT_KEYS if k in snap.values}
                    await graph.aupdate_state(new_config, values, as_node="collect_transcript")
                emit(RunEvent(plan.run_id, "started", plan.label))
                try:
                    label = plan.label
                    result = await stream_run(graph, None, new_config, ctx, plan.run_id, label, on_event)
                except InputError:
                    raise
                except Exception as exc:
                    error = f"{type(exc).__name__}: {exc}"
                    emit(RunEvent(plan.run_id, "failed", plan.label, error=error))
                    return RunOutcome(plan, "failed", time.perf_counter() - t, error=error)
                emit(RunEvent(plan.run_id, "done", plan.label, status=(result or {}).get("status")))
                return RunOutcome(plan, "ran", time.perf_counter() - t, result=result)

        outcomes = await asyncio.gather(*(one(p) for p in sources))
    found = [o for o in outcomes if o is not None]
    if not found:
        raise InputError(exp, "--runs", "no matching run has finished its interview yet")
    return found


def reassess_sync(exp_dir: str | Path, method: str, assessor_model: str, **kwargs: Any) -> list[RunOutcome]:
    return asyncio.run(reassess(exp_dir, method, assessor_model, **kwargs))


__all__: Sequence[str] = ["forked_plan", "matches", "reassess", "reassess_sync", "transcript_checkpoint"]
