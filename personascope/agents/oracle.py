"""The oracle RPA: unambiguous answers from a character's labels (no LLM).

For every item it recognises (the open-ended question or the statement of a scale on
which the character has labels) it answers "Yes, absolutely, that describes me." when
the labelled pole and the item's key agree, and "No, not at all, that does not describe
me." when they do not; a dimension labelled X gets "Sometimes; it depends.". A
validity study run with it measures the assessor alone: the answers carry the assigned
levels without any role-play noise (issue: "personas whose answers are unambiguous").
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from langchain_core.messages import BaseMessage

from personascope.agents.rpa import RolePlayingAgent, RPARequest
from personascope.memories.characters import Character
from personascope.scales import Item, load_scale

AGREE = "Yes, absolutely, that describes me."
DISAGREE = "No, not at all, that does not describe me."
NEUTRAL = "Sometimes; it depends."
UNKNOWN = "I am not sure what to say to that."


@cache
def _items(scale_id: str, language: str) -> tuple[dict[str, Item], dict[str, Item]]:
    scale = load_scale(scale_id)
    by_question = {q: i for i in scale.items if (q := i.question(language))}
    by_statement = {i.text: i for i in scale.items}
    return by_question, by_statement


class OracleRPA:
    """Answers from ``character.labels``: agreement = (labelled pole == item key)."""

    def __init__(self, character: Character) -> None:
        self.character = character

    def answer_for(self, question: str) -> str:
        for scale_id, labels in self.character.labels.items():
            by_question, by_statement = _items(scale_id, self.character.language)
            item = by_question.get(question.strip())
            if item is None:  # a self-report prompt quotes the statement
                item = next((i for s, i in by_statement.items() if f'"{s}"' in question), None)
            if item is None or item.dimension not in labels:
                continue
            pole = labels[item.dimension].type
            if pole == "X":
                return NEUTRAL
            return AGREE if (pole == "H") == (item.key == "+") else DISAGREE
        return UNKNOWN

    async def areply(self, messages: Sequence[BaseMessage]) -> str:
        return self.answer_for(str(messages[-1].content))


def build_oracle_rpa(request: RPARequest) -> RolePlayingAgent:
    """``rpa:oracle``: the oracle for the request's character."""
    return OracleRPA(request.character)
