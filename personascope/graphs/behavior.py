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
from dataclasses import dataclass
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
from personascope.evaluation.behavior import criterion_scores
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


def build_behavior_graph(model: BaseChatModel | None = None) -> StateGraph[BuildState, BehaviorContext]:
    """Uncompiled build graph; ``model`` overrides the context's model spec."""
    cache: dict[Any, BaseChatModel] = {}

    def llm(ctx: BehaviorContext) -> BaseChatModel:
        if model is not None:
            return model
        key = (ctx.model, ctx.temperature, ctx.max_tokens)
        if key not in cache:
            cache[key] = resolve_model(
                ctx.model,
                ModelParams(
                    temperature=ctx.temperature,
                    max_tokens=ctx.max_tokens,
                    cache_path=Path(ctx.behavior_dir) / "llm-cache.sqlite",
                ),
            )
        return cache[key]

    async def generate_occasions(state: BuildState, runtime: Runtime[BehaviorContext]) -> dict[str, Any]:
        ctx = runtime.context
        paths = _paths(ctx)
        scale = load_scale(state["scale"])
        existing: dict[str, list[str]] = {}
        if paths["occasions"].exists():  # a user-edited or earlier list wins
            existing = yaml.safe_load(paths["occasions"].read_text()) or {}
        occasions = dict(existing)
        for dim in scale.dimensions:
            if occasions.get(dim.id):
                continue
            low, high = (dim.poles.low, dim.poles.high) if dim.poles else ("low", "high")
            reply = await llm(ctx).ainvoke(
                [
                    HumanMessage(
                        OCCASIONS_PROMPT.format(
                            n=ctx.n_occasions, high_pole=high, low_pole=low, dimension=dim.name
                        )
                    )
                ]
            )
            occasions[dim.id] = deduplicate(parse_lines(str(reply.content)), ctx.similarity, ctx.keep)
        paths["root"].mkdir(parents=True, exist_ok=True)
        paths["occasions"].write_text(yaml.safe_dump(occasions, sort_keys=False, allow_unicode=True))
        return {"occasions": occasions}

    def route_after_generate_occasions(state: BuildState, runtime: Runtime[BehaviorContext]) -> Any:
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

    async def generate_behaviors(task: BehaviorTask, runtime: Runtime[BehaviorContext]) -> dict[str, Any]:
        ctx = runtime.context
        dim = load_scale(task["scale"]).dimension_map[task["dimension"]]
        adjective = dim.poles.high if dim.poles else dim.name
        reply = await llm(ctx).ainvoke(
            [
                HumanMessage(
                    BEHAVIORS_PROMPT.format(
                        occasion=task["occasion"],
                        polarity="is" if task["polarity"] else "is not",
                        adjective=adjective,
                        n=ctx.n_descriptions,
                    )
                )
            ]
        )
        texts = parse_lines(str(reply.content))[: ctx.n_descriptions]
        return {
            "behaviors": [
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
        }

    def train_classifiers(state: BuildState, runtime: Runtime[BehaviorContext]) -> dict[str, Any]:
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

    graph = StateGraph(BuildState, context_schema=BehaviorContext)
    graph.add_node("generate_occasions", generate_occasions)
    # Send tasks take a BehaviorTask, not the graph state: the stubs cannot express that.
    graph.add_node("generate_behaviors", cast(Any, generate_behaviors))
    graph.add_node("train_classifiers", train_classifiers)
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
