"""The occasion-based behaviour test (RealBehavior section 4.2).

``behavior build``: a graph generate_occasions → generate_behaviors ×N (Send, one
per occasion and polarity) → train_classifiers, whose products are files in
``<dir>/behavior/`` (occasions.yaml — editable, dataset.jsonl, classifiers/) and are
reused on re-run without any model call. ``behavior test``: every subject (a
character played by a model at a temperature and trial) describes what it would
do on each occasion; the dimension's classifier labels the description; the
criterion score CrS is the positive fraction, and BC correlates CrS with the
subjects' scale scores.
"""

from __future__ import annotations

import asyncio
import json
import operator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, cast

import pandas as pd
import yaml
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Send
from typing_extensions import TypedDict

from personascope.agents.behavior import (
    deduplicate,
    load_classifiers,
    parse_lines,
    save_classifiers,
    train_classifier,
)
from personascope.agents.models import ModelParams, resolve_model
from personascope.agents.prompts import BEHAVIORS_PROMPT, DESCRIBE_BEHAVIOR_PROMPT, OCCASIONS_PROMPT
from personascope.agents.rpa import RolePlayingAgent, RPAError, safe_reply
from personascope.errors import InputError
from personascope.evaluation.behavior import criterion_scores
from personascope.graphs.context import Context
from personascope.scales import load_scale


@dataclass(kw_only=True)
class BehaviorContext:
    """How the behaviour dataset is generated (RealBehavior: 40 occasions, 35 kept, 10 + 10)."""

    model: str = "local"
    behavior_dir: str = "behavior"
    n_occasions: int = 40
    keep: int = 35
    n_descriptions: int = 10
    temperature: float = 1.0
    similarity: float = 0.9
    concurrency: int = 4
    max_tokens: int = 600


class BuildState(TypedDict, total=False):
    scale: str
    occasions: dict[str, list[str]]
    behaviors: Annotated[list[dict[str, Any]], operator.add]
    metrics: dict[str, Any]


class BehaviorTask(TypedDict):
    scale: str
    dimension: str
    occasion: str
    polarity: int


def _paths(ctx: BehaviorContext) -> dict[str, Path]:
    root = Path(ctx.behavior_dir)
    return {
        "root": root,
        "occasions": root / "occasions.yaml",
        "dataset": root / "dataset.jsonl",
        "classifiers": root / "classifiers",
    }


class BehaviorUpdate(TypedDict, total=False):
    """What the build nodes write."""

    occasions: dict[str, list[str]]
    behaviors: list[dict[str, Any]]
    metrics: dict[str, Any]


@dataclass
class BehaviorNodes:
    """The build graph's nodes; ``model`` (injected) overrides the context's model spec."""

    model: BaseChatModel | None = None
    _models: dict[tuple[str, float, int], BaseChatModel] = field(default_factory=dict, repr=False)

    def llm(self, ctx: BehaviorContext) -> BaseChatModel:
        if self.model is not None:
            return self.model
        key = (ctx.model, ctx.temperature, ctx.max_tokens)
        if key not in self._models:
            self._models[key] = resolve_model(
                ctx.model,
                ModelParams(
                    temperature=ctx.temperature,
                    max_tokens=ctx.max_tokens,
                    cache_path=Path(ctx.behavior_dir) / "llm-cache.sqlite",
                ),
            )
        return self._models[key]

    async def generate_occasions(
        self, state: BuildState, runtime: Runtime[BehaviorContext]
    ) -> BehaviorUpdate:
        """Occasions per dimension (a user-edited or earlier list wins), de-duplicated."""
        ctx = runtime.context
        paths = _paths(ctx)
        scale = load_scale(state["scale"])
        existing: dict[str, list[str]] = {}
        if paths["occasions"].exists():
            existing = yaml.safe_load(paths["occasions"].read_text()) or {}
        occasions = dict(existing)
        for dim in scale.dimensions:
            if occasions.get(dim.id):
                continue
            low, high = (dim.poles.low, dim.poles.high) if dim.poles else ("low", "high")
            prompt = OCCASIONS_PROMPT.format(
                n=ctx.n_occasions, high_pole=high, low_pole=low, dimension=dim.name
            )
            reply = await self.llm(ctx).ainvoke([HumanMessage(prompt)])
            occasions[dim.id] = deduplicate(parse_lines(str(reply.content)), ctx.similarity, ctx.keep)
        paths["root"].mkdir(parents=True, exist_ok=True)
        paths["occasions"].write_text(yaml.safe_dump(occasions, sort_keys=False, allow_unicode=True))
        return {"occasions": occasions}

    async def generate_behaviors(
        self, task: BehaviorTask, runtime: Runtime[BehaviorContext]
    ) -> BehaviorUpdate:
        """Behaviour descriptions for one occasion and polarity."""
        ctx = runtime.context
        dim = load_scale(task["scale"]).dimension_map[task["dimension"]]
        adjective = dim.poles.high if dim.poles else dim.name
        prompt = BEHAVIORS_PROMPT.format(
            occasion=task["occasion"],
            polarity="is" if task["polarity"] else "is not",
            adjective=adjective,
            n=ctx.n_descriptions,
        )
        reply = await self.llm(ctx).ainvoke([HumanMessage(prompt)])
        texts = parse_lines(str(reply.content))[: ctx.n_descriptions]
        behaviors = [
            {
                "dimension": task["dimension"],
                "occasion": task["occasion"],
                "label": task["polarity"],
                "text": t,
                "model": ctx.model,
                "temperature": ctx.temperature,
            }
            for t in texts
        ]
        return {"behaviors": behaviors}

    def train_classifiers(self, state: BuildState, runtime: Runtime[BehaviorContext]) -> BehaviorUpdate:
        """One classifier per dimension on the (saved) dataset; reused when trained."""
        paths = _paths(runtime.context)
        if paths["dataset"].exists():
            rows = [json.loads(line) for line in paths["dataset"].read_text().splitlines() if line]
        else:
            rows = state.get("behaviors") or []
            paths["dataset"].write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        if (paths["classifiers"] / "metrics.json").exists():
            return {"metrics": json.loads((paths["classifiers"] / "metrics.json").read_text())}
        df = pd.DataFrame(rows)
        classifiers = {
            str(dim): train_classifier(str(dim), g["text"].tolist(), g["label"].astype(int).tolist())
            for dim, g in df.groupby("dimension")
        }
        save_classifiers(paths["classifiers"], classifiers)
        return {"metrics": json.loads((paths["classifiers"] / "metrics.json").read_text())}


def route_after_generate_occasions(state: BuildState, runtime: Runtime[BehaviorContext]) -> list[Send] | str:
    """Fan out one ``generate_behaviors`` per occasion and polarity (none when the dataset exists)."""
    if _paths(runtime.context)["dataset"].exists():
        return "train_classifiers"
    return [
        Send(
            "generate_behaviors",
            BehaviorTask(scale=state["scale"], dimension=dim, occasion=occ, polarity=pol),
        )
        for dim, occs in state["occasions"].items()
        for occ in occs
        for pol in (1, 0)
    ]


def build_behavior_graph(model: BaseChatModel | None = None) -> StateGraph[BuildState, BehaviorContext]:
    """Uncompiled build graph; ``model`` overrides the context's model spec."""
    nodes = BehaviorNodes(model=model)
    graph = StateGraph(BuildState, context_schema=BehaviorContext)
    graph.add_node("generate_occasions", nodes.generate_occasions)
    # Send tasks take a BehaviorTask, not the graph state: the stubs cannot express that.
    graph.add_node("generate_behaviors", cast(Any, nodes.generate_behaviors))
    graph.add_node("train_classifiers", nodes.train_classifiers)
    graph.add_edge(START, "generate_occasions")
    graph.add_conditional_edges(
        "generate_occasions", route_after_generate_occasions, ["generate_behaviors", "train_classifiers"]
    )
    graph.add_edge("generate_behaviors", "train_classifiers")
    graph.add_edge("train_classifiers", END)
    return graph


graph = build_behavior_graph().compile(name="behavior_build")


async def build_behavior(
    scale: str, ctx: BehaviorContext, model: BaseChatModel | None = None
) -> dict[str, Any]:
    """Build (or reuse) occasions, dataset and classifiers; returns validation metrics."""
    metrics = _paths(ctx)["classifiers"] / "metrics.json"
    if metrics.exists():
        return dict(json.loads(metrics.read_text()))
    out = await build_behavior_graph(model).compile().ainvoke({"scale": scale}, context=ctx)
    return dict(out["metrics"])


@dataclass
class Subject:
    """Who is tested: a label (matching the experiment's run key) and the RPA to ask."""

    key: str
    rpa: RolePlayingAgent


async def run_behavior_test(
    subjects: list[Subject], ctx: BehaviorContext, *, timeout: float = 300.0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ask every subject about every occasion, classify, and return (labels, CrS).

    A description that fails is left out of CrS and reported in ``labels`` with its
    error (``label`` is then missing), never counted as either pole.
    """
    paths = _paths(ctx)
    occasions: dict[str, list[str]] = yaml.safe_load(paths["occasions"].read_text())
    classifiers = load_classifiers(paths["classifiers"])
    sem = asyncio.Semaphore(max(1, ctx.concurrency))

    async def one(subject: Subject, dim: str, occasion: str) -> dict[str, Any]:
        async with sem:
            try:
                text = await safe_reply(
                    subject.rpa,
                    [HumanMessage(DESCRIBE_BEHAVIOR_PROMPT.format(occasion=occasion))],
                    timeout=timeout,
                )
                return {
                    "subject": subject.key,
                    "dimension": dim,
                    "occasion": occasion,
                    "text": text,
                    "error": None,
                }
            except RPAError as exc:
                return {
                    "subject": subject.key,
                    "dimension": dim,
                    "occasion": occasion,
                    "text": None,
                    "error": f"{exc.kind}: {exc}",
                }

    rows = await asyncio.gather(
        *(
            one(s, dim, occ)
            for s in subjects
            for dim, occs in occasions.items()
            if dim in classifiers
            for occ in occs
        )
    )
    labels = pd.DataFrame(rows)
    labels["label"] = pd.NA
    for dim, clf in classifiers.items():
        mask = (labels["dimension"] == dim) & labels["text"].notna()
        if mask.any():
            labels.loc[mask, "label"] = clf.predict(labels.loc[mask, "text"].tolist())
    ok = labels[labels["label"].notna()].astype({"label": int})
    return labels, criterion_scores(ok)


def build_subjects(
    characters: list[str],
    model: str,
    temperatures: list[float],
    trials: int,
    experiment_dir: str | Path,
    context: Context | None = None,
) -> list[Subject]:
    """One subject per (character, temperature, trial): the RPA ``model`` names (a model
    spec: the character agent on it; or any RPA spec), built as the experiment's runs
    build it, with the run context's answer length and retrieval settings, and keyed as
    the experiment's runs are (``character|model|temperature|trial``)."""
    from personascope.agents.rpa import RPARequest
    from personascope.agents.rpa_specs import build_rpa, parse_rpa_spec
    from personascope.memories.characters import load_character
    from personascope.memories.store import MemoryStore

    ctx = context or Context()
    exp = Path(experiment_dir)
    store = MemoryStore(path=exp / "memories")
    spec = parse_rpa_spec(model)  # a bad spec fails once, before any subject is built
    subjects = []
    for char in characters:
        character = load_character(char)
        for t in temperatures:
            for trial in range(trials):
                params = ModelParams(
                    temperature=t,
                    trial=trial,
                    seed=ctx.seed + trial,
                    max_tokens=ctx.max_tokens,
                    cache_path=exp / "llm-cache.sqlite",
                    timeout=ctx.request_timeout,
                    max_retries=ctx.max_retries,
                )
                request = RPARequest(
                    character,
                    store,
                    temperature=t,
                    seed=ctx.seed + trial,
                    trial=trial,
                    model_params=params,
                    k=ctx.k,
                    max_chars=ctx.max_chars,
                )
                agent = build_rpa(spec, request)
                subjects.append(Subject(f"{char}|{model}|{t:g}|{trial}", agent))
    return subjects


@dataclass
class BehaviorTestResult:
    """What ``behavior test`` produced: labels, criterion scores, BC (when the experiment
    has scale scores) and where each was written."""

    labels: pd.DataFrame
    crs: pd.DataFrame
    bc: pd.DataFrame | None
    out_dir: Path

    @property
    def failed(self) -> int:
        return int(self.labels["label"].isna().sum())


async def behavior_test(
    subjects: list[Subject], ctx: BehaviorContext, experiment_dir: str | Path
) -> BehaviorTestResult:
    """Run the test, write ``test_labels.csv``, ``crs.csv``, ``crs.png`` and, when the
    experiment has scale scores, ``bc.csv`` (BC per scale and method) under the behaviour folder."""
    from personascope import results
    from personascope.evaluation.report import crs_chart
    from personascope.evaluation.tables import behavioral_consistency

    if not (_paths(ctx)["classifiers"] / "metrics.json").exists():
        raise InputError(ctx.behavior_dir, "classifiers", "run `personascope behavior build` first")
    labels, crs = await run_behavior_test(subjects, ctx)
    out = Path(ctx.behavior_dir)
    labels.to_csv(out / "test_labels.csv", index=False)
    crs.to_csv(out / "crs.csv", index=False)
    crs_chart(crs, out / "crs.png")
    bc = None
    if results.has_results(experiment_dir):
        bc = behavioral_consistency(results.load(experiment_dir), crs)  # per scale, method, assessor
        bc.to_csv(out / "bc.csv", index=False)
    return BehaviorTestResult(labels, crs, bc, out)
