"""Graph nodes: the bound methods of :class:`Nodes`, named at ``add_node``.

Injected objects (a custom RPA, chat models, a memory store) are the fields of one
dataclass; whatever is not injected is resolved from the run context's model specs
on first use and reused. Every node takes the typed state and ``Runtime[Context]``
and returns a typed partial update. The assessment method is a
:class:`~personascope.methods.Method` object, read from the registry by id.
"""

from __future__ import annotations

import asyncio
import re
import threading
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
    lettered_options,
    parse_multiple_choice,
    parse_self_report,
)
from personascope.agents.character_agent import recording_memories
from personascope.agents.interviewer import item_question, needs_interviewer
from personascope.agents.judgement import TOP_LOGPROBS, logprob_mass
from personascope.agents.models import ModelParams, resolve_model
from personascope.agents.prompts import MULTIPLE_CHOICE_PROMPT, SELF_REPORT_COT_PROMPT, SELF_REPORT_PROMPT
from personascope.agents.rpa import RolePlayingAgent, RPAError, RPAFactory, RPARequest, safe_answer
from personascope.agents.rpa_specs import (
    build_rpa,
    check_injected,
    is_agent_object,
    parse_rpa_spec,
    rpa_provenance,
)
from personascope.agents.usage import track_usage
from personascope.graphs import assessing, variants
from personascope.graphs.context import Context
from personascope.graphs.progress import emit_item_event
from personascope.graphs.provenance import build_record
from personascope.graphs.state import (
    AskState,
    AssessmentResults,
    AssessmentState,
    InterviewState,
    InterviewUpdate,
    PipelineState,
    RecordUpdate,
)
from personascope.memories.characters import Character, load_character
from personascope.memories.embeddings import embed_questions
from personascope.memories.store import MemoryStore
from personascope.methods import Method, get_method
from personascope.records import Answer, AssessorOutput, Failure, ItemDistribution, Question
from personascope.results import write_record
from personascope.scales import Scale, load_scale
from personascope.scales.scoring import (
    OptionDistribution,
    Rating,
    option_distribution,
    score_ratings,
    score_scale,
)


def context_of(runtime: Runtime[Context] | None) -> Context:
    """The run's context (defaults when a graph is invoked without one)."""
    return runtime.context if runtime is not None and runtime.context is not None else Context()


def method_of(ctx: Context) -> Method:
    """The run's :class:`Method` object."""
    return get_method(ctx.method, "context")


def _cache_path(ctx: Context) -> Path | None:
    return Path(ctx.experiment_dir) / "llm-cache.sqlite" if ctx.experiment_dir else None


#: Answer tokens a probability-scored self-report may use (its value is the first token's).
PROBABILITY_ANSWER_TOKENS = 8


def _params(ctx: Context, *, rpa: bool) -> ModelParams:
    method = method_of(ctx)
    # The RPA's own option probabilities are asked for only where a method scores from them.
    top = TOP_LOGPROBS if rpa and method.probabilities and method.questions != "open" else None
    max_tokens = ctx.max_tokens if rpa else ctx.assessor_max_tokens
    if top is not None:
        # The score is read from the first answer token: a few tokens are enough to see
        # the digit, and a small model asked for "the number only" may otherwise ramble.
        max_tokens = min(max_tokens, PROBABILITY_ANSWER_TOKENS)
    return ModelParams(
        top_logprobs=top,
        temperature=ctx.temperature if rpa else ctx.assessor_temperature,
        trial=ctx.trial,
        seed=ctx.seed + ctx.trial if rpa else ctx.seed,
        max_tokens=max_tokens,
        cache_path=_cache_path(ctx),
        timeout=ctx.request_timeout,
        max_retries=ctx.max_retries,
    )


def _thread_id() -> str:
    try:
        return str(get_config().get("configurable", {}).get("thread_id", ""))
    except RuntimeError:  # called outside a runnable context
        return ""


def _safe_name(name: str) -> str:
    # OpenAI-style message names allow [A-Za-z0-9_-] only.
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")[:64] or "experimenter"


@dataclass
class Nodes:
    """Objects injected into a graph builder (``None``: resolve from the context), and
    the nodes that use them. ``rpa_label`` / ``assessor_label`` name injected objects
    in the run record (default: the context's model specs). ``rpa`` is an RPA object
    (it plays one character only) or a factory ``factory(request) -> RPA``."""

    rpa: RolePlayingAgent | RPAFactory | None = None
    interviewer: BaseChatModel | None = None
    assessor: BaseChatModel | None = None
    store: MemoryStore | None = None
    rpa_label: str | None = None
    assessor_label: str | None = None
    _models: dict[tuple[str, str, ModelParams], BaseChatModel] = field(default_factory=dict, repr=False)
    _stores: dict[str | None, MemoryStore] = field(default_factory=dict, repr=False)
    _agents: dict[tuple[Any, ...], RolePlayingAgent] = field(default_factory=dict, repr=False)
    _limits: dict[tuple[int, str], asyncio.Semaphore] = field(default_factory=dict, repr=False)
    _played: set[str] = field(default_factory=set, repr=False)
    # Sync nodes run in worker threads: one lock so a factory runs once per key.
    _build_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # -- resolution -------------------------------------------------------------

    def model(self, role: str, ctx: Context) -> BaseChatModel:
        """The interviewer's or assessor's chat model (injected, or from its spec)."""
        injected = self.interviewer if role == "interviewer" else self.assessor
        if injected is not None:
            return injected
        key = self._model_key(role, ctx)
        if key not in self._models:
            self._models[key] = resolve_model(key[1], key[2])
        return self._models[key]

    def _model_key(self, role: str, ctx: Context) -> tuple[str, str, ModelParams]:
        spec = ctx.interviewer_model if role == "interviewer" else ctx.assessor_model
        return (role, spec, _params(ctx, rpa=False))

    async def amodel(self, role: str, ctx: Context) -> BaseChatModel:
        """:meth:`model` for a coroutine node: a model not built yet is built in a worker
        thread (it may create its LLM cache file), never on the event loop (Studio's
        ``langgraph dev`` refuses blocking calls there). A run resumed past ``load_scale``,
        and the assessment graph, get here first."""
        injected = self.interviewer if role == "interviewer" else self.assessor
        if injected is None and self._model_key(role, ctx) not in self._models:
            return await asyncio.to_thread(self.model, role, ctx)
        return self.model(role, ctx)

    async def arole_player(self, ctx: Context, character: Character) -> RolePlayingAgent:
        """:meth:`role_player` for a coroutine node: an RPA not built yet (memory store,
        LLM cache, a factory's own set-up) is built in a worker thread."""
        if self.rpa is not None and is_agent_object(self.rpa):
            return self.role_player(ctx, character)
        built = self._agents.get(self._agent_key(ctx, character))
        return built if built is not None else await asyncio.to_thread(self.role_player, ctx, character)

    def _agent_key(self, ctx: Context, character: Character) -> tuple[Any, ...]:
        params = _params(ctx, rpa=True)
        persona = variants.persona(ctx, character).experimenter  # the RPA is built for one persona
        return (character.id, ctx.rpa_model, params, ctx.k, ctx.max_chars, ctx.experiment_dir, persona)

    def memory_store(self, ctx: Context) -> MemoryStore:
        if self.store is not None:
            return self.store
        if ctx.experiment_dir not in self._stores:
            self._stores[ctx.experiment_dir] = (
                MemoryStore(path=Path(ctx.experiment_dir) / "memories")
                if ctx.experiment_dir
                else MemoryStore.ephemeral()
            )
        return self._stores[ctx.experiment_dir]

    def role_player(self, ctx: Context, character: Character) -> RolePlayingAgent:
        """The RPA playing ``character``: the injected object (one character only), or
        what the injected factory or the context's RPA spec builds, once per (character,
        temperature, trial) and reused for every item, scale and method of that cell."""
        if self.rpa is not None and is_agent_object(self.rpa):
            self._played.add(character.id)
            check_injected(self.rpa, sorted(self._played))
            return self.rpa  # type: ignore[return-value]  # is_agent_object checked it
        params = _params(ctx, rpa=True)
        key = self._agent_key(ctx, character)
        character = variants.persona(ctx, character)
        with self._build_lock:
            if key not in self._agents:
                request = RPARequest(
                    character,
                    self.memory_store(ctx),
                    temperature=ctx.temperature,
                    seed=ctx.seed + ctx.trial,
                    trial=ctx.trial,
                    model_params=params,
                    k=ctx.k,
                    max_chars=ctx.max_chars,
                )
                self._agents[key] = build_rpa(ctx.rpa_model, request, factory=self.rpa)  # type: ignore[arg-type]
        return self._agents[key]

    def labels(self, ctx: Context) -> tuple[str, str]:
        """How the run record names the RPA and the assessor."""
        return self.rpa_label or ctx.rpa_model, self.assessor_label or ctx.assessor_model

    # -- interview --------------------------------------------------------------

    def load_scale(self, state: InterviewState, runtime: Runtime[Context]) -> InterviewUpdate:
        """Check the scale, the character, the method and every model before any fan-out:
        a misconfigured run fails here with one line, not with one failure per item."""
        ctx = context_of(runtime)
        method_of(ctx)
        scale = load_scale(state["scale"])
        # The RPA is built here, once: a broken factory or spec fails the run in one line.
        self.role_player(ctx, load_character(state["character"]))
        self.model("assessor", ctx)
        talks = ctx.interview == "conversation"  # the interviewer agent follows up and makes small talk
        if talks or needs_interviewer(ctx.question_style, scale.items, ctx.language):
            self.model("interviewer", ctx)
        return {}

    async def plan_questions(self, state: InterviewState, runtime: Runtime[Context]) -> InterviewUpdate:
        """One question per item, in the method's question style, the run's question style
        (open questions) and option order (self-report), in the run's item order."""
        ctx = context_of(runtime)
        method = method_of(ctx)
        scale = load_scale(state["scale"])
        character = variants.persona(ctx, load_character(state["character"]))
        low, high = scale.range
        anchors = variants.self_report_anchors(ctx, scale)
        questions: list[Question] = []
        # item_limit: a quick look at the first N items (the rest count as not asked).
        for item in (scale.item_map[i] for i in variants.item_ids(ctx, scale)):
            if method.questions == "multiple_choice":
                options = "\n".join(f"({letter}). {label}" for letter, _, label in lettered_options(scale))
                statement = item.text[:1].lower() + item.text[1:]
                text = MULTIPLE_CHOICE_PROMPT.format(statement_lower=statement.rstrip("."), options=options)
            elif method.questions != "open":
                template = SELF_REPORT_COT_PROMPT if method.cot else SELF_REPORT_PROMPT
                text = template.format(statement=item.text, low=low, high=high, anchors=anchors)
            else:
                style = ctx.question_style
                needed = needs_interviewer(style, [item], ctx.language)
                text = await item_question(
                    item,
                    style,
                    language=ctx.language,
                    interviewer=await self.amodel("interviewer", ctx) if needed else None,
                    templates=ctx.question_templates,
                    experimenter=character.experimenter,
                    name=character.name,
                )
            questions.append(
                Question(
                    item_id=item.id,
                    dimension=item.dimension,
                    statement=item.text,
                    key=item.key,
                    question=text,
                )
            )
        # The character agent embeds each question to retrieve memories; every character
        # and trial is asked the same questions. One batch here (cached per process)
        # leaves no ask_item waiting for its question's embedding (bench_retrieval.py).
        agent = self.rpa is None and parse_rpa_spec(ctx.rpa_model).kind == "model"
        if agent and ctx.k > 0 and load_character(state["character"]).memories:
            await asyncio.to_thread(embed_questions, [q["question"] for q in questions])
        return {"questions": questions}

    async def ask_item(self, state: AskState, runtime: Runtime[Context]) -> InterviewUpdate:
        """Ask one item in its own conversation: the RPA sees this question only."""
        ctx = context_of(runtime)
        q = state["question"]
        character = variants.persona(ctx, load_character(state["character"]))
        rpa = await self.arole_player(ctx, character)  # built by load_scale, unless resumed past it
        # One limit per run (thread): runs in flight together each get `concurrency` calls.
        key = (id(asyncio.get_running_loop()), _thread_id())
        sem = self._limits.setdefault(key, asyncio.Semaphore(max(1, ctx.concurrency)))
        queued = time.perf_counter()
        answer: str | None = None
        truncated = False
        error: str | None = None
        kind: str | None = None
        tokens: dict[str, dict[str, int]] = {}
        async with sem:
            # Time waiting for a slot is the run's queue, not the RPA's speed: kept apart.
            started = time.perf_counter()
            emit_item_event("asking", q["item_id"])  # progress displays and Studio's stream
            message = HumanMessage(q["question"], name=_safe_name(character.experimenter))
            try:
                with track_usage() as usage, recording_memories() as retrieved:
                    reply = await safe_answer(
                        rpa, [message], timeout=ctx.answer_timeout, max_answer_chars=ctx.max_answer_chars
                    )
                answer, truncated = reply.text, reply.truncated
                tokens = assessing.usage_counts(usage)
            except RPAError as exc:  # transport, timeout and output errors of this one answer
                error, kind = str(exc), exc.kind
        ans = Answer(
            item_id=q["item_id"],
            dimension=q["dimension"],
            question=q["question"],
            answer=answer,
            error=error,
            error_kind=kind,
            seconds=round(time.perf_counter() - started, 3),
            wait_seconds=round(started - queued, 3),
        )
        if truncated:
            ans["truncated"] = True
        if answer is not None and method_of(ctx).probabilities and method_of(ctx).questions != "open":
            options = [o.value for o in load_scale(state["scale"]).response_options]
            mass = logprob_mass(retrieved.response_metadata or {}, options)
            if mass is not None:
                ans["distribution"] = assessing.item_distribution(option_distribution(mass), "logprobs")
        if answer is not None and retrieved.memories is not None:
            ans["memories"] = retrieved.memories  # what the reader of the report sees beside the answer
        total = sum(c.get("total_tokens", 0) for c in tokens.values())
        emit_item_event("answered", q["item_id"], tokens=total, seconds=ans["seconds"], error=error)
        return {"answers": [ans], "usage": {"rpa": tokens}}

    def collect_transcript(self, state: InterviewState) -> InterviewUpdate:
        """Order the answers as the scale orders its items."""
        order = {q["item_id"]: i for i, q in enumerate(state.get("questions") or [])}
        answers = sorted(state.get("answers") or [], key=lambda a: order.get(a["item_id"], 1 << 30))
        return {"transcript": answers}

    # -- assessment -------------------------------------------------------------

    def select_assessment(self, state: AssessmentState) -> AssessmentResults:
        """A step of its own between the transcript and its assessment, so that the
        assessment node is chosen when the run goes on, from that run's context: a state
        written as ``collect_transcript`` (``update_state``, or a fork re-assessed with
        another method) runs no router then, and is assessed by the method it resumes with."""
        return {}

    def _scorable(self, state: AssessmentState, ctx: Context, scale: Scale) -> list[Entry]:
        # Flagged answers never reach the assessor unless the user opts in (score_flagged); the
        # rest reach it in the run's item order (counterbalancing of batched assessors).
        found = assessing.scorable(state["transcript"], scale, ctx.score_flagged)[0]
        return variants.in_item_order(found, ctx, scale, key=lambda e: e.item_id)

    def _assessed(
        self, state: AssessmentState, failures: list[Failure], usage: Any, ctx: Context
    ) -> AssessmentResults:
        transcript = state["transcript"]
        flagged = assessing.flags(transcript)
        injected = assessing.injection_failures(flagged, load_scale(state["scale"]), ctx.score_flagged)
        return {
            "failures": assessing.answer_failures(transcript) + injected + failures,
            "flags": flagged,
            "usage": {"assessor": assessing.usage_counts(usage)},
        }

    async def convert_options(self, state: AssessmentState, runtime: Runtime[Context]) -> AssessmentResults:
        """Option conversion (OC, d-OC) in batches, or item judgement one answer per call:
        the assessor maps each answer to an option (or a distribution over them)."""
        ctx = context_of(runtime)
        method = method_of(ctx)
        scale = load_scale(state["scale"])
        character = variants.persona(ctx, load_character(state["character"]))
        entries = self._scorable(state, ctx, scale)
        model = await self.amodel("assessor", ctx)
        distributions: dict[str, ItemDistribution] = {}
        with track_usage() as usage:
            if method.assessor == "item_judgement":
                values, distributions, outputs, failures = await assessing.judge_entries(
                    model, method, ctx, scale, character, entries
                )
            else:
                values, outputs, failures = await assessing.convert_entries(
                    model, method, ctx, scale, character, entries
                )
        return {
            **self._assessed(state, failures, usage, ctx),
            "item_values": values,
            "item_distributions": distributions,
            "assessor_outputs": outputs,
        }

    async def parse_self_report(self, state: AssessmentState, runtime: Runtime[Context]) -> AssessmentResults:
        """Self-report (SR, SR-CoT): read the option the RPA chose; answers that name no
        option go to option conversion, as in InCharacter. A probability-scored
        self-report (SR-prob) takes the RPA's own distribution over the options where it
        was recorded with the answer."""
        ctx = context_of(runtime)
        method = method_of(ctx)
        scale = load_scale(state["scale"])
        character = variants.persona(ctx, load_character(state["character"]))
        allowed = [o.value for o in scale.response_options]
        own = {a["item_id"]: a["distribution"] for a in state["transcript"] if "distribution" in a}
        values: dict[str, float | None] = {}
        distributions: dict[str, ItemDistribution] = {}
        fallback = []
        for e in self._scorable(state, ctx, scale):
            if method.probabilities and e.item_id in own:
                distributions[e.item_id] = own[e.item_id]
                values[e.item_id] = own[e.item_id]["expected"]
                continue
            if method.questions == "multiple_choice":
                v = parse_multiple_choice(
                    e.answer, {letter: value for letter, value, _ in lettered_options(scale)}
                )
            else:
                v = parse_self_report(e.answer, allowed, cot=method.cot)
            if v is None:
                fallback.append(e)
            else:
                values[e.item_id] = float(v)
        outputs: list[AssessorOutput] = [
            {"kind": "self_report", "parsed": sorted(values), "fallback_to_oc": [e.item_id for e in fallback]}
        ]
        failures: list[Failure] = []
        with track_usage() as usage:
            if fallback:
                oc_values, oc_outputs, failures = await assessing.convert_entries(
                    await self.amodel("assessor", ctx),
                    method,
                    ctx,
                    scale,
                    character,
                    fallback,
                    dimension_specific=False,
                )
                values.update(oc_values)
                outputs += oc_outputs
        return {
            **self._assessed(state, failures, usage, ctx),
            "item_values": values,
            "item_distributions": distributions,
            "assessor_outputs": outputs,
        }

    async def rate_dimensions(self, state: AssessmentState, runtime: Runtime[Context]) -> AssessmentResults:
        """Expert rating (ER_all, ER_batch, er_prob): the assessor rates each dimension from answers."""
        ctx = context_of(runtime)
        scale = load_scale(state["scale"])
        character = variants.persona(ctx, load_character(state["character"]))
        with track_usage() as usage:
            ratings, failures = await assessing.rate_entries(
                await self.amodel("assessor", ctx),
                method_of(ctx),
                ctx,
                scale,
                character,
                self._scorable(state, ctx, scale),
            )
        outputs: list[AssessorOutput] = [AssessorOutput(kind="er", **r) for r in ratings]  # type: ignore[typeddict-item]
        return {
            **self._assessed(state, failures, usage, ctx),
            "dimension_ratings": ratings,
            "assessor_outputs": outputs,
        }

    def score(self, state: AssessmentState, runtime: Runtime[Context]) -> AssessmentResults:
        """Apply the scale's scoring scheme (``scales.scoring``); too many failures give a
        missing score, never a midpoint."""
        ctx = context_of(runtime)
        scale = load_scale(state["scale"])
        failed: dict[str, set[str]] = {}
        for f in state.get("failures") or []:
            failed.setdefault(f["dimension"], set()).add(f["item_id"])
        if method_of(ctx).item_level:
            values = {k: v for k, v in (state.get("item_values") or {}).items() if k in scale.item_map}
            counts = {d: len(ids) for d, ids in failed.items()}
            dists = {
                item_id: OptionDistribution(
                    values=d["values"],
                    probabilities=d["probabilities"],
                    expected=d["expected"],
                    variance=d["variance"],
                    entropy=d["entropy"],
                    confidence=d["confidence"],
                    coverage=d["coverage"],
                )
                for item_id, d in (state.get("item_distributions") or {}).items()
            }
            result = score_scale(
                scale,
                values,
                max_missing=ctx.max_missing,
                options_only=False,
                failed=counts,
                distributions=dists,
            )
        else:
            ratings = [
                Rating(
                    dimension=r["dimension"],
                    item_ids=r["item_ids"],
                    score=r["score"],
                    variance=r["distribution"]["variance"] if "distribution" in r else None,
                    confidence=r["distribution"]["confidence"] if "distribution" in r else None,
                )
                for r in state.get("dimension_ratings") or []
            ]
            failed_ids = {d: sorted(ids) for d, ids in failed.items()}
            result = score_ratings(scale, ratings, failed_items=failed_ids, max_missing=ctx.max_missing)
        return {"scores": {d: s.model_dump(mode="json") for d, s in result.dimensions.items()}}

    # -- record -----------------------------------------------------------------

    def record(self, state: PipelineState, runtime: Runtime[Context]) -> RecordUpdate:
        """Assemble the run's record and write it to the results store (if one is set)."""
        ctx = context_of(runtime)
        rpa_label, assessor_label = self.labels(ctx)
        rpa = rpa_provenance(rpa_label if self.rpa is not None else ctx.rpa_model, injected=self.rpa)
        rec = build_record(state, ctx, rpa_label, assessor_label, rpa=rpa)
        if ctx.database:
            write_record(ctx.database, rec, ctx.experiment)
        elif ctx.experiment_dir:
            write_record(ctx.experiment_dir, rec)
        return {"result": rec.model_dump(mode="json")}


# -- routers --------------------------------------------------------------------


def route_after_plan_questions(state: InterviewState, runtime: Runtime[Context]) -> list[Send] | str:
    """Fan out one isolated ``ask_item`` per question not yet answered; a conversation
    interview asks them in turn instead (:mod:`personascope.graphs.conversation`)."""
    if context_of(runtime).interview == "conversation":
        return "take_turn"
    done = {a["item_id"] for a in state.get("answers") or [] if a.get("answer") is not None}
    sends = [
        Send("ask_item", AskState(character=state["character"], scale=state["scale"], question=q))
        for q in state.get("questions") or []
        if q["item_id"] not in done
    ]
    return sends or "collect_transcript"


def route_after_select_assessment(state: AssessmentState, runtime: Runtime[Context]) -> str:
    """The assessment node of the run's method."""
    return method_of(context_of(runtime)).node
