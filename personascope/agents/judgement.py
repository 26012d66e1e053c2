"""Item judgement and one-digit replies read from their token probabilities.

An item judgement shows the assessor one statement, one question and one answer and asks
for a one-digit agreement rating (``oc_item``); ``er_prob`` asks for its dimension rating the
same way (:mod:`personascope.agents.rating`). Where the endpoint returns token
log-probabilities (llama.cpp, vLLM, OpenAI) the digit's distribution over the options is
read from them; otherwise the sampled digit counts with probability 1.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from personascope.agents.assessors import (
    EXPERIMENTER,
    PARTICIPANT,
    CallRecord,
    Entry,
    Participant,
    _escape,
    anonymize,
    option_anchors,
)
from personascope.agents.prompts import DATA_NOTICE, ITEM_JUDGEMENT_INPUT, ITEM_JUDGEMENT_PROMPT
from personascope.scales.schema import Scale
from personascope.scales.scoring import OptionDistribution, ScoringError, option_distribution

#: Top alternatives asked for per token (OpenAI allows up to 20; llama.cpp and vLLM more).
TOP_LOGPROBS = 20


#: Least probability mass a token must put on the options to be read as the choice.
MIN_OPTION_MASS = 0.5


def single_digit(options: Sequence[int]) -> bool:
    """Every option is one digit 0-9, so a choice is one token whose probabilities can be
    read (a "10" would begin with the token "1", a "-2" with "-").

    >>> single_digit([1, 2, 3, 4, 5]), single_digit(range(0, 11)), single_digit([-2, 0, 2])
    (True, False, False)
    """
    return all(0 <= v <= 9 for v in options)


def logprob_mass(response_metadata: dict[str, Any], options: Sequence[int]) -> dict[float, float] | None:
    """Probability mass per option at the first answer token that is a choice: the first
    token whose top log-probabilities (OpenAI-style ``logprobs.content[i].top_logprobs``)
    put at least :data:`MIN_OPTION_MASS` on the option labels ("Answer: 4" reads the
    "4"). ``None`` when the response carries no log-probabilities, no token is a choice,
    or an option is not a single digit (:func:`single_digit`): the text is then parsed
    instead. Tokens are compared stripped ("5", " 5")."""
    if not single_digit(options):
        return None
    content = ((response_metadata or {}).get("logprobs") or {}).get("content") or []
    for entry in content:
        mass = {float(v): 0.0 for v in options}
        alternatives = entry.get("top_logprobs") or [
            {"token": entry.get("token", ""), "logprob": entry.get("logprob")}
        ]
        for alt in alternatives:
            label = str(alt.get("token", "")).strip()
            if alt.get("logprob") is not None and label.lstrip("-").isdigit() and float(label) in mass:
                mass[float(label)] += math.exp(float(alt["logprob"]))
        if sum(mass.values()) >= MIN_OPTION_MASS:
            return mass
    return None


def _sampled(content: str, options: Sequence[int]) -> float | None:
    found = re.search(r"-?\d+", content)
    if found is None or int(found.group()) not in options:
        return None
    return float(found.group())


@dataclass(frozen=True)
class DigitReply:
    """A one-digit reply read as a distribution over the options."""

    distribution: OptionDistribution
    source: Literal["logprobs", "sampled"]
    reply: str
    attempts: int


async def digit_distribution(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    options: Sequence[int],
    *,
    retries: int,
) -> tuple[DigitReply | None, str | None]:
    """Ask for one option digit, at most ``retries + 1`` times, and read the reply.

    Where the endpoint returns token log-probabilities, the distribution is the option
    tokens' probability mass (:func:`logprob_mass`,
    normalised by :func:`~personascope.scales.scoring.option_distribution`); otherwise
    the sampled digit, with probability 1. A retry appends a reminder of the range.
    Returns the reply, or ``None`` and the last error.
    """
    runnable = model.bind(logprobs=True, top_logprobs=TOP_LOGPROBS, max_tokens=3)
    error: str | None = None
    for attempt in range(1, retries + 2):
        msgs = list(messages)
        if attempt > 1:
            msgs.append(
                HumanMessage(
                    f"(Attempt {attempt}: reply with one digit from {min(options)} to {max(options)}.)"
                )
            )
        try:
            reply = await runnable.ainvoke(msgs)
        except Exception as exc:  # transport errors after the model layer's retries
            error = f"{type(exc).__name__}: {str(exc)[:300]}"
            continue
        content = str(reply.content)
        mass = logprob_mass(getattr(reply, "response_metadata", {}) or {}, options)
        try:
            if mass is not None:  # at least MIN_OPTION_MASS on the options
                return DigitReply(option_distribution(mass), "logprobs", content, attempt), None
            value = _sampled(content, options)
            if value is None:
                error = f"not an option: {content[:80]!r}"
                continue
            one_hot = option_distribution({float(v): float(v == value) for v in options})
            return DigitReply(one_hot, "sampled", content, attempt), None
        except ScoringError as exc:
            error = str(exc)
    return None, error


async def judge_item(
    model: BaseChatModel,
    scale: Scale,
    entry: Entry,
    who: Participant,
    *,
    anonymize_names: bool = True,
    retries: int = 2,
    option_order: Sequence[int] | None = None,
) -> tuple[OptionDistribution | None, CallRecord]:
    """Item judgement: one statement, one answer, a one-digit agreement rating
    (``option_order``: the anchors listed in another order).

    A model small enough to run on a laptop can do this where batched conversion
    fails. Where the endpoint returns token log-probabilities (llama.cpp, vLLM,
    OpenAI) the value is the probability-weighted mean over the option tokens
    (:func:`~personascope.scales.scoring.option_distribution`); otherwise the sampled
    digit, with probability 1 (:func:`digit_distribution`). Reverse keys are applied
    by scoring, never asked of the model.
    """
    options = [o.value for o in scale.response_options]
    experimenter = EXPERIMENTER if anonymize_names else who.experimenter
    participant = PARTICIPANT if anonymize_names else who.names[0]
    system = ITEM_JUDGEMENT_PROMPT.format(
        data_notice=DATA_NOTICE, anchors=option_anchors(scale, option_order)
    )
    user = ITEM_JUDGEMENT_INPUT.format(
        statement=entry.statement,
        experimenter=experimenter,
        question=entry.question,
        answer=_escape(entry.answer),
        participant=participant,
    )
    if anonymize_names:
        user = anonymize(user, who.names, who.experimenter)
    chars = len(system) + len(user)
    got, error = await digit_distribution(
        model, [SystemMessage(system), HumanMessage(user)], options, retries=retries
    )
    if got is None:
        return None, CallRecord("item", [entry.item_id], None, error, retries + 1, chars)
    record = CallRecord(
        "item",
        [entry.item_id],
        got.distribution.model_dump(),
        None,
        got.attempts,
        prompt_chars=chars,
        extra={"source": got.source, "reply": got.reply},
    )
    return got.distribution, record


__all__ = [
    "MIN_OPTION_MASS",
    "TOP_LOGPROBS",
    "DigitReply",
    "digit_distribution",
    "judge_item",
    "logprob_mass",
    "single_digit",
]
