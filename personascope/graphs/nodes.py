"""Graph nodes: plain functions whose names are the Studio labels.

Injected objects (a custom RPA, chat models, a memory store) come through
:class:`Resources`; whatever is not injected is resolved from the run context's
model specs on first use and reused.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from langgraph.config import get_config
from langgraph.runtime import Runtime
from langgraph.types import Send

from personascope.agents.assessors import (
    Entry,
    Participant,
    convert_options,
    injection_signals,
    parse_self_report,
    rate_dimension,
)
from personascope.agents.models import ModelParams, resolve_model
from personascope.agents.prompts import (
    QUESTION_REWRITE_PROMPT,
    SELF_REPORT_COT_PROMPT,
    SELF_REPORT_PROMPT,
)
from personascope.agents.rpa import RolePlayingAgent, RPAError, safe_reply
from personascope.agents.usage import track_usage
from personascope.graphs.context import ITEM_METHODS, Context
from personascope.graphs.state import Answer, AskState, Question
from personascope.memories.characters import Character, load_character
from personascope.memories.store import MemoryStore
from personascope.scales import Scale, load_scale
from personascope.scales.schema import ScoringMode
from personascope.scales.scoring import classify_type, convert_score, norm_score


@dataclass
class Resources:
    """Objects injected into a graph builder; ``None`` means "resolve from the context"."""

    rpa: RolePlayingAgent | None = None
    interviewer: BaseChatModel | None = None
    assessor: BaseChatModel | None = None
    store: MemoryStore | None = None
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    def model(self, role: str, ctx: Context) -> BaseChatModel:
        injected = getattr(self, role)
        if injected is not None:
            return injected  # type: ignore[no-any-return]
        spec = {"interviewer": ctx.interviewer_model, "assessor": ctx.assessor_model}[role]
        params = ModelParams(
            temperature=ctx.assessor_temperature,
            trial=ctx.trial,
            seed=ctx.seed,
            max_tokens=ctx.assessor_max_tokens,
            cache_path=_cache_path(ctx),
            timeout=ctx.request_timeout,
            max_retries=ctx.max_retries,
        )
        key = (role, spec, params)
        if key not in self._cache:
            self._cache[key] = resolve_model(spec, params)
        return self._cache[key]  # type: ignore[no-any-return]

    def memory_store(self, ctx: Context) -> MemoryStore:
        if self.store is not None:
            return self.store
        key = ("store", ctx.experiment_dir)
        if key not in self._cache:
            self._cache[key] = (
                MemoryStore(path=Path(ctx.experiment_dir) / "memories")
                if ctx.experiment_dir
                else MemoryStore.ephemeral()
            )
        return self._cache[key]  # type: ignore[no-any-return]

    def role_player(self, ctx: Context, character: Character) -> RolePlayingAgent:
        if self.rpa is not None:
            return self.rpa
        from personascope.agents.character_agent import CharacterAgent

        params = ModelParams(
            temperature=ctx.temperature,
            trial=ctx.trial,
            seed=ctx.seed + ctx.trial,
            max_tokens=ctx.max_tokens,
            cache_path=_cache_path(ctx),
            timeout=ctx.request_timeout,
            max_retries=ctx.max_retries,
        )
        key = ("rpa", character.id, ctx.rpa_model, params, ctx.k, ctx.max_chars)
        if key not in self._cache:
            self._cache[key] = CharacterAgent(
                character,
                resolve_model(ctx.rpa_model, params),
                self.memory_store(ctx),
                k=ctx.k,
                max_chars=ctx.max_chars,
            )
        return self._cache[key]  # type: ignore[no-any-return]


def _cache_path(ctx: Context) -> Path | None:
    return Path(ctx.experiment_dir) / "llm-cache.sqlite" if ctx.experiment_dir else None


def _ctx(runtime: Runtime[Context] | None) -> Context:
    return runtime.context if runtime is not None and runtime.context is not None else Context()


# -- interview ----------------------------------------------------------------------


def load_scale_and_character(state: dict[str, Any]) -> tuple[Scale, Character]:
    return load_scale(state["scale"]), load_character(state["character"])


def make_load_scale() -> Any:
    def load_scale_node(state: dict[str, Any]) -> dict[str, Any]:
        # Fails fast (one clear InputError) before any model is called.
        load_scale_and_character(state)
        return {}

    load_scale_node.__name__ = "load_scale"
    return load_scale_node


def make_plan_questions(res: Resources) -> Any:
    async def plan_questions(state: dict[str, Any], runtime: Runtime[Context]) -> dict[str, Any]:
        ctx = _ctx(runtime)
        scale, _ = load_scale_and_character(state)
        low, high = scale.range
        anchors = ", ".join(f"{o.value} denotes '{o.label}'" for o in scale.response_options)
        questions: list[Question] = []
        for item in scale.items:
            if ctx.method in ("sr", "sr_cot"):
                template = SELF_REPORT_PROMPT if ctx.method == "sr" else SELF_REPORT_COT_PROMPT
                text = template.format(statement=item.text, low=low, high=high, anchors=anchors)
            else:
                text = item.question(ctx.language) or ""
                if not text:
                    reply = await res.model("interviewer", ctx).ainvoke(
                        [HumanMessage(QUESTION_REWRITE_PROMPT.format(statement=item.text))]
                    )
                    text = str(reply.content).strip().strip('"')
            questions.append(
                Question(
                    item_id=item.id,
                    dimension=item.dimension,
                    statement=item.text,
                    key=item.key,
                    question=text,
                )
            )
        return {"questions": questions}

    return plan_questions


def route_after_plan_questions(state: dict[str, Any]) -> list[Send] | str:
    """Fan out one isolated ``ask_item`` per question not yet answered."""
    done = {a["item_id"] for a in state.get("answers") or [] if a.get("answer") is not None}
    sends = [
        Send("ask_item", {"character": state["character"], "scale": state["scale"], "question": q})
        for q in state.get("questions") or []
        if q["item_id"] not in done
    ]
    return sends or "collect_transcript"


def make_ask_item(res: Resources) -> Any:
    lock: dict[tuple[int, str], asyncio.Semaphore] = {}

    async def ask_item(state: AskState, runtime: Runtime[Context]) -> dict[str, Any]:
        ctx = _ctx(runtime)
        q = state["question"]
        character = load_character(state["character"])
        # One limit per run (thread): runs in flight together each get `concurrency` calls.
        key = (id(asyncio.get_running_loop()), _thread_id())
        sem = lock.setdefault(key, asyncio.Semaphore(max(1, ctx.concurrency)))
        t = time.perf_counter()
        answer: str | None = None
        error: str | None = None
        kind: str | None = None
        async with sem:
            try:
                rpa = res.role_player(ctx, character)
                # Each item is its own conversation: the RPA sees this question only.
                message = HumanMessage(q["question"], name=_safe_name(character.experimenter))
                with track_usage() as usage:
                    answer = await safe_reply(rpa, [message], timeout=ctx.answer_timeout)
            except RPAError as exc:
                error, kind = str(exc), exc.kind
            except Exception as exc:  # model resolution or transport failure after retries
                error, kind = f"{type(exc).__name__}: {exc}", "exception"
        tokens = dict(usage.usage_metadata) if answer is not None else {}
        return {
            "answers": [
                Answer(
                    item_id=q["item_id"],
                    dimension=q["dimension"],
                    question=q["question"],
                    answer=answer,
                    error=error,
                    error_kind=kind,
                    seconds=round(time.perf_counter() - t, 3),
                )
            ],
            "usage": {"rpa": tokens},
        }

    return ask_item


def _thread_id() -> str:
    try:
        return str(get_config().get("configurable", {}).get("thread_id", ""))
    except RuntimeError:  # called outside a runnable context
        return ""


def _safe_name(name: str) -> str:
    # OpenAI-style message names allow [A-Za-z0-9_-] only.
    import re

    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")[:64] or "experimenter"


def collect_transcript(state: dict[str, Any]) -> dict[str, Any]:
    """Order the answers as the scale orders its items."""
    order = {q["item_id"]: i for i, q in enumerate(state.get("questions") or [])}
    answers = sorted(state.get("answers") or [], key=lambda a: order.get(a["item_id"], 1 << 30))
    return {"transcript": answers}


# -- assessment ---------------------------------------------------------------------


def route_after_collect_transcript(state: dict[str, Any], runtime: Runtime[Context]) -> str:
    method = _ctx(runtime).method
    if method in ("sr", "sr_cot"):
        return "parse_self_report"
    if method in ("oc", "d_oc"):
        return "convert_options"
    return "rate_dimensions"


def _who(character: Character) -> Participant:
    return Participant(names=character.all_names, experimenter=character.experimenter)


def _entries(transcript: list[Answer], scale: Scale) -> list[Entry]:
    items = scale.item_map
    return [
        Entry(a["item_id"], a["question"], a["answer"] or "", items[a["item_id"]].text)
        for a in transcript
        if a.get("answer") is not None and a["item_id"] in items
    ]


def _flags(transcript: list[Answer]) -> list[dict[str, Any]]:
    return [
        {"item_id": a["item_id"], "signals": sig}
        for a in transcript
        if a.get("answer") and (sig := injection_signals(a["answer"] or ""))
    ]


def _assessed(
    transcript: list[Answer], failures: list[dict[str, Any]], usage: Any, **fields: Any
) -> dict[str, Any]:
    """What every assessment node writes: its results plus answer failures, injection
    flags and the assessor's token usage."""
    return {
        **fields,
        "failures": _answer_failures(transcript) + failures,
        "flags": _flags(transcript),
        "usage": {"assessor": dict(usage.usage_metadata)},
    }


def _answer_failures(transcript: list[Answer]) -> list[dict[str, Any]]:
    return [
        {
            "stage": "answer",
            "item_id": a["item_id"],
            "dimension": a["dimension"],
            "kind": a.get("error_kind"),
            "reason": a.get("error"),
        }
        for a in transcript
        if a.get("answer") is None
    ]


async def _convert(
    res: Resources,
    ctx: Context,
    scale: Scale,
    character: Character,
    entries: list[Entry],
    dimension_level: bool,
) -> tuple[dict[str, float | None], list[dict[str, Any]], list[dict[str, Any]]]:
    """Run OC / d-OC over entries in batches; return item values (agreement units),
    assessor outputs and failures."""
    model = res.model("assessor", ctx)
    low, high = scale.range
    items = scale.item_map
    sem = asyncio.Semaphore(max(1, ctx.concurrency))
    batches: list[tuple[Any, list[Entry]]] = []
    if dimension_level:
        for dim in scale.dimensions:
            dim_entries = [e for e in entries if items[e.item_id].dimension == dim.id]
            for i in range(0, len(dim_entries), ctx.oc_batch_size):
                batches.append((dim, dim_entries[i : i + ctx.oc_batch_size]))
    else:
        for i in range(0, len(entries), ctx.oc_batch_size):
            batches.append((None, entries[i : i + ctx.oc_batch_size]))

    async def run(dim: Any, batch: list[Entry]) -> tuple[dict[str, int | None], Any]:
        async with sem:
            return await convert_options(
                model,
                scale,
                batch,
                _who(character),
                dimension=dim,
                anonymize_names=ctx.anonymize,
                retries=ctx.parse_retries,
            )

    results = await asyncio.gather(*(run(d, b) for d, b in batches))
    values: dict[str, float | None] = {}
    outputs: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for (dim, batch), (choices, rec) in zip(batches, results, strict=True):
        outputs.append(rec.__dict__)
        for e in batch:
            if e.item_id not in choices:
                failures.append(
                    {
                        "stage": "assessment",
                        "item_id": e.item_id,
                        "dimension": items[e.item_id].dimension,
                        "kind": "unparsed",
                        "reason": rec.error or "no choice returned",
                    }
                )
                continue
            choice = choices[e.item_id]
            if choice is None:
                failures.append(
                    {
                        "stage": "assessment",
                        "item_id": e.item_id,
                        "dimension": items[e.item_id].dimension,
                        "kind": "no_evidence",
                        "reason": "assessor chose 'x' (refusal or no evidence)",
                    }
                )
                values[e.item_id] = None
            elif dim is not None and items[e.item_id].key == "-":
                # d-OC rates the pole; a reverse-keyed item's agreement is the mirror image.
                values[e.item_id] = float(low + high - choice)
            else:
                values[e.item_id] = float(choice)
    return values, outputs, failures


def make_convert_options(res: Resources) -> Any:
    async def convert_options_node(state: dict[str, Any], runtime: Runtime[Context]) -> dict[str, Any]:
        ctx = _ctx(runtime)
        scale, character = load_scale_and_character(state)
        transcript = state["transcript"]
        with track_usage() as usage:
            values, outputs, failures = await _convert(
                res, ctx, scale, character, _entries(transcript, scale), ctx.method == "d_oc"
            )
        return _assessed(transcript, failures, usage, item_values=values, assessor_outputs=outputs)

    convert_options_node.__name__ = "convert_options"
    return convert_options_node


def make_parse_self_report(res: Resources) -> Any:
    async def parse_self_report_node(state: dict[str, Any], runtime: Runtime[Context]) -> dict[str, Any]:
        ctx = _ctx(runtime)
        scale, character = load_scale_and_character(state)
        transcript = state["transcript"]
        values_allowed = [o.value for o in scale.response_options]
        values: dict[str, float | None] = {}
        fallback: list[Entry] = []
        for e in _entries(transcript, scale):
            v = parse_self_report(e.answer, values_allowed, cot=ctx.method == "sr_cot")
            if v is None:
                fallback.append(e)
            else:
                values[e.item_id] = float(v)
        outputs: list[dict[str, Any]] = [
            {"kind": "self_report", "parsed": sorted(values), "fallback_to_oc": [e.item_id for e in fallback]}
        ]
        failures: list[dict[str, Any]] = []
        with track_usage() as usage:
            if fallback:
                oc_values, oc_outputs, failures = await _convert(res, ctx, scale, character, fallback, False)
                values.update(oc_values)
                outputs += oc_outputs
        return _assessed(transcript, failures, usage, item_values=values, assessor_outputs=outputs)

    parse_self_report_node.__name__ = "parse_self_report"
    return parse_self_report_node


def split_batches(entries: list[Any], n: int = 4) -> list[list[Any]]:
    """InCharacter's ER_batch split: chunks of ``n``, the last topped up to ``n − 1`` by
    borrowing from earlier chunks; fewer than ``2(n − 1)`` entries stay one batch.

    >>> [len(b) for b in split_batches(list(range(10)))]
    [3, 4, 3]
    >>> [len(b) for b in split_batches(list(range(5)))]
    [5]
    """
    if len(entries) < 2 * (n - 1):
        return [list(entries)]
    result = [list(entries[i : i + n]) for i in range(0, len(entries), n)]
    for i in range(n - 1 - len(result[-1])):
        result[-1].append(result[i].pop())
    return result


def make_rate_dimensions(res: Resources) -> Any:
    async def rate_dimensions(state: dict[str, Any], runtime: Runtime[Context]) -> dict[str, Any]:
        ctx = _ctx(runtime)
        scale, character = load_scale_and_character(state)
        transcript = state["transcript"]
        entries = _entries(transcript, scale)
        items = scale.item_map
        model = res.model("assessor", ctx)
        sem = asyncio.Semaphore(max(1, ctx.concurrency))
        jobs: list[tuple[Any, list[Entry]]] = []
        for dim in scale.dimensions:
            dim_entries = [e for e in entries if items[e.item_id].dimension == dim.id]
            if ctx.trial > 0:  # as InCharacter: later trials see another batching
                random.Random(ctx.trial).shuffle(dim_entries)
            if not dim_entries:
                continue
            batches = (
                [dim_entries]
                if ctx.method == "er_all"
                else split_batches(dim_entries, max(2, ctx.er_batch_size))
            )
            jobs += [(dim, b) for b in batches]

        async def run(dim: Any, batch: list[Entry]) -> tuple[float | None, Any]:
            async with sem:
                return await rate_dimension(
                    model,
                    scale,
                    dim,
                    batch,
                    _who(character),
                    anonymize_names=ctx.anonymize,
                    retries=ctx.parse_retries,
                )

        with track_usage() as usage:
            results = await asyncio.gather(*(run(d, b) for d, b in jobs))
        ratings: list[dict[str, Any]] = []
        failures: list[dict[str, Any]] = []
        for (dim, batch), (score, rec) in zip(jobs, results, strict=True):
            ratings.append(
                {
                    "dimension": dim.id,
                    "item_ids": [e.item_id for e in batch],
                    "score": score,
                    "analysis": (rec.output or {}).get("analysis"),
                    "error": rec.error,
                    "attempts": rec.attempts,
                }
            )
            if score is None:
                failures += [
                    {
                        "stage": "assessment",
                        "item_id": e.item_id,
                        "dimension": dim.id,
                        "kind": "unparsed",
                        "reason": rec.error,
                    }
                    for e in batch
                ]
        return _assessed(
            transcript, failures, usage, dimension_ratings=ratings, assessor_outputs=list(ratings)
        )

    return rate_dimensions


def score(state: dict[str, Any], runtime: Runtime[Context]) -> dict[str, Any]:
    """Apply the scale's scoring scheme; too many failures give a missing score, never a midpoint."""
    ctx = _ctx(runtime)
    scale = load_scale(state["scale"])
    failures = state.get("failures") or []
    failed_by_dim: dict[str, set[str]] = {}
    for f in failures:
        if f.get("item_id"):
            failed_by_dim.setdefault(f["dimension"], set()).add(f["item_id"])
    out: dict[str, Any] = {}
    if ctx.method in ITEM_METHODS:
        values = {k: v for k, v in (state.get("item_values") or {}).items() if k in scale.item_map}
        result = scale.score(values, max_missing=ctx.max_missing)
        for dim_id, d in result.dimensions.items():
            out[dim_id] = {**d.model_dump(mode="json"), "n_failed": len(failed_by_dim.get(dim_id, set()))}
        return {"scores": out}
    low, high = scale.range
    ratings = state.get("dimension_ratings") or []
    for dim in scale.dimensions:
        n_items = len(scale.items_of(dim.id))
        good = [r["score"] for r in ratings if r["dimension"] == dim.id and r["score"] is not None]
        n_failed = len(failed_by_dim.get(dim.id, set()))
        mean = sum(good) / len(good) if good else None
        value: float | None = None
        if mean is not None and n_failed / n_items <= ctx.max_missing + 1e-12:
            value = convert_score(mean, ScoringMode.AVG, scale.scoring, n_items=n_items, low=low, high=high)
        s_low, s_high = scale.score_bounds(dim.id)
        out[dim.id] = {
            "dimension": dim.id,
            "score": value,
            "item_mean": mean,
            "n_items": n_items,
            "n_answered": n_items - n_failed,
            "n_failed": n_failed,
            "missing": sorted(failed_by_dim.get(dim.id, set())),
            "prorated": False,
            "type": None if value is None else classify_type(value, s_low, s_high),
            "norms": []
            if value is None
            else [
                norm_score(value, nm, n_items=n_items, low=low, high=high, mode=scale.scoring).model_dump()
                for nm in scale.norms_of(dim.id)
            ],
            "batch_scores": good,
        }
    return {"scores": out}
