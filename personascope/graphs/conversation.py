"""Drift within a conversation: every item asked inside one long multi-turn conversation.

The isolated interview (InCharacter's) asks each item in a conversation of its own. A
role-playing agent in use talks much longer; whether its persona holds over a long
dialogue is what this interview mode measures. The RPA answers the planned questions
in turn, in one conversation that it sees whole at every turn; the interviewer agent
(:class:`~personascope.agents.interviewer.InterviewerAgent`, a chat model with its own
prompts) may ask one follow-up when an answer is evasive, and makes small talk (or asks
a small everyday task) between blocks of items. The items are asked ``conversation_rounds``
times, so every dimension is re-tested at several points of the conversation; each
round is assessed on its own by the run's method, giving each dimension's score against
its mean position (:class:`~personascope.records.RoundScores`). The run's ``scores``
are those of the first round (the transcript assessed as usual), so they compare with
the isolated baseline; :func:`personascope.evaluation.sensitivity.drift_table` fits the
slope of score on position and compares each round with the baseline.

Each turn is one graph step (``take_turn`` loops on itself), checkpointed: a killed run
resumes at the next turn and asks nothing again. Every RPA kind works: an RPA gets a
list of messages, here the conversation so far.

``load_scale → plan_questions → take_turn ⟲ → assess_rounds → collect_transcript``
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from personascope.agents.interviewer import InterviewerAgent
from personascope.agents.rpa import RolePlayingAgent, RPAError, RPAFactory, safe_answer
from personascope.agents.usage import track_usage
from personascope.graphs import assessing, variants
from personascope.graphs.context import Context
from personascope.graphs.nodes import Nodes, context_of, method_of
from personascope.graphs.progress import emit_item_event
from personascope.graphs.state import (
    AssessmentState,
    InterviewState,
    InterviewUpdate,
    PipelineState,
    RunInput,
    merge_usage,
)
from personascope.memories.characters import Character, load_character
from personascope.memories.store import MemoryStore
from personascope.records import Answer, Question, RoundScores, Turn, Usage
from personascope.scales import load_scale

TurnKind = Literal["item", "follow_up", "small_talk"]


@dataclass(frozen=True)
class Planned:
    """One planned turn: an item's question in a round, or small talk."""

    kind: Literal["item", "small_talk"]
    round: int
    question: Question | None = None


def schedule(questions: list[Question], rounds: int, small_talk_every: int) -> list[Planned]:
    """The conversation's plan: the questions (in the run's item order) ``rounds`` times,
    with a small-talk turn after every ``small_talk_every`` items (also between rounds).
    Follow-ups are not planned: the interviewer decides them from the answers.

    >>> qs = [Question(item_id=i, dimension="E", statement="", key="+", question=i) for i in "ab"]
    >>> [(p.kind, p.round) for p in schedule(qs, 2, 2)]
    [('item', 0), ('item', 0), ('small_talk', 0), ('item', 1), ('item', 1)]
    """
    plan: list[Planned] = []
    asked = 0
    for r in range(rounds):
        for q in questions:
            if small_talk_every and asked and asked % small_talk_every == 0:
                plan.append(Planned("small_talk", plan[-1].round))
            plan.append(Planned("item", r, q))
            asked += 1
    return plan


def history(turns: list[Turn], speaker: str) -> list[BaseMessage]:
    """The conversation so far as the RPA sees it (a failed turn left no reply: skipped)."""
    messages: list[BaseMessage] = []
    for t in turns:
        if t["answer"] is not None:
            messages += [HumanMessage(t["question"], name=speaker), AIMessage(t["answer"])]
    return messages


def next_turn(turns: list[Turn], plan: list[Planned]) -> tuple[TurnKind, Planned | None, Turn | None] | None:
    """What comes next: the follow-up the last item turn asked for, else the next planned
    turn; ``None`` when the conversation is over."""
    last = turns[-1] if turns else None
    if last is not None and last["kind"] == "item" and last.get("follow_up"):
        return "follow_up", None, last
    planned = sum(1 for t in turns if t["kind"] != "follow_up")
    if planned >= len(plan):
        return None
    nxt = plan[planned]
    return nxt.kind, nxt, None


def round_answers(turns: list[Turn], r: int, questions: list[Question], experimenter: str) -> list[Answer]:
    """Round ``r``'s item turns as a transcript (a follow-up's exchange joins its item's
    answer, so the assessor reads both, as the interviewer heard both)."""
    by_item: dict[str, Answer] = {}
    for i, t in enumerate(turns):
        if t["round"] != r or t["kind"] != "item" or t["item_id"] is None:
            continue
        answer = t["answer"]
        nxt = turns[i + 1] if i + 1 < len(turns) else None
        if answer is not None and nxt is not None and nxt["kind"] == "follow_up" and nxt["answer"]:
            answer = f"{answer}\n\n({experimenter} asked: {nxt['question']})\n{nxt['answer']}"
        by_item[t["item_id"]] = Answer(
            item_id=t["item_id"],
            dimension=t["dimension"] or "",
            question=t["question"],
            answer=answer,
            error=t["error"],
            error_kind=t["error_kind"],
            seconds=t["seconds"],
        )
    return [by_item[q["item_id"]] for q in questions if q["item_id"] in by_item]


def mean_positions(turns: list[Turn], r: int) -> dict[str, float]:
    """Each dimension's mean position among round ``r``'s item turns."""
    found: dict[str, list[int]] = {}
    for t in turns:
        if t["round"] == r and t["kind"] == "item" and t["dimension"]:
            found.setdefault(t["dimension"], []).append(t["position"])
    return {d: sum(p) / len(p) for d, p in found.items()}


class Conversation:
    """The conversation's nodes, on the objects a :class:`Nodes` resolves (the RPA, the
    interviewer and assessor models)."""

    def __init__(self, nodes: Nodes) -> None:
        self.nodes = nodes

    def _plan(self, state: InterviewState, ctx: Context) -> list[Planned]:
        return schedule(list(state.get("questions") or []), ctx.conversation_rounds, ctx.small_talk_every)

    async def _agent(self, ctx: Context, character: Character) -> InterviewerAgent:
        model = await self.nodes.amodel("interviewer", ctx)
        return InterviewerAgent(model, experimenter=character.experimenter, name=character.name)

    async def take_turn(self, state: InterviewState, runtime: Runtime[Context]) -> InterviewUpdate:
        """One turn: the interviewer speaks (a planned question, a follow-up, small talk)
        and the RPA answers with the whole conversation in view."""
        ctx = context_of(runtime)
        character = variants.persona(ctx, load_character(state["character"]))
        turns = list(state.get("turns") or [])
        step = next_turn(turns, self._plan(state, ctx))
        if step is None:  # a resumed run whose last turn was checkpointed: nothing left
            return {}
        kind, planned, asked = step
        item: Question | None = planned.question if planned is not None else None
        round_ = planned.round if planned is not None else turns[-1]["round"]
        if kind == "small_talk":
            text = await (await self._agent(ctx, character)).small_talk()
        elif kind == "follow_up" and asked is not None:
            text = str(asked.get("follow_up"))
        else:
            text = item["question"] if item else ""
        item_id = item["item_id"] if item else (asked["item_id"] if asked else None)
        dimension = item["dimension"] if item else (asked["dimension"] if asked else None)
        rpa = await self.nodes.arole_player(ctx, character)
        messages = [*history(turns, character.experimenter), HumanMessage(text, name=character.experimenter)]
        emit_item_event("asking", item_id or kind)
        started = time.perf_counter()
        answer: str | None = None
        error: str | None = None
        error_kind: str | None = None
        tokens: dict[str, dict[str, int]] = {}
        try:
            with track_usage() as usage:
                reply = await safe_answer(
                    rpa, messages, timeout=ctx.answer_timeout, max_answer_chars=ctx.max_answer_chars
                )
            answer, tokens = reply.text, assessing.usage_counts(usage)
        except RPAError as exc:
            error, error_kind = str(exc), exc.kind
        turn = Turn(
            position=len(turns),
            round=round_,
            kind=kind,
            item_id=item_id,
            dimension=dimension,
            question=text,
            answer=answer,
            error=error,
            error_kind=error_kind,
            seconds=round(time.perf_counter() - started, 3),
        )
        emit_item_event("answered", item_id or kind, seconds=turn["seconds"], error=error)
        if kind == "item":
            # At most one follow-up per item, decided now so the next step only asks it.
            follow = None
            if answer is not None and ctx.follow_ups:
                follow = await (await self._agent(ctx, character)).follow_up(text, answer)
            turn["follow_up"] = follow
        return {"turns": [turn], "usage": {"rpa": tokens}}

    async def assess_rounds(self, state: InterviewState, runtime: Runtime[Context]) -> InterviewUpdate:
        """Assess every round on its own with the run's method; the first round's answers
        become the run's transcript (assessed and scored as in an isolated interview)."""
        ctx = context_of(runtime)
        method = method_of(ctx)
        character = variants.persona(ctx, load_character(state["character"]))
        scale = load_scale(state["scale"])
        turns = list(state.get("turns") or [])
        ordered = variants.in_item_order(
            list(state.get("questions") or []), ctx, scale, lambda q: q["item_id"]
        )
        node = getattr(self.nodes, method.node)

        async def one(r: int) -> tuple[RoundScores, Usage]:
            sub: AssessmentState = {
                "character": state["character"],
                "scale": state["scale"],
                "transcript": round_answers(turns, r, ordered, character.experimenter),
            }
            assessed = await node(sub, runtime)
            scored = self.nodes.score({**sub, **assessed}, runtime)
            scores = {d: s.get("score") for d, s in (scored.get("scores") or {}).items()}
            return RoundScores(round=r, scores=scores, positions=mean_positions(turns, r)), assessed.get(
                "usage", {}
            )

        done = await asyncio.gather(*(one(r) for r in range(ctx.conversation_rounds)))
        usage: Usage = {}
        for _, u in done:
            usage = merge_usage(usage, u)
        first = round_answers(turns, 0, ordered, character.experimenter)
        return {"rounds": [r for r, _ in done], "answers": first, "usage": usage}


def route_after_take_turn(state: InterviewState, runtime: Runtime[Context]) -> str:
    """Another turn while the plan (and any follow-up) is not done; then the rounds' assessment."""
    ctx = context_of(runtime)
    plan = schedule(list(state.get("questions") or []), ctx.conversation_rounds, ctx.small_talk_every)
    return "take_turn" if next_turn(list(state.get("turns") or []), plan) else "assess_rounds"


def add_conversation(
    graph: StateGraph[InterviewState, Context, RunInput] | StateGraph[PipelineState, Context, RunInput],
    nodes: Nodes,
) -> None:
    """Add the conversation's nodes (the interview graphs route to ``take_turn`` when the
    run's ``interview`` is ``conversation``); ``assess_rounds`` goes on to ``collect_transcript``."""
    conversation = Conversation(nodes)
    graph.add_node("take_turn", conversation.take_turn)
    graph.add_node("assess_rounds", conversation.assess_rounds)
    graph.add_conditional_edges("take_turn", route_after_take_turn, ["take_turn", "assess_rounds"])
    graph.add_edge("assess_rounds", "collect_transcript")


def build_conversation_graph(
    rpa: RolePlayingAgent | RPAFactory | None = None,
    interviewer: BaseChatModel | None = None,
    assessor: BaseChatModel | None = None,
    store: MemoryStore | None = None,
) -> StateGraph[InterviewState, Context, RunInput]:
    """Uncompiled conversation interview (whatever the context's ``interview``): turns,
    each round assessed, the first round's transcript; injected objects override the
    context's model specs."""
    nodes = Nodes(rpa=rpa, interviewer=interviewer, assessor=assessor, store=store)
    graph = StateGraph(InterviewState, context_schema=Context, input_schema=RunInput)
    graph.add_node("load_scale", nodes.load_scale)
    graph.add_node("plan_questions", nodes.plan_questions)
    graph.add_node("collect_transcript", nodes.collect_transcript)
    add_conversation(graph, nodes)
    graph.add_edge(START, "load_scale")
    graph.add_edge("load_scale", "plan_questions")
    graph.add_edge("plan_questions", "take_turn")
    graph.add_edge("collect_transcript", END)
    return graph


graph = build_conversation_graph().compile(name="conversation")

__all__ = [
    "Conversation",
    "Planned",
    "add_conversation",
    "build_conversation_graph",
    "graph",
    "history",
    "next_turn",
    "round_answers",
    "schedule",
]
