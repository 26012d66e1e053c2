"""The RPA conformance kit: can this agent be measured?

Run it on your own RPA before measuring it: ``personascope check-rpa SPEC`` on the
command line, :func:`check_rpa` / :func:`acheck_rpa` from Python (a notebook's running
event loop included), or :class:`personascope.testing.RPAConformanceTests` in your
package's pytest suite. The target is an RPA spec (``rpa:<name>``, ``module:factory``,
``langgraph:<assistant>@<url>``, a model spec), a factory, or one RPA object (then the
checks across characters are skipped: one object plays one character).

Checks, in order (a failed protocol check stops the rest):

=============================  ============================================================
protocol                       the object has ``areply``
async areply                   ``areply`` is a coroutine function (or returns an awaitable)
answers text in time           a question gets non-empty text within the timeout
does not mutate input          the message list given is unchanged afterwards
isolated conversations         a code word told in one conversation is unknown in the next
no leakage across characters   a code word told to one character is unknown to another
deterministic at temperature   the same question twice gets the same answer, when the
0                              agent promises it (``deterministic = True``) or is asked to
malformed message              an empty message, content blocks and a non-message each get
                               text or an exception in time; never a hang or a non-text value
=============================  ============================================================
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import inspect
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from langchain_core.messages import BaseMessage, HumanMessage

from personascope.agents.rpa import RolePlayingAgent, RPAError, RPAFactory, RPARequest, safe_reply
from personascope.agents.rpa_specs import build_rpa, is_agent_object, parse_rpa_spec
from personascope.errors import ConfigurationError
from personascope.memories.characters import load_character

if TYPE_CHECKING:
    from personascope.memories.store import MemoryStore

#: Check names, in the order they run (the CLI table and the pytest class use them).
CHECKS = (
    "protocol",
    "async areply",
    "answers text in time",
    "does not mutate input",
    "isolated conversations",
    "no leakage across characters",
    "deterministic at temperature 0",
    "malformed message",
)
#: Two characters that ship with personascope, for the checks that need two.
DEFAULT_CHARACTERS = ("alice", "sherlock-holmes")

_SECRET = "PERIWINKLE-4417"
_QUESTION = "Tell me, how do you like to spend a free evening?"


@dataclass
class CheckResult:
    name: str
    passed: bool
    detail: str = ""
    skipped: bool = False

    @property
    def status(self) -> str:
        return "skip" if self.skipped else "ok" if self.passed else "FAIL"


@dataclass
class ConformanceReport:
    target: str = ""
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def get(self, name: str) -> CheckResult | None:
        return next((c for c in self.checks if c.name == name), None)

    def add(self, name: str, passed: bool, detail: str = "", *, skipped: bool = False) -> None:
        self.checks.append(CheckResult(name, passed, detail, skipped))

    def __str__(self) -> str:
        return "\n".join(f"[{c.status}] {c.name}: {c.detail}" for c in self.checks)


Target = RolePlayingAgent | RPAFactory | str


def _snapshot(messages: Sequence[Any]) -> list[Any]:
    # repr for whatever is not a message: an agent may have appended anything.
    return [m.model_dump() if isinstance(m, BaseMessage) else repr(m) for m in messages]


def _is_async(agent: Any) -> bool:
    # A callable object's areply is async when its __call__ is.
    method = agent.areply
    return inspect.iscoroutinefunction(method) or inspect.iscoroutinefunction(type(method).__call__)


class _Builder:
    """Agents of the target for one character at one temperature (a spec or factory is
    called per request, as the pipeline calls it; an object is itself)."""

    def __init__(self, target: Target, store: MemoryStore | None) -> None:
        self.target = target
        self.store = store
        self.spec = parse_rpa_spec(target) if isinstance(target, str) else None

    @property
    def one_object(self) -> bool:
        return not isinstance(self.target, str) and is_agent_object(self.target)

    def build(self, character: str, temperature: float = 0.0, trial: int = 0) -> Any:
        if self.one_object:
            return self.target
        request = RPARequest(
            load_character(character), self.store, temperature=temperature, seed=trial, trial=trial
        )
        factory = None if isinstance(self.target, str) else self.target
        return build_rpa(self.spec, request, factory=factory)  # type: ignore[arg-type]


async def _ask(agent: Any, text: str, timeout: float) -> str:
    return await safe_reply(agent, [HumanMessage(text)], timeout=timeout)


async def _told_then_asked(teller: Any, asker: Any, timeout: float) -> bool:
    """Whether ``asker`` knows a code word told to ``teller`` (in another conversation)."""
    await _ask(teller, f"Please remember this code word: {_SECRET}. Just say you will remember it.", timeout)
    probe = await _ask(asker, "What code word did I ask you to remember earlier? If none, say so.", timeout)
    return _SECRET.lower() in probe.lower()


async def _malformed(agent: Any, timeout: float) -> tuple[bool, str]:
    probes: list[tuple[str, list[Any]]] = [
        ("empty message", [HumanMessage("")]),
        ("content blocks", [HumanMessage(content=[{"type": "text", "text": _QUESTION}])]),
        ("non-message", [{"role": "user", "content": _QUESTION}]),
    ]
    ok, notes = True, []
    for label, messages in probes:
        try:
            out = await asyncio.wait_for(_call(agent, messages), timeout=timeout)
        except TimeoutError:
            ok = False
            notes.append(f"{label}: no answer or error within {timeout:g}s")
        except Exception as exc:  # a clean refusal: the pipeline records it as a failed item
            notes.append(f"{label}: raised {type(exc).__name__}")
        else:
            good = isinstance(out, str)
            ok = ok and good
            notes.append(f"{label}: {'answered' if good else f'returned {type(out).__name__}'}")
    return ok, "; ".join(notes)


async def _call(agent: Any, messages: list[Any]) -> Any:
    result: Awaitable[Any] = agent.areply(messages)
    return await result


async def acheck_rpa(
    target: Target,
    *,
    timeout: float = 120.0,
    characters: Sequence[str] = DEFAULT_CHARACTERS,
    store: MemoryStore | None = None,
    deterministic: bool | None = None,
) -> ConformanceReport:
    """Check that ``target`` can be measured (see the module docstring for the checks).

    ``characters``: the two characters the agents are built for (the first plays the
    single-character checks); ``store``: the memory store requests carry (``None``:
    none); ``deterministic``: check determinism at temperature 0 even if the agent does
    not promise it (``True``) or skip it (``False``; default: the agent's promise).
    """
    report = ConformanceReport(target if isinstance(target, str) else repr(target))
    if not isinstance(target, str) and not callable(target) and not is_agent_object(target):
        report.add("protocol", False, "no `async def areply(messages) -> str`")
        return report
    builder = _Builder(target, store)
    first, *others = list(characters) or list(DEFAULT_CHARACTERS)
    try:
        agent = builder.build(first)
    except ConfigurationError as exc:  # the plug-in's factory or entry point broke
        report.add("protocol", False, str(exc))
        return report
    if not is_agent_object(agent):
        report.add("protocol", False, "no `async def areply(messages) -> str`")
        return report
    report.add("protocol", True, f"{type(agent).__name__} has areply()")
    if not _is_async(agent):
        # `def areply` satisfies the Protocol's shape but fails when awaited.
        probe = agent.areply([HumanMessage(_QUESTION)])
        if not inspect.isawaitable(probe):
            report.add(
                "async areply", False, f"areply returned {type(probe).__name__}: declare `async def areply`"
            )
            return report
        if inspect.iscoroutine(probe):
            probe.close()
        report.add("async areply", True, "areply returns an awaitable")
    else:
        report.add("async areply", True, "async def areply")

    question: list[BaseMessage] = [HumanMessage(_QUESTION)]
    before = copy.deepcopy(_snapshot(question))
    try:
        answer = await safe_reply(agent, question, timeout=timeout)
        report.add("answers text in time", True, f"{len(answer)} characters")
    except RPAError as exc:
        report.add("answers text in time", False, f"{exc.kind}: {exc}")
        return report
    same = _snapshot(question) == before
    report.add("does not mutate input", same, "input unchanged" if same else "the message list was modified")

    try:
        leaked = await _told_then_asked(agent, agent, timeout)
        detail = "history leaked into a new conversation" if leaked else "no history carried over"
        report.add("isolated conversations", not leaked, detail)
    except RPAError as exc:
        report.add("isolated conversations", False, f"{exc.kind}: {exc}")

    if builder.one_object:
        report.add("no leakage across characters", True, "one object plays one character", skipped=True)
    elif not others:
        report.add("no leakage across characters", True, "one character given", skipped=True)
    else:
        try:
            a, b = builder.build(first), builder.build(others[0])
            leaked = await _told_then_asked(a, b, timeout)
            detail = (
                f"{others[0]} knew what {first} was told"
                if leaked
                else f"{first} → {others[0]}: nothing carried"
            )
            report.add("no leakage across characters", not leaked, detail)
        except RPAError as exc:
            report.add("no leakage across characters", False, f"{exc.kind}: {exc}")

    promised = bool(getattr(agent, "deterministic", False)) if deterministic is None else deterministic
    if not promised:
        report.add("deterministic at temperature 0", True, "not promised", skipped=True)
    else:
        try:
            zero = builder.build(first, temperature=0.0)
            one, two = await _ask(zero, _QUESTION, timeout), await _ask(zero, _QUESTION, timeout)
            detail = "same answer twice" if one == two else f"{one[:60]!r} then {two[:60]!r}"
            report.add("deterministic at temperature 0", one == two, detail)
        except RPAError as exc:
            report.add("deterministic at temperature 0", False, f"{exc.kind}: {exc}")

    ok, detail = await _malformed(agent, timeout)
    report.add("malformed message", ok, detail)
    return report


def check_rpa(
    target: Target,
    *,
    timeout: float = 120.0,
    characters: Sequence[str] = DEFAULT_CHARACTERS,
    store: MemoryStore | None = None,
    deterministic: bool | None = None,
) -> ConformanceReport:
    """Synchronous :func:`acheck_rpa`; inside a running event loop (Jupyter) it runs the
    checks on a loop of their own in a worker thread."""
    kwargs: dict[str, Any] = {
        "timeout": timeout,
        "characters": characters,
        "store": store,
        "deterministic": deterministic,
    }
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(acheck_rpa(target, **kwargs))
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(acheck_rpa(target, **kwargs))).result()


__all__ = [
    "CHECKS",
    "DEFAULT_CHARACTERS",
    "CheckResult",
    "ConformanceReport",
    "acheck_rpa",
    "check_rpa",
]
