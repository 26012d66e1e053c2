"""Role-playing agents: the Protocol, adapters, a registry, and a conformance kit.

Plug-in points, in order of preference (ARCHITECTURE.md rule 5):

1. **Protocol** — any object with ``async def areply(messages) -> str`` is an RPA.
2. **Adapters** — :class:`RunnableRPA` wraps any LangChain Runnable or compiled
   LangGraph graph (a ``RemoteGraph`` included); :class:`EndpointRPA` wraps any
   OpenAI-compatible endpoint serving a character model.
3. **Names** — :func:`register_rpa` / :func:`get_rpa`, which also load the
   entry-point group ``personascope.rpas`` so other packages can ship RPAs::

       [project.entry-points."personascope.rpas"]
       my-rpa = "my_package.rpas:build_my_rpa"     # a factory(**kwargs) -> RPA
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable

from personascope.errors import InputError
from personascope.safeio import MAX_ANSWER_CHARS, bound_text, is_storage_failure, redact

ENTRY_POINT_GROUP = "personascope.rpas"


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
    if isinstance(value, BaseMessage):
        content = value.content
        if isinstance(content, str):
            return content
        parts = [p.get("text", "") if isinstance(p, dict) else str(p) for p in content]
        return "".join(parts)
    if isinstance(value, dict) and isinstance(value.get("messages"), list) and value["messages"]:
        return _content_text(value["messages"][-1])
    return None


class RunnableRPA:
    """Adapter for a LangChain Runnable or a compiled LangGraph graph.

    A chat model or chain is invoked with the message list; a graph (a compiled
    LangGraph graph or a ``RemoteGraph``; or ``is_graph=True``) with
    ``{input_key: messages}``. The reply is the returned string / message content, or the last
    message of the returned state.
    """

    def __init__(
        self,
        runnable: Runnable[Any, Any],
        *,
        input_key: str = "messages",
        system_prompt: str | None = None,
        is_graph: bool | None = None,
    ) -> None:
        from langgraph.pregel import Pregel
        from langgraph.pregel.remote import RemoteGraph

        self.runnable = runnable
        self.input_key = input_key
        self.system_prompt = system_prompt
        self.is_graph = isinstance(runnable, (Pregel, RemoteGraph)) if is_graph is None else is_graph

    async def areply(self, messages: Sequence[BaseMessage]) -> str:
        msgs = [m.model_copy(deep=True) for m in messages]
        if self.system_prompt:
            msgs = [SystemMessage(self.system_prompt), *msgs]
        payload: Any = {self.input_key: msgs} if self.is_graph else msgs
        out = await self.runnable.ainvoke(payload)
        text = _content_text(out)
        if text is None:
            raise RPAError(f"runnable returned {type(out).__name__}, not text or messages", "non_text")
        return text


class EndpointRPA:
    """An OpenAI-compatible endpoint that serves a character model (spec string)."""

    def __init__(self, spec: str, *, system_prompt: str | None = None, **params: Any) -> None:
        from personascope.agents.models import ModelParams, resolve_model

        self.model = resolve_model(spec, ModelParams(**params))
        self.inner = RunnableRPA(self.model, system_prompt=system_prompt)

    async def areply(self, messages: Sequence[BaseMessage]) -> str:
        return await self.inner.areply(messages)


# -- registry -----------------------------------------------------------------------

RPAFactory = Callable[..., RolePlayingAgent]
_REGISTRY: dict[str, RPAFactory] = {}


def register_rpa(name: str, factory: RPAFactory) -> None:
    """Register a factory ``factory(**kwargs) -> RPA`` under ``name``."""
    _REGISTRY[name] = factory


def available_rpas() -> dict[str, RPAFactory]:
    """Registered RPA factories, including those of installed entry points."""
    found = dict(_REGISTRY)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, lambda ep=ep, **kw: ep.load()(**kw))
    return found


def get_rpa(name: str, **kwargs: Any) -> RolePlayingAgent:
    """Build the RPA registered (or shipped by an entry point) as ``name``."""
    factories = available_rpas()
    if name not in factories:
        raise InputError(name, "rpa", f"no RPA registered under this name (known: {sorted(factories)})")
    agent = factories[name](**kwargs)
    if not isinstance(agent, RolePlayingAgent):
        raise InputError(name, "rpa", f"factory returned {type(agent).__name__}, which has no areply()")
    return agent


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
        out: Any = await asyncio.wait_for(agent.areply(messages), timeout=timeout)
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


# -- conformance kit ----------------------------------------------------------------


@dataclass
class CheckResult:
    name: str
    passed: bool
    detail: str = ""


@dataclass
class ConformanceReport:
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def __str__(self) -> str:
        return "\n".join(f"[{'ok' if c.passed else 'FAIL'}] {c.name}: {c.detail}" for c in self.checks)


_SECRET = "PERIWINKLE-4417"


async def acheck_rpa(agent: Any, *, timeout: float = 120.0) -> ConformanceReport:
    """Check that ``agent`` can be measured: run this on your own RPA.

    Checks: it has ``areply``; it answers a question with non-empty text within
    ``timeout``; it does not mutate the messages it is given; and two isolated
    conversations do not leak into each other (a code word told in one is not
    known in the next).
    """
    report = ConformanceReport()
    if not isinstance(agent, RolePlayingAgent):
        report.checks.append(CheckResult("protocol", False, "no `async def areply(messages) -> str`"))
        return report
    report.checks.append(CheckResult("protocol", True, "has areply()"))
    question: list[BaseMessage] = [HumanMessage("Tell me, how do you like to spend a free evening?")]
    before = copy.deepcopy(question)
    try:
        answer = await safe_reply(agent, question, timeout=timeout)
        report.checks.append(CheckResult("answers text in time", True, f"{len(answer)} characters"))
    except RPAError as exc:
        report.checks.append(CheckResult("answers text in time", False, f"{exc.kind}: {exc}"))
        return report
    same = [m.model_dump() for m in question] == [m.model_dump() for m in before]
    report.checks.append(
        CheckResult(
            "does not mutate input", same, "input unchanged" if same else "the message list was modified"
        )
    )
    try:
        await safe_reply(
            agent,
            [HumanMessage(f"Please remember this code word: {_SECRET}. Just say you will remember it.")],
            timeout=timeout,
        )
        probe = await safe_reply(
            agent,
            [HumanMessage("What code word did I ask you to remember earlier? If none, say so.")],
            timeout=timeout,
        )
        leaked = _SECRET.lower() in probe.lower()
        report.checks.append(
            CheckResult(
                "isolated conversations",
                not leaked,
                "history leaked into a new conversation" if leaked else "no history carried over",
            )
        )
    except RPAError as exc:
        report.checks.append(CheckResult("isolated conversations", False, f"{exc.kind}: {exc}"))
    return report


def check_rpa(agent: Any, *, timeout: float = 120.0) -> ConformanceReport:
    """Synchronous :func:`acheck_rpa`."""
    return asyncio.run(acheck_rpa(agent, timeout=timeout))


def _character_rpa(
    character: str, model: str = "local", store: Any = None, **kwargs: Any
) -> RolePlayingAgent:
    from personascope.agents.character_agent import CharacterAgent
    from personascope.agents.models import resolve_model
    from personascope.memories.characters import load_character

    return CharacterAgent(load_character(character), resolve_model(model), store, **kwargs)


register_rpa("character", _character_rpa)
register_rpa("endpoint", EndpointRPA)
