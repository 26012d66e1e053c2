"""RPA plug-in points: Protocol, adapters, registry with entry points, conformance kit."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langgraph.graph import END, START, MessagesState, StateGraph

from personascope.agents.character_agent import CharacterAgent, build_character_agent_graph
from personascope.agents.conformance import CHECKS, check_rpa
from personascope.agents.fakes import FakeChatModel
from personascope.agents.rpa import (
    EndpointRPA,
    RolePlayingAgent,
    RPAError,
    RPARequest,
    RunnableRPA,
    safe_reply,
)
from personascope.agents.rpa_specs import available_rpas, get_rpa, register_rpa
from personascope.errors import ConfigurationError, InputError
from personascope.memories.characters import load_character

from stub_openai import StubOpenAI


class EchoRPA:
    async def areply(self, messages: Sequence[BaseMessage]) -> str:
        return f"You said: {messages[-1].content}"


class RaisingRPA:
    async def areply(self, messages: Sequence[BaseMessage]) -> str:
        raise ConnectionError("backend down")


class NonTextRPA:
    async def areply(self, messages: Sequence[BaseMessage]) -> Any:
        return {"answer": 42}


class EmptyRPA:
    async def areply(self, messages: Sequence[BaseMessage]) -> str:
        return "   "


class HangingRPA:
    async def areply(self, messages: Sequence[BaseMessage]) -> str:
        await asyncio.sleep(30)
        return "too late"


class LeakyRPA:
    """Keeps a global history: the kind of agent that contaminates isolated items."""

    def __init__(self) -> None:
        self.history: list[str] = []

    async def areply(self, messages: Sequence[BaseMessage]) -> str:
        self.history += [str(m.content) for m in messages]
        return "I recall: " + " | ".join(self.history)


class MutatingRPA:
    async def areply(self, messages: Sequence[BaseMessage]) -> str:
        assert isinstance(messages, list)
        messages.append(AIMessage("scribble"))
        return "fine"


class JunkAppendingRPA:
    """Appends something that is not a message: the kit must report it, not crash."""

    async def areply(self, messages: Sequence[BaseMessage]) -> str:
        messages.append(42)  # type: ignore[arg-type]
        return "fine"


class SyncRPA:
    """`def areply`: has the Protocol's shape, fails when awaited."""

    def areply(self, messages: Sequence[BaseMessage]) -> str:
        return "I am not awaitable"


class HangsOnOddInputRPA:
    """Answers questions, but hangs on a message without text."""

    async def areply(self, messages: Sequence[BaseMessage]) -> str:
        if not isinstance(messages[-1], BaseMessage) or not isinstance(messages[-1].content, str):
            await asyncio.sleep(30)
        return "Quite so."


class DictRPA:
    """Returns a dict for content blocks: non-text on a malformed message."""

    async def areply(self, messages: Sequence[BaseMessage]) -> Any:
        if isinstance(messages[-1], BaseMessage) and isinstance(messages[-1].content, list):
            return {"text": "?"}
        return "Quite so."


class ForgetfulButFlakyRPA:
    """Deterministic by promise, not in fact."""

    deterministic = True

    def __init__(self) -> None:
        self.n = 0

    async def areply(self, messages: Sequence[BaseMessage]) -> str:
        self.n += 1
        return f"answer number {self.n}"


def test_protocol_is_structural() -> None:
    assert isinstance(EchoRPA(), RolePlayingAgent)
    assert not isinstance(object(), RolePlayingAgent)


def test_runnable_adapter_for_chat_model_and_graph() -> None:
    model = FakeChatModel(rules=[(r"party", "No parties for me.")])
    rpa = RunnableRPA(model, system_prompt="You are a hermit.")
    assert asyncio.run(rpa.areply([HumanMessage("Do you like a party?")])) == "No parties for me."
    assert "You are a hermit." in model.prompts[0]

    def respond(state: MessagesState) -> dict[str, Any]:
        return {"messages": [AIMessage(f"graph heard {len(state['messages'])} message(s)")]}

    g = StateGraph(MessagesState)
    g.add_node("respond", respond)
    g.add_edge(START, "respond")
    g.add_edge("respond", END)
    graph_rpa = RunnableRPA(g.compile())
    assert graph_rpa.is_graph
    assert asyncio.run(graph_rpa.areply([HumanMessage("hi")])) == "graph heard 1 message(s)"


def test_endpoint_adapter() -> None:
    with StubOpenAI(reply=lambda body: f"[{body['messages'][0]['content']}] aye") as stub:
        rpa = EndpointRPA(f"openai-compatible:char@{stub.base_url}", system_prompt="Be Ahab.")
        assert asyncio.run(rpa.areply([HumanMessage("Whale?")])) == "[Be Ahab.] aye"


def test_safe_reply_never_returns_an_empty_answer() -> None:
    cases: list[tuple[Any, str]] = [
        (RaisingRPA(), "exception"),
        (NonTextRPA(), "non_text"),
        (EmptyRPA(), "empty"),
        (HangingRPA(), "timeout"),
    ]
    for agent, kind in cases:
        with pytest.raises(RPAError) as info:
            asyncio.run(safe_reply(agent, [HumanMessage("q")], timeout=0.2))
        assert info.value.kind == kind


def test_registry_and_entry_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alice = RPARequest(load_character("alice"))
    register_rpa("unit-echo", lambda request: EchoRPA())
    assert isinstance(get_rpa("unit-echo", alice), EchoRPA)
    # A package that ships an RPA through the entry-point group, installed on sys.path.
    pkg = tmp_path / "thirdparty_rpa.py"
    pkg.write_text(
        "class Shouty:\n    async def areply(self, messages):\n"
        "        return str(messages[-1].content).upper()\n"
        "def build(request):\n    return Shouty()\n"
    )
    dist = tmp_path / "thirdparty_rpa-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-rpa\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[personascope.rpas]\nshouty = thirdparty_rpa:build\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "shouty" in available_rpas()
    agent = get_rpa("shouty", alice)
    assert asyncio.run(agent.areply([HumanMessage("ahoy")])) == "AHOY"
    with pytest.raises(InputError, match="no RPA registered"):
        get_rpa("nobody", alice)
    register_rpa("unit-broken", lambda request: object())  # type: ignore[arg-type,return-value]
    with pytest.raises(InputError, match="has no areply"):
        get_rpa("unit-broken", alice)
    register_rpa("unit-old-style", lambda **kw: EchoRPA())
    with pytest.raises(InputError, match="takes one argument"):
        get_rpa("unit-old-style", alice)
    sys.modules.pop("thirdparty_rpa", None)


def test_a_broken_entry_point_is_one_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = tmp_path / "broken_rpa-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-rpa\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[personascope.rpas]\nbroken = no_such_module_xyz:build\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigurationError, match=r"personascope\.rpas:broken .*ModuleNotFoundError"):
        get_rpa("broken", RPARequest(load_character("alice")))


def _fake_character_agent() -> CharacterAgent:
    model = FakeChatModel(default=lambda msgs: f"As Holmes: I considered '{msgs[-1].content}'.")
    return CharacterAgent(load_character("sherlock-holmes"), model, store=None)


def test_default_rpa_graph_shape_and_reply() -> None:
    holmes = load_character("sherlock-holmes")
    g = build_character_agent_graph(holmes, FakeChatModel(), None).compile()
    assert set(g.get_graph().nodes) == {"__start__", "retrieve_memories", "answer_in_character", "__end__"}
    agent = _fake_character_agent()
    out = asyncio.run(agent.areply([HumanMessage("Do you like parties?")]))
    assert out == "As Holmes: I considered 'Do you like parties?'."


def test_check_rpa_passes_the_default_rpa() -> None:
    report = check_rpa(_fake_character_agent(), timeout=10)
    assert report.passed, str(report)
    assert [c.name for c in report.checks] == list(CHECKS)
    # One object plays one character; the default agent promises nothing on its own.
    assert [c.name for c in report.checks if c.skipped] == [
        "no leakage across characters",
        "deterministic at temperature 0",
    ]


@pytest.mark.parametrize(
    ("agent", "failing"),
    [
        (RaisingRPA(), "answers text in time"),
        (NonTextRPA(), "answers text in time"),
        (EmptyRPA(), "answers text in time"),
        (HangingRPA(), "answers text in time"),
        (LeakyRPA(), "isolated conversations"),
        (MutatingRPA(), "does not mutate input"),
        (JunkAppendingRPA(), "does not mutate input"),
        (object(), "protocol"),
        (SyncRPA(), "async areply"),
        (HangsOnOddInputRPA(), "malformed message"),
        (DictRPA(), "malformed message"),
        (ForgetfulButFlakyRPA(), "deterministic at temperature 0"),
    ],
)
def test_check_rpa_fails_broken_agents(agent: Any, failing: str) -> None:
    # 1 s: the agents that should pass a check answer at once, but a loaded machine may stall
    # them for a few hundred milliseconds; the hanging ones sleep 30 s.
    report = check_rpa(agent, timeout=1.0)
    assert not report.passed
    assert [c.name for c in report.checks if not c.passed] == [failing], str(report)


def test_remote_graph_is_driven_as_a_graph() -> None:
    from langgraph.pregel.remote import RemoteGraph

    remote = RemoteGraph("character", url="http://127.0.0.1:9")  # no connection until used
    assert RunnableRPA(remote).is_graph
    assert not RunnableRPA(FakeChatModel()).is_graph
