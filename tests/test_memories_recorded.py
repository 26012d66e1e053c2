"""The memories the default RPA retrieved for a question are kept beside its answer."""

from __future__ import annotations

import asyncio
from pathlib import Path

from langchain_core.messages import HumanMessage

from personascope import results
from personascope.agents.character_agent import CharacterAgent, recording_memories
from personascope.agents.fakes import FakeChatModel
from personascope.graphs.runner import ExperimentSpec, run_experiment
from personascope.memories.characters import Character, load_character


class StubStore:
    """A memory store that answers each question with two memories naming it."""

    def retrieve(
        self, character: Character, query: str, *, k: int = 4, max_chars: int | None = 1500
    ) -> list[str]:
        return [f"{character.id} remembers: {query}", "a second memory"]


def test_recording_memories_sees_only_its_own_question() -> None:
    agent = CharacterAgent(load_character("alice"), FakeChatModel(), StubStore())  # type: ignore[arg-type]

    async def ask(q: str) -> list[str] | None:
        with recording_memories() as rec:
            await agent.areply([HumanMessage(q)])
        return rec.memories

    async def both() -> list[list[str] | None]:
        return list(await asyncio.gather(ask("one?"), ask("two?")))  # concurrently, one agent

    assert asyncio.run(both()) == [
        ["alice remembers: one?", "a second memory"],
        ["alice remembers: two?", "a second memory"],
    ]
    without_store = CharacterAgent(load_character("alice"), FakeChatModel(), None)
    with recording_memories() as rec:
        asyncio.run(without_store.areply([HumanMessage("three?")]))
    assert rec.memories == []  # retrieval ran and found nothing: not the same as "not reported"


def test_run_records_the_memories_of_each_answer(tmp_path: Path) -> None:
    spec = ExperimentSpec(
        characters=["alice"],
        scales=["ipip-bfm-50"],
        methods=["er_batch"],
        rpa_models=["fake:echo"],
        assessor_models=["fake:neutral"],
        concurrency=4,
    )
    asyncio.run(run_experiment(spec, tmp_path, store=StubStore()))  # type: ignore[arg-type]
    (record,) = results.run_records(tmp_path)
    assert len(record.transcript) == 50
    for answer in record.transcript:
        assert answer.get("memories") == [f"alice remembers: {answer['question']}", "a second memory"]


def test_a_custom_rpa_reports_no_memories(tmp_path: Path) -> None:
    class Plain:
        async def areply(self, messages: object) -> str:
            return "I would rather not say."

    spec = ExperimentSpec(
        characters=["alice"], scales=["ipip-bfm-50"], methods=["er_batch"], assessor_models=["fake:neutral"]
    )
    asyncio.run(run_experiment(spec, tmp_path, rpa=Plain()))
    (record,) = results.run_records(tmp_path)
    assert all("memories" not in a for a in record.transcript)
