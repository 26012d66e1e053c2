"""The interviewer: how an item is worded as a question, and the agent of a long conversation.

Question styles (the interviewer-prompt ablation, :data:`personascope.axes.QUESTION_STYLE`):
``incharacter`` asks the scale's open-ended rewrite (InCharacter's; an item without one
is rewritten by the interviewer model), ``statement`` asks the statement as it is,
``neutral`` and ``leading`` have the interviewer model paraphrase the statement without
and with a hint of the expected answer, and any other name is a user template.

:class:`InterviewerAgent` is the other speaker of a conversation interview: a chat model
with its own prompts that may ask one follow-up when an answer is evasive and makes small
talk between blocks of items. The item questions themselves are asked as planned (the
same wording as the isolated interview), so a conversation differs from the isolated
baseline by its context only.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage

from personascope.agents.prompts import (
    FOLLOW_UP_PROMPT,
    LEADING_QUESTION_PROMPT,
    NEUTRAL_QUESTION_PROMPT,
    QUESTION_REWRITE_PROMPT,
    SMALL_TALK_PROMPT,
)
from personascope.scales.schema import Item

#: The styles whose question the interviewer model writes (by prompt).
PARAPHRASE_PROMPTS: dict[str, str] = {
    "neutral": NEUTRAL_QUESTION_PROMPT,
    "leading": LEADING_QUESTION_PROMPT,
}


def _reply_text(content: object) -> str:
    return str(content).strip().strip('"').strip()


def fill_template(template: str, *, statement: str, experimenter: str, name: str) -> str:
    """A user question template with its placeholders filled (other braces kept as they are).

    >>> fill_template('{experimenter} asks {name}: is "{statement}" true of you?',
    ...               statement="I am calm", experimenter="the interviewer", name="Holmes")
    'the interviewer asks Holmes: is "I am calm" true of you?'
    """
    for key, value in (("{statement}", statement), ("{experimenter}", experimenter), ("{name}", name)):
        template = template.replace(key, value)
    return template


def needs_interviewer(style: str, items: list[Item], language: str) -> bool:
    """Whether asking ``items`` in ``style`` calls the interviewer model."""
    if style in PARAPHRASE_PROMPTS:
        return True
    return style == "incharacter" and any(not i.question(language) for i in items)


async def item_question(
    item: Item,
    style: str,
    *,
    language: str,
    interviewer: BaseChatModel | None,
    templates: Mapping[str, str],
    experimenter: str,
    name: str,
) -> str:
    """The open question that asks ``item`` in ``style`` (``interviewer`` is called only
    for a paraphrase, or for an InCharacter rewrite the scale lacks)."""
    if style == "statement":
        return item.text
    if style in templates:
        return fill_template(templates[style], statement=item.text, experimenter=experimenter, name=name)
    if style == "incharacter" and item.question(language):
        return item.question(language) or ""
    prompt = PARAPHRASE_PROMPTS.get(style, QUESTION_REWRITE_PROMPT)
    if interviewer is None:
        raise ValueError(f"question style {style!r} needs an interviewer model")
    reply = await interviewer.ainvoke([HumanMessage(prompt.format(statement=item.text))])
    return _reply_text(reply.content)


class InterviewerAgent:
    """The interviewer of a conversation: follow-ups to evasive answers, and small talk.

    Parameters
    ----------
    model : the interviewer's chat model (the context's ``interviewer_model``).
    experimenter : who the interviewer is (the character's experimenter or "the interviewer").
    name : the character interviewed.
    """

    def __init__(self, model: BaseChatModel, *, experimenter: str, name: str) -> None:
        self.model = model
        self.experimenter = experimenter
        self.name = name

    async def follow_up(self, question: str, answer: str) -> str | None:
        """One follow-up question when the answer is evasive, else ``None``.

        The model replies NONE for an answer that says something; a reply whose last
        word is NONE counts as NONE ("No follow-up needed: NONE"), as does an empty one.
        """
        prompt = FOLLOW_UP_PROMPT.format(
            experimenter=self.experimenter,
            name=self.name,
            question=question,
            answer=html.escape(answer, quote=False),  # a fake </answer> cannot end the data block
        )
        reply = _reply_text((await self.model.ainvoke([HumanMessage(prompt)])).content)
        words = reply.replace(".", " ").split()
        if not words or words[-1].upper() == "NONE":
            return None
        return reply

    async def small_talk(self) -> str:
        """A small-talk or everyday-task turn between blocks of items."""
        prompt = SMALL_TALK_PROMPT.format(experimenter=self.experimenter, name=self.name)
        return _reply_text((await self.model.ainvoke([HumanMessage(prompt)])).content)


__all__ = ["PARAPHRASE_PROMPTS", "InterviewerAgent", "fill_template", "item_question", "needs_interviewer"]
