"""Experiments: many runs of the pipeline graph, checkpointed, resumable, idempotent.

An experiment spec (YAML/JSON) lists characters, scales, methods, RPA and assessor
models, temperatures and trials. Each (character, scale, method, RPA model,
assessor model, temperature, trial) is one LangGraph thread whose id is the run id;
a persistent checkpointer (SQLite in the experiment directory, or PostgreSQL from a
``postgresql://`` URL) lets a killed run resume where it stopped: answers already
checkpointed are not asked again. A finished run is skipped without any model call.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import os
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langgraph.types import Durability
from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from personascope.agents.endpoints import check_urls, register_pools
from personascope.agents.interviewer import needs_interviewer
from personascope.agents.preflight import check_models
from personascope.agents.rpa import RolePlayingAgent, RPAFactory
from personascope.agents.rpa_specs import check_injected, default_assessor, parse_rpa_spec
from personascope.axes import (
    AXES,
    EXPERIMENTER,
    INTERVIEW,
    ITEM_ORDER,
    OPTION_ORDER,
    QUESTION_STYLE,
    check_value,
    recursion_limit,
    variant_label,
    variants,
)
from personascope.errors import InputError, from_validation_error
from personascope.graphs.checkpoint import open_checkpointer
from personascope.graphs.context import Context
from personascope.graphs.lock import hold_experiment, prepare_experiment_dir
from personascope.graphs.pipeline import build_pipeline_graph
from personascope.graphs.progress import DURABILITY, EventHook, RunEvent, run_label, stream_run
from personascope.graphs.state import PipelineState
from personascope.memories.characters import builtin_character_ids, load_character
from personascope.memories.store import MemoryStore
from personascope.methods import get_method, method_ids
from personascope.results import is_postgres_url, keep_results_open, resolve_url, run_id
from personascope.safeio import error_text
from personascope.scales import builtin_scale_ids, load_scale


def _known_method(value: str) -> str:
    if value not in method_ids():
        raise ValueError(f"unknown method {value!r}; expected one of {', '.join(method_ids())}")
    return value


#: A registered method id (built-in, registered or from the ``personascope.methods`` entry points).
MethodId = Annotated[str, AfterValidator(_known_method)]


class ExperimentSpec(BaseModel):
    """What to run: the cross product of these lists, ``trials`` times each."""

    model_config = ConfigDict(extra="forbid")

    name: str = "experiment"
    characters: list[str] = Field(min_length=1)
    scales: list[str] = Field(min_length=1)
    methods: list[MethodId] = Field(default_factory=lambda: ["er_batch"], min_length=1)
    rpa_models: list[str] = Field(default_factory=lambda: ["local"], min_length=1)
    assessor_models: list[str] = Field(default_factory=lambda: ["local"], min_length=1)
    interviewer_model: str = "local"
    temperatures: list[float] = Field(default_factory=lambda: [0.0], min_length=1)
    trials: int = Field(default=1, ge=1)
    # Experiment axes (personascope.axes): a run per value; the default value is the baseline.
    item_orders: list[str] = Field(default_factory=lambda: [ITEM_ORDER.default], min_length=1)
    option_orders: list[str] = Field(default_factory=lambda: [OPTION_ORDER.default], min_length=1)
    question_styles: list[str] = Field(default_factory=lambda: [QUESTION_STYLE.default], min_length=1)
    experimenter_personas: list[str] = Field(default_factory=lambda: [EXPERIMENTER.default], min_length=1)
    interviews: list[str] = Field(default_factory=lambda: [INTERVIEW.default], min_length=1)
    concurrency: int = Field(default=2, ge=1, description="Runs in flight at once.")
    run_concurrency: int = Field(default=4, ge=1, description="Calls in flight within a run.")
    endpoints: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Named fleets of OpenAI-compatible base URLs: openai-compatible:<model>@<name>.",
    )
    database: str | None = Field(
        default=None,
        validation_alias=AliasChoices("database", "checkpointer"),
        description=(
            "postgresql:// URL (or env:NAME naming a variable that holds it) for checkpoints and "
            "results, shared by every worker; default: SQLite files in the experiment directory."
        ),
    )
    context: dict[str, Any] = Field(default_factory=dict, description="Other Context fields.")

    @field_validator("characters", "scales")
    @classmethod
    def _files_absolute(cls, v: list[str]) -> list[str]:
        # A profile or scale file is recorded by its absolute path: reports, evaluations
        # and resumes started from another folder must find the same file.
        builtin = {*builtin_character_ids(), *builtin_scale_ids()}
        return [os.path.abspath(x) if x not in builtin and Path(x).is_file() else x for x in v]

    @field_validator("temperatures")
    @classmethod
    def _temps(cls, v: list[float]) -> list[float]:
        bad = [t for t in v if not 0.0 <= t <= 2.0]
        if bad:
            raise ValueError(f"expected temperatures in [0, 2], got {bad}")
        return v

    @field_validator("endpoints")
    @classmethod
    def _endpoints(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, urls in v.items():
            if name.startswith(("http://", "https://")) or "," in name:
                raise ValueError(f"{name!r}: expected a pool name, not URLs")
            try:
                check_urls(urls, name)
            except InputError as exc:
                raise ValueError(f"{name!r}: {exc.detail}") from None
        return v

    @field_validator("database")
    @classmethod
    def _database(cls, v: str | None) -> str | None:
        if v is not None and not (is_postgres_url(v) or v.startswith("env:")):
            raise ValueError(f"expected a postgresql:// URL or env:NAME, got {v[:40]!r}")
        return v

    @property
    def database_url(self) -> str | None:
        """The PostgreSQL URL with any ``env:NAME`` resolved (``None``: SQLite)."""
        return resolve_url(self.database)

    def thread_id(self, plan: RunPlan) -> str:
        """LangGraph thread of a run: its run id, prefixed by the experiment name in a
        shared database so that two experiments there never share a thread."""
        return f"{self.name}/{plan.run_id}" if self.database else plan.run_id

    @model_validator(mode="after")
    def _axes(self) -> ExperimentSpec:
        templates = self.context.get("question_templates") or {}
        for axis in AXES:
            for value in getattr(self, axis.spec_field):
                check_value(axis, value, templates)
        return self

    @property
    def axis_spans(self) -> dict[str, list[str]]:
        """Each axis's values in this spec, by axis id."""
        return {a.id: getattr(self, a.spec_field) for a in AXES}

    @field_validator("context")
    @classmethod
    def _context(cls, v: dict[str, Any]) -> dict[str, Any]:
        known = set(Context.__dataclass_fields__)
        owned = {
            "rpa_model",
            "assessor_model",
            "interviewer_model",
            "method",
            "temperature",
            "trial",
            "experiment_dir",
            "experiment",
            "database",
            "concurrency",
            "transcript_from",  # set by personascope reassess on the forks it makes
            *(a.id for a in AXES),  # the spec's axis lists set them
        }
        bad = sorted(set(v) - (known - owned))
        if bad:
            raise ValueError(f"unknown or spec-owned context field(s) {bad}")
        return v


def load_spec(path: str | Path) -> ExperimentSpec:
    """Read and check a spec: every character and scale must load, before anything runs."""
    from personascope.scales.loader import read_data_file

    p = Path(path)
    data = read_data_file(p)
    try:
        spec = ExperimentSpec.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(p, exc) from None
    check_spec(spec, p)
    return spec


def single_run_spec(
    character: str,
    scale: str,
    *,
    method: str | None = None,
    model: str | None = None,
    assessor: str | None = None,
    temperature: float | None = None,
    trials: int | None = None,
    concurrency: int | None = None,
    context: dict[str, Any] | None = None,
) -> ExperimentSpec:
    """The spec of ``personascope run``: one character and scale; whatever is ``None``
    keeps the spec's (and the context's) default. The assessor defaults to the RPA model
    and also rewrites items that have no open-ended question."""
    fields: dict[str, Any] = {"name": f"{character} × {scale}", "characters": [character], "scales": [scale]}
    assessor = assessor or default_assessor(model)  # an RPA spec's model=, not the RPA spec
    optional = {
        "methods": [method] if method else None,
        "rpa_models": [model] if model else None,
        "assessor_models": [assessor] if assessor else None,
        "interviewer_model": assessor,
        "temperatures": None if temperature is None else [temperature],
        "trials": trials,
        "run_concurrency": concurrency,
        "context": context or None,
    }
    fields.update({k: v for k, v in optional.items() if v is not None})
    try:
        spec = ExperimentSpec.model_validate(fields)
    except ValidationError as exc:
        raise from_validation_error("command line", exc) from None
    check_spec(spec, "command line")
    return spec


def preflight(spec: ExperimentSpec, *, rpa_injected: bool = False, assessor_injected: bool = False) -> None:
    """Check every model the spec's runs will call (injected objects excepted); the
    interviewer only when some item has no open-ended question to ask."""
    needed: list[tuple[str, str]] = []
    if not rpa_injected:
        needed += [("rpa model", m) for m in spec.rpa_models]
    if not assessor_injected:
        needed += [("assessor model", m) for m in spec.assessor_models]
    language = str(spec.context.get("language", "en"))
    styles, talks = spec.question_styles, spec.interviews != [INTERVIEW.default]
    if talks or any(needs_interviewer(y, load_scale(s).items, language) for y in styles for s in spec.scales):
        needed.append(("interviewer model", spec.interviewer_model))
    check_models(needed)


def check_spec(spec: ExperimentSpec, source: str | Path) -> None:
    from personascope.agents.models import parse_spec

    register_pools(spec.endpoints)
    try:
        spec.database_url  # noqa: B018 - resolves env:NAME, so a missing variable fails here
    except InputError as exc:
        raise InputError(source, "database", exc.detail) from None
    for i, c in enumerate(spec.characters):
        try:
            load_character(c)
        except InputError as exc:
            raise InputError(source, f"characters[{i}]", f"{c!r}: {exc.detail}") from None
    for i, s in enumerate(spec.scales):
        try:
            load_scale(s)
        except InputError as exc:
            raise InputError(source, f"scales[{i}]", f"{s!r}: {exc.detail}") from None
    models = [
        (f"{f}[{i}]", m) for f in ("rpa_models", "assessor_models") for i, m in enumerate(getattr(spec, f))
    ]
    for field, m in [*models, ("interviewer_model", spec.interviewer_model)]:
        try:
            # An RPA may be named by an RPA spec; its model= (if any) is the model checked here.
            parsed = parse_rpa_spec(m).model_spec() if field.startswith("rpa_models") else parse_spec(m)
        except InputError as exc:
            raise InputError(source, field, f"{m!r}: {exc.field}: {exc.detail}") from None
        if parsed is None:
            continue
        # Pool names are registered process-wide; a spec may only use the ones it lists
        # (not a name left over from another experiment run in this process).
        target = parsed.base_url or ""
        named_pool = not target.startswith(("http://", "https://")) and "," not in target
        if parsed.provider == "openai-compatible" and named_pool and target not in spec.endpoints:
            raise InputError(
                source,
                field,
                f"{m!r}: {target!r} is not a pool name listed under endpoints ({sorted(spec.endpoints)})",
            )


@dataclass(frozen=True)
class RunPlan:
    run_id: str
    character: str
    scale: str
    method: str
    rpa_model: str
    assessor_model: str
    temperature: float
    trial: int
    #: The experiment axes that differ from their defaults (personascope.axes.variant_of).
    variant: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        """How progress displays name this run (the assessor included: runs differ by it)."""
        label = run_label(
            self.character,
            self.scale,
            self.method,
            self.rpa_model,
            self.assessor_model,
            self.temperature,
            self.trial,
        )
        return f"{label} [{variant_label(dict(self.variant))}]" if self.variant else label


def plan_runs(spec: ExperimentSpec) -> list[RunPlan]:
    runs = []
    spans = spec.axis_spans
    for char, scale, method, rpa, assessor, temp, trial in itertools.product(
        spec.characters,
        spec.scales,
        spec.methods,
        spec.rpa_models,
        spec.assessor_models,
        spec.temperatures,
        range(spec.trials),
    ):
        # Axis values that cannot change this method's measurement are not planned (variants).
        for variant in variants(spans, get_method(method)):
            runs.append(
                RunPlan(
                    run_id(char, scale, method, rpa, assessor, temp, trial, variant),
                    char,
                    scale,
                    method,
                    rpa,
                    assessor,
                    temp,
                    trial,
                    tuple(variant.items()),
                )
            )
    return runs


@dataclass
class RunOutcome:
    plan: RunPlan
    status: str  # "done" (already finished), "ran", "failed"
    seconds: float
    error: str | None = None
    result: dict[str, Any] | None = None


ProgressHook = Callable[[RunOutcome], None]


_FROZEN = False
# Young objects collected per generation-0 pass while an experiment runs (Python's: 700).
ENGINE_GC_THRESHOLD = 50_000


@asynccontextmanager
async def engine_gc() -> AsyncIterator[None]:
    """The garbage collector tuned for an experiment, then restored (it decorates
    :func:`run_experiment`: an ``AsyncContextDecorator`` keeps one signature).

    What exists at the first experiment's start (modules, classes, schemas: some 280,000
    objects, none of them garbage) is frozen out of the collector's reach, once per
    process; every full collection walked them all. Generation 0 is collected every
    50,000 allocations instead of 700: an experiment allocates fast and keeps little.
    With instant models at 512 calls in flight (bench_engine's protocol) the collector
    took 0.5 ms of the engine's 1.25 ms of CPU per call; now 0.02-0.03 of 0.80 (0.07 of
    0.82 at 10,000)."""
    global _FROZEN
    if not _FROZEN:
        _FROZEN = True
        gc.freeze()
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], ENGINE_GC_THRESHOLD), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


@engine_gc()
async def run_experiment(
    spec: ExperimentSpec,
    exp_dir: str | Path,
    *,
    rpa: RolePlayingAgent | RPAFactory | None = None,
    assessor: BaseChatModel | None = None,
    store: MemoryStore | None = None,
    rpa_label: str | None = None,
    assessor_label: str | None = None,
    on_done: ProgressHook | None = None,
    on_event: EventHook | None = None,
    durability: Durability = DURABILITY,
    runs: Sequence[RunPlan] | None = None,
    hold_lock: bool = True,
) -> list[RunOutcome]:
    """Run (or resume) every run of ``spec`` (or only ``runs``, a part of its plan, as a
    distributed worker does); finished runs are skipped without model calls.

    Every model the runs need is checked first (:func:`preflight`): a missing key or an
    unreachable endpoint raises :class:`ConfigurationError` before anything is written.
    The experiment is locked while it runs (:mod:`personascope.graphs.lock`; a second
    process gets :class:`ExperimentBusy`) unless ``hold_lock`` is false."""
    check_injected(rpa, spec.characters)  # one RPA object cannot play several characters
    register_pools(spec.endpoints)
    preflight(spec, rpa_injected=rpa is not None, assessor_injected=assessor is not None)
    exp = prepare_experiment_dir(exp_dir)
    base = Context(
        interviewer_model=spec.interviewer_model,
        concurrency=spec.run_concurrency,
        experiment_dir=str(exp),
        experiment=spec.name,
        database=spec.database,
        **spec.context,
    )
    sem = asyncio.Semaphore(spec.concurrency)
    emit: EventHook = on_event or (lambda event: None)
    # One process writes an experiment (ExperimentBusy otherwise); a Ray worker's driver holds it.
    lock = hold_experiment(exp, spec.model_dump(mode="json"), spec.database_url, spec.name, hold=hold_lock)
    # SQLite results: one connection for every run's record (results.keep_results_open).
    results_held = keep_results_open(exp) if spec.database_url is None else nullcontext()
    async with lock, open_checkpointer(spec.database_url, exp) as saver:
        graph = build_pipeline_graph(
            rpa=rpa, assessor=assessor, store=store, rpa_label=rpa_label, assessor_label=assessor_label
        ).compile(checkpointer=saver)

        async def one(plan: RunPlan) -> RunOutcome:
            async with sem:
                t = time.perf_counter()
                config: RunnableConfig = {
                    "configurable": {"thread_id": spec.thread_id(plan)},
                    "recursion_limit": recursion_limit(dict(plan.variant)),
                }
                ctx = replace(
                    base,
                    rpa_model=plan.rpa_model,
                    assessor_model=plan.assessor_model,
                    method=plan.method,
                    temperature=plan.temperature,
                    trial=plan.trial,
                    **dict[str, Any](plan.variant),
                )
                label = plan.label
                snapshot = await graph.aget_state(config)
                if snapshot.values.get("result") and not snapshot.next:
                    outcome = RunOutcome(plan, "done", 0.0, result=snapshot.values["result"])
                    items = len(snapshot.values.get("transcript") or [])
                    emit(RunEvent(plan.run_id, "skipped", label, items=items, status="done"))
                else:
                    # A started thread resumes from its checkpoint (input None); a new one starts.
                    payload: PipelineState | None = (
                        None if snapshot.next else {"character": plan.character, "scale": plan.scale}
                    )
                    emit(RunEvent(plan.run_id, "started", label))
                    try:
                        # Streamed: node updates and ask_item's custom events drive the progress.
                        result = await stream_run(
                            graph, payload, config, ctx, plan.run_id, label, on_event, durability
                        )
                        outcome = RunOutcome(plan, "ran", time.perf_counter() - t, result=result)
                        status = (result or {}).get("status")
                        emit(RunEvent(plan.run_id, "done", label, status=status, seconds=outcome.seconds))
                    except InputError:
                        raise
                    except Exception as exc:
                        # Redacted (an endpoint may echo its key); a full disk is named as such.
                        outcome = RunOutcome(plan, "failed", time.perf_counter() - t, error=error_text(exc))
                        emit(RunEvent(plan.run_id, "failed", label, error=outcome.error))
                if on_done:
                    on_done(outcome)
                return outcome

        todo = plan_runs(spec) if runs is None else list(runs)
        with results_held:
            return list(await asyncio.gather(*(one(p) for p in todo)))
