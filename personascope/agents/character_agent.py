"""The default role-playing agent: a small LangGraph graph, retrieve → answer.

``retrieve_memories`` looks up the character's memories nearest to the last
question in Chroma; ``answer_in_character`` asks the chat model to answer as the
character with those memories in its system prompt. Being a graph, its steps show
in LangGraph Studio and its state can be checkpointed by a parent graph.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Annotated, Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict

from personascope.agents.prompts import NO_MEMORIES, ROLE_PLAY_SYSTEM_PROMPT
from personascope.memories.characters import Character
from personascope.memories.store import MemoryStore
from personascope.safeio import MAX_ANSWER_CHARS, bound_text

if TYPE_CHECKING:
    from personascope.agents.rpa import RPARequest


class RetrievedMemories:
    """What the character agent retrieved inside a :func:`recording_memories` block;
    ``memories`` stays ``None`` when no retrieval ran (an RPA that retrieves nothing)."""

    def __init__(self) -> None:
        self.memories: list[str] | None = None
        # the model's response metadata (token log-probabilities when they were asked for)
        self.response_metadata: dict[str, Any] | None = None


# A context variable, not an attribute of the agent: one agent answers many items at
# once, and each ``ask_item`` must see only the memories of its own question. Nodes run
# in tasks that copy the context, so the recorder object (not a new value) is shared.
_RECORDER: ContextVar[RetrievedMemories | None] = ContextVar("personascope_memories", default=None)


@contextmanager
def recording_memories() -> Iterator[RetrievedMemories]:
    """``with recording_memories() as rec: await agent.areply(...)``, then ``rec.memories``."""
    rec = RetrievedMemories()
    token = _RECORDER.set(rec)
    try:
        yield rec
    finally:
        _RECORDER.reset(token)


class CharacterState(TypedDict):
    """State of the character agent graph."""

    messages: Annotated[list[BaseMessage], add_messages]
    memories: Annotated[list[str], operator.add]


class CharacterUpdate(TypedDict, total=False):
    """What the character agent's nodes write."""

    messages: list[BaseMessage]
    memories: list[str]


def build_character_agent_graph(
    character: Character,
    model: BaseChatModel,
    store: MemoryStore | None,
    *,
    k: int = 4,
    max_chars: int = 1500,
    max_answer_chars: int | None = MAX_ANSWER_CHARS,
) -> StateGraph[CharacterState]:
    """Uncompiled graph of the default RPA for ``character``.

    The reply is cut to ``max_answer_chars`` (with a note) before it enters the state:
    the state is checkpointed, and a runaway 100 MB answer would be copied into every
    checkpoint.
    """

    def retrieve_memories(state: CharacterState) -> CharacterUpdate:
        question = str(state["messages"][-1].content) if state["messages"] else ""
        found = (
            store.retrieve(character, question, k=k, max_chars=max_chars)
            if store is not None and question
            else []
        )
        if (rec := _RECORDER.get()) is not None:
            rec.memories = [*(rec.memories or []), *found]
        return {"memories": found}

    async def answer_in_character(state: CharacterState) -> CharacterUpdate:
        memories = "\n".join(f"- {m}" for m in state["memories"]) or NO_MEMORIES
        system = ROLE_PLAY_SYSTEM_PROMPT.format(
            description=character.description.strip(),
            name=character.name,
            experimenter=character.experimenter,
            memories=memories,
        )
        reply = await model.ainvoke([SystemMessage(system), *state["messages"]])
        rec = _RECORDER.get()
        if rec is not None:
            rec.response_metadata = dict(reply.response_metadata or {})
        content = reply.content if isinstance(reply.content, str) else str(reply.text)
        return {"messages": [AIMessage(content=bound_text(content, max_answer_chars)[0])]}

    graph = StateGraph(CharacterState)
    graph.add_node("retrieve_memories", retrieve_memories)
    graph.add_node("answer_in_character", answer_in_character)
    graph.add_edge(START, "retrieve_memories")
    graph.add_edge("retrieve_memories", "answer_in_character")
    graph.add_edge("answer_in_character", END)
    return graph


class CharacterAgent:
    """The default RPA: a :class:`RolePlayingAgent` backed by the character graph.

    Built by the ``character`` factory (every plain model spec, ``rpa:character``) with
    :meth:`from_request`, once per (character, temperature, trial).
    """

    #: Whether the same question always gets the same answer: a promise the conformance
    #: kit checks at temperature 0 (``personascope check-rpa``).
    deterministic: bool = False

    @classmethod
    def from_request(cls, request: RPARequest) -> CharacterAgent:
        """The agent of one request: its character, memory store, chat model (the spec's
        model at the request's temperature, seed and trial) and retrieval budget."""
        from personascope.agents.models import parse_spec

        agent = cls(
            request.character, request.chat_model(), request.store, k=request.k, max_chars=request.max_chars
        )
        # Greedy decoding on the embedded server (fixed seed) and the scripted fakes repeat
        # themselves; a hosted API promises nothing, even at temperature 0.
        provider = parse_spec(request.model or "local").provider
        agent.deterministic = request.temperature == 0 and provider in ("local", "fake")
        return agent

    def __init__(
        self,
        character: Character,
        model: BaseChatModel,
        store: MemoryStore | None,
        *,
        k: int = 4,
        max_chars: int = 1500,
        max_answer_chars: int | None = MAX_ANSWER_CHARS,
    ) -> None:
        self.character = character
        self.graph = build_character_agent_graph(
            character, model, store, k=k, max_chars=max_chars, max_answer_chars=max_answer_chars
        ).compile()

    async def areply(self, messages: Sequence[BaseMessage]) -> str:
        # A fresh state per call: no history leaks between questions.
        # Copies: LangGraph's add_messages assigns ids in place, and callers keep their input.
        fresh = [m.model_copy(deep=True) for m in messages]
        state: CharacterState = {"messages": list(fresh), "memories": []}
        out = await self.graph.ainvoke(state)
        return str(out["messages"][-1].content)
