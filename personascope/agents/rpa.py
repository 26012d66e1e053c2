"""Role-playing agents: the Protocol, the request a factory gets, adapters, safe calls.

Plug-in points, in order of preference (ARCHITECTURE.md rule 5):

1. **Protocol** — any object with ``async def areply(messages) -> str`` is an RPA.
2. **Adapters** — :class:`RunnableRPA` wraps any LangChain Runnable or compiled
   LangGraph graph (a ``RemoteGraph`` included); :class:`EndpointRPA` wraps any
   OpenAI-compatible endpoint serving a character model.
3. **Names** — a factory ``factory(request: RPARequest) -> RPA`` is named by an RPA
   spec (``rpa:<name>?k=v``, ``module:attribute``, ``langgraph:<assistant>@<url>``)
   wherever a model spec can be; see :mod:`personascope.agents.rpa_specs` for the
   registry and the entry-point group ``personascope.rpas``, and
   :mod:`personascope.agents.conformance` for the kit that checks an RPA.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from langchain_core.messages import BaseMessage, SystemMessage
from langchain_core.runnables import Runnable

from personascope.agents.models import ModelParams
from personascope.memories.characters import Character
from personascope.safeio import MAX_ANSWER_CHARS, bound_text, is_storage_failure, redact

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from personascope.memories.store import MemoryStore


@runtime_checkable
class RolePlayingAgent(Protocol):
    """Anything that answers a conversation as a character."""

    async def areply(self, messages: Sequence[BaseMessage]) -> str: ...


class RPAError(RuntimeError):
    """An RPA failed to answer (raised, timed out, or returned no text)."""

    def __init__(self, reason: str, kind: str) -> None:
        super().__init__(reason)
        self.kind = kind


def _content_text(value: Any) -> str | None:
    """Text of a reply: a str, a message, or a graph state with ``messages``."""
    if isinstance(value, str):
        return value
    # A message, or a message as a RemoteGraph returns it (a dict with "content").
    content = value.content if isinstance(value, BaseMessage) else None
    if isinstance(value, dict) and "content" in value and "messages" not in value:
        content = value["content"]
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    if isinstance(value, dict) and isinstance(value.get("messages"), list) and value["messages"]:
        return _content_text(value["messages"][-1])
    return None


class RunnableRPA:
    """Adapter for a LangChain Runnable or a compiled LangGraph graph.

    A chat model or chain is invoked with the message list; a graph (a compiled
    LangGraph graph or a ``RemoteGraph``; or ``is_graph=True``) with
    ``{input_key: messages}`` and, when given, the run ``context`` of the graph's
    context schema. The reply is the returned string / message content, or the last
    message of the returned state.
    """

    def __init__(
        self,
        runnable: Runnable[Any, Any],
        *,
        input_key: str = "messages",
        system_prompt: str | None = None,
        is_graph: bool | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        from langgraph.pregel import Pregel
        from langgraph.pregel.remote import RemoteGraph

        self.runnable = runnable
        self.input_key = input_key
        self.system_prompt = system_prompt
        self.is_graph = isinstance(runnable, (Pregel, RemoteGraph)) if is_graph is None else is_graph
        self.context = dict(context) if context else None

    async def areply(self, messages: Sequence[BaseMessage]) -> str:
        msgs = [m.model_copy(deep=True) for m in messages]
        if self.system_prompt:
            msgs = [SystemMessage(self.system_prompt), *msgs]
        payload: Any = {self.input_key: msgs} if self.is_graph else msgs
        # Only graphs take a run context; a chat model would pass unknown keywords to its API.
        if self.is_graph and self.context:
            out = await self.runnable.ainvoke(payload, context=self.context)
        else:
            out = await self.runnable.ainvoke(payload)
        text = _content_text(out)
        if text is None:
            raise RPAError(f"runnable returned {type(out).__name__}, not text or messages", "non_text")
        return text


class EndpointRPA:
    """An OpenAI-compatible endpoint that serves a character model (spec string).

    ``params`` are the run's sampling and transport parameters; keyword arguments
    (``max_retries=0``) override single fields of them.
    """

    def __init__(
        self,
        spec: str,
        *,
        system_prompt: str | None = None,
        params: ModelParams | None = None,
        **overrides: Any,
    ) -> None:
        from personascope.agents.models import resolve_model

        self.model = resolve_model(spec, replace(params or ModelParams(), **overrides))
        self.inner = RunnableRPA(self.model, system_prompt=system_prompt)

    async def areply(self, messages: Sequence[BaseMessage]) -> str:
        return await self.inner.areply(messages)


# -- what a factory is given ------------------------------------------------------


@dataclass(frozen=True)
class RPARequest:
    """Everything a factory needs to build the RPA that plays one character in one
    (temperature, trial) cell: a factory is called once per such cell.

    ``spec``, ``params`` and ``model`` come from the RPA spec (``rpa:<name>?k=v``:
    ``params`` are its ``k=v`` pairs as strings, ``model`` its ``model=`` chat-model
    spec or ``None``); the rest from the run context. ``model_params`` carries the
    run's sampling and transport settings (max tokens, timeouts, LLM cache) with this
    request's ``temperature``, ``seed`` and ``trial``.
    """

    character: Character
    store: MemoryStore | None = None
    spec: str = ""
    params: Mapping[str, str] = field(default_factory=dict)
    model: str | None = None
    temperature: float = 0.0
    seed: int = 0
    trial: int = 0
    model_params: ModelParams = field(default_factory=ModelParams)
    k: int = 4
    max_chars: int = 1500

    def __post_init__(self) -> None:
        # One source of truth: the request's own temperature, seed and trial win.
        synced = replace(self.model_params, temperature=self.temperature, seed=self.seed, trial=self.trial)
        object.__setattr__(self, "model_params", synced)
        object.__setattr__(self, "params", dict(self.params))

    def chat_model(self, default: str = "local") -> BaseChatModel:
        """The chat model of ``model`` (or ``default``) at this request's parameters."""
        from personascope.agents.models import resolve_model

        return resolve_model(self.model or default, self.model_params)

    def role_play_prompt(self, memories: Sequence[str] = ()) -> str:
        """The built-in role-play system prompt for this character."""
        from personascope.agents.prompts import NO_MEMORIES, ROLE_PLAY_SYSTEM_PROMPT

        c = self.character
        return ROLE_PLAY_SYSTEM_PROMPT.format(
            description=c.description.strip(),
            name=c.name,
            experimenter=c.experimenter,
            memories="\n".join(f"- {m}" for m in memories) or NO_MEMORIES,
        )


#: Builds the RPA of one request: a function, a class, any callable.
RPAFactory = Callable[[RPARequest], RolePlayingAgent]


# -- calling an RPA safely ----------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """An RPA's answer, bounded: ``text`` (cut to the limit, with a note saying so when
    ``truncated``) and the length of the answer as received."""

    text: str
    truncated: bool
    original_chars: int


def bound_answer(text: str, max_answer_chars: int | None = MAX_ANSWER_CHARS) -> Reply:
    """``text`` cut to ``max_answer_chars`` (None: no limit), with a visible note when cut."""
    bounded, truncated = bound_text(text, max_answer_chars)
    return Reply(bounded, truncated, len(text))


async def safe_answer(
    agent: RolePlayingAgent,
    messages: Sequence[BaseMessage],
    *,
    timeout: float = 120.0,
    max_answer_chars: int | None = MAX_ANSWER_CHARS,
) -> Reply:
    """The agent's reply, bounded and flagged (see :class:`Reply`), or :class:`RPAError`
    with a reason (secrets redacted): never an empty answer."""
    try:
        # In this task (asyncio.wait_for would run the reply in a task of its own).
        async with asyncio.timeout(timeout):
            out: Any = await agent.areply(messages)
    except TimeoutError:
        raise RPAError(f"no answer within {timeout:g}s", "timeout") from None
    except RPAError as exc:
        raise RPAError(redact(str(exc)), exc.kind) from None
    except Exception as exc:
        if is_storage_failure(exc):
            raise  # a full disk (checkpoints, memories, cache) is not the RPA's failure: the run stops
        # The text is stored with the results: an endpoint may have echoed the API key into it.
        raise RPAError(redact(f"{type(exc).__name__}: {exc}"), "exception") from None
    if not isinstance(out, str):
        raise RPAError(f"returned {type(out).__name__}, expected str", "non_text")
    if not out.strip():
        raise RPAError("returned an empty answer", "empty")
    return bound_answer(out, max_answer_chars)


async def safe_reply(
    agent: RolePlayingAgent,
    messages: Sequence[BaseMessage],
    *,
    timeout: float = 120.0,
    max_answer_chars: int | None = MAX_ANSWER_CHARS,
) -> str:
    """The text of :func:`safe_answer` (a truncated answer ends with a note saying so)."""
    reply = await safe_answer(agent, messages, timeout=timeout, max_answer_chars=max_answer_chars)
    return reply.text
