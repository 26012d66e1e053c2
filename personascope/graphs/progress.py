"""Progress of an experiment as a stream of events, from LangGraph's own streams.

A run is streamed (``astream`` with ``stream_mode=["updates", "custom"]``): ``ask_item``
writes a custom event when it starts asking and when it has the answer
(``get_stream_writer``), and the node updates say when questions are planned, when
the assessment node has finished and when the record is written. Studio shows the
same custom events in its stream panel. :func:`stream_run` turns both streams into
:class:`RunEvent` objects; :class:`ProgressState` folds them into the numbers a display
shows (items answered and assessed per run, runs done, calls in flight, tokens, ETA,
failures as they happen). Nothing here prints: the CLI renders, tests assert.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig
from langgraph.config import get_stream_writer
from langgraph.pregel import Pregel
from langgraph.types import Durability

from personascope.graphs.context import Context
from personascope.methods import ASSESSOR_NODES

EventKind = Literal[
    "started",  # a run begins (or resumes)
    "skipped",  # a finished run: nothing to do
    "planned",  # its questions are known: ``items`` of them
    "asking",  # an RPA call is in flight
    "answered",  # an answer came back (``error`` set: the item failed)
    "assessed",  # the assessment node finished: ``items`` items assessed, ``failures`` failed
    "done",  # the run's record is written (``status``)
    "failed",  # the run raised (``error``)
]

#: Custom stream events written by nodes: ``{"event": "asking"|"answered", ...}``.
CUSTOM_EVENT = "event"

#: How checkpoints are written (LangGraph's durability modes). "async": each step's
#: checkpoint is written while the next step runs. "exit" writes only when the run ends
#: (a killed run would re-ask everything, which tests/test_crash.py forbids); "sync" waits
#: for every write. benchmarks/bench_engine.py --part durability prints the three.
DURABILITY: Durability = "async"


@dataclass(frozen=True)
class RunEvent:
    """One thing that happened in one run."""

    run_id: str
    kind: EventKind
    label: str = ""
    item_id: str | None = None
    items: int = 0
    tokens: int = 0
    failures: int = 0
    seconds: float = 0.0
    status: str | None = None
    error: str | None = None


EventHook = Callable[[RunEvent], None]


def run_label(
    character: str, scale: str, method: str, rpa: str, assessor: str, temperature: float, trial: int
) -> str:
    """How a display names a run: every coordinate that tells two runs apart."""
    return f"{character} {scale} {method} rpa={rpa} assessor={assessor} t={temperature:g} #{trial}"


def emit_item_event(kind: Literal["asking", "answered"], item_id: str, **fields: Any) -> None:
    """Write a custom stream event from inside a node (a no-op when nobody streams custom)."""
    try:
        writer = get_stream_writer()
    except RuntimeError:  # called outside a graph run
        return
    writer({CUSTOM_EVENT: kind, "item_id": item_id, **fields})


def _tokens(usage: Mapping[str, Any] | None) -> int:
    total = 0
    for models in (usage or {}).values():
        for counts in models.values():
            total += int(counts.get("total_tokens", 0) or 0)
    return total


async def stream_run(
    graph: Pregel[Any, Any, Any, Any],
    payload: Any,
    config: RunnableConfig,
    ctx: Context,
    run_id: str,
    label: str,
    on_event: EventHook | None,
    durability: Durability = DURABILITY,
) -> dict[str, Any] | None:
    """Run (or resume) one thread to its end, emitting events; returns its record."""
    emit = on_event or (lambda event: None)
    assessors = set(ASSESSOR_NODES.values())
    result: dict[str, Any] | None = None
    # With no listener the custom events have no reader: leaving the mode out makes the
    # stream writer a no-op and spares LangGraph's concurrent-stream waiter per step.
    modes: list[Any] = ["updates", "custom"] if on_event else ["updates"]
    stream = graph.astream(payload, config, context=ctx, stream_mode=modes, durability=durability)
    async for mode, chunk in stream:
        if not isinstance(chunk, dict):
            continue
        if mode == "custom":
            if chunk.get(CUSTOM_EVENT) in ("asking", "answered"):
                emit(
                    RunEvent(
                        run_id,
                        chunk[CUSTOM_EVENT],
                        label,
                        item_id=chunk.get("item_id"),
                        tokens=int(chunk.get("tokens", 0)),
                        seconds=float(chunk.get("seconds", 0.0)),
                        error=chunk.get("error"),
                    )
                )
            continue
        for node, update in chunk.items():
            if not isinstance(update, dict):
                continue
            if node == "plan_questions":
                emit(RunEvent(run_id, "planned", label, items=len(update.get("questions") or [])))
            elif node in assessors:
                assessed = len(update.get("item_values") or {}) or sum(
                    len(r.get("item_ids") or []) for r in update.get("dimension_ratings") or []
                )
                failures = [f for f in update.get("failures") or [] if f.get("stage") == "assessment"]
                tokens = _tokens(update.get("usage"))
                emit(
                    RunEvent(run_id, "assessed", label, items=assessed, failures=len(failures), tokens=tokens)
                )
            elif node == "record":
                result = update.get("result")
    return result


@dataclass
class RunProgress:
    """What is known about one run."""

    label: str
    planned: int = 0
    answered: int = 0
    failed_items: int = 0
    assessed: int = 0
    in_flight: int = 0
    status: str = "waiting"


@dataclass
class ProgressState:
    """Everything a progress display shows, folded from :class:`RunEvent` objects."""

    runs_total: int
    runs: dict[str, RunProgress] = field(default_factory=dict)
    runs_done: int = 0
    runs_failed: int = 0
    tokens: int = 0
    in_flight: int = 0
    failures: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    #: Items the runs still to do will ask (dry-run plan): the ETA's total before every
    #: run has planned its questions (0: the sum of what has been planned).
    items_expected: int = 0

    def update(self, event: RunEvent) -> None:
        run = self.runs.setdefault(event.run_id, RunProgress(event.label))
        if event.kind == "started":
            run.status = "running"
        elif event.kind == "skipped":
            # Finished before: it costs nothing and says nothing about the rate.
            run.status = "done"
            self.runs_done += 1
        elif event.kind == "planned":
            run.planned = event.items
        elif event.kind == "asking":
            run.in_flight += 1
            self.in_flight += 1
        elif event.kind == "answered":
            run.in_flight = max(0, run.in_flight - 1)
            self.in_flight = max(0, self.in_flight - 1)
            run.answered += 1
            self.tokens += event.tokens
            if event.error:
                run.failed_items += 1
                self.failures.append(f"{event.label}: item {event.item_id}: {event.error}")
        elif event.kind == "assessed":
            run.status = "assessed"
            run.assessed = event.items
            self.tokens += event.tokens
            if event.failures:
                self.failures.append(f"{event.label}: {event.failures} item(s) not assessed")
        elif event.kind == "done":
            run.status = event.status or "done"
            self.runs_done += 1
        elif event.kind == "failed":
            run.status = "failed"
            self.runs_done += 1
            self.runs_failed += 1
            self.in_flight -= run.in_flight
            run.in_flight = 0
            self.failures.append(f"{event.label}: run failed: {event.error}")

    @property
    def answered(self) -> int:
        return sum(r.answered for r in self.runs.values())

    @property
    def assessed(self) -> int:
        return sum(r.assessed for r in self.runs.values())

    @property
    def items_total(self) -> int:
        """Items to answer in all (a resumed run's earlier answers are not counted again)."""
        return max(self.items_expected, sum(r.planned for r in self.runs.values()))

    def eta(self, now: float | None = None) -> float | None:
        """Seconds left at the rate items have been answered so far (None: no rate yet)."""
        elapsed = (time.monotonic() if now is None else now) - self.started
        done = self.answered
        if done == 0 or elapsed <= 0:
            return None
        return max(0.0, (self.items_total - done) * elapsed / done)


__all__ = [
    "CUSTOM_EVENT",
    "DURABILITY",
    "EventHook",
    "EventKind",
    "ProgressState",
    "RunEvent",
    "RunProgress",
    "emit_item_event",
    "run_label",
    "stream_run",
]
