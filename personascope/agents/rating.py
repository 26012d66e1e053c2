"""Expert rating (ER): an assessor rates one dimension from a batch of answers.

InCharacter's ER_all / ER_batch (Wang et al., ACL 2024, §3.4) ask for a JSON analysis and
score (any number in the scale's range; 16Personalities as two pole percentages).
``er_prob`` asks for the analysis, then for the rating as one digit, and reads that
token's probabilities: the dimension's value is the probability-weighted mean over the
options, with the distribution's spread and entropy recorded as its confidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field, create_model, model_validator

from personascope.agents.assessors import (
    EXPERIMENTER,
    PARTICIPANT,
    CallRecord,
    Entry,
    Participant,
    _block,
    _poles,
    _structured,
    anonymize,
    pole_anchors,
)
from personascope.agents.judgement import digit_distribution
from personascope.agents.prompts import (
    DATA_NOTICE,
    EXPERT_RATING_PROMPT,
    ONE_SCORE_OUTPUT,
    PROBABILITY_ANALYSIS_OUTPUT,
    PROBABILITY_RATING_QUESTION,
    TWO_SCORE_OUTPUT,
)
from personascope.scales.schema import Dimension, Scale, ScoringMode
from personascope.scales.scoring import OptionDistribution

#: Room for the analysis of an ``er_prob`` rating ("two or three sentences").
PROBABILITY_ANALYSIS_TOKENS = 200


@lru_cache(maxsize=64)
def rating_schema(low: int, high: int) -> type[BaseModel]:
    """Expert rating: any number in ``[low, high]`` (as InCharacter accepts), analysis first."""
    fields: dict[str, Any] = {
        "analysis": (str, Field(description="Brief analysis of the evidence in the answers.")),
        "score": (float, Field(ge=low, le=high, description=f"Rating from {low} to {high}.")),
    }
    return create_model("DimensionRating", **fields)


class _PolePercentages(BaseModel):
    first: float = Field(ge=0, le=100)
    second: float = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _sums_to_100(self) -> _PolePercentages:
        # InCharacter asserts an exact 100; half a point of rounding is tolerated here.
        if abs(self.first + self.second - 100.0) > 0.5:
            raise ValueError(f"the percentages must sum to 100, got {self.first + self.second:g}")
        return self


@lru_cache(maxsize=64)
def percent_schema(first: str, second: str) -> type[BaseModel]:
    """Expert rating of a two-pole (16Personalities) dimension as InCharacter asks for it: the
    percentage of each pole, summing to 100 (its ``two_score_output``).

    >>> schema = percent_schema("E", "I")
    >>> schema.model_validate({"analysis": "", "result": {"E": 30, "I": 70}}).result.first
    30.0
    >>> schema.model_validate({"analysis": "", "result": {"E": 30, "I": 60}})
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for PoleRating
    ...
    """
    poles = create_model(
        "PolePercentages",
        __base__=_PolePercentages,
        first=(float, Field(ge=0, le=100, alias=first)),
        second=(float, Field(ge=0, le=100, alias=second)),
    )
    fields: dict[str, Any] = {
        "analysis": (str, Field(description="Brief analysis of the evidence in the answers.")),
        "result": (poles, Field(description=f"Percentage of {first} and of {second}, summing to 100.")),
    }
    return create_model("PoleRating", **fields)


def two_poles(scale: Scale, dimension: Dimension) -> tuple[str, str] | None:
    """The two poles an expert rates in percent: a percent-scored scale's dimension named
    "A/B" (16Personalities: the first letter is the scored pole), else ``None``."""
    if scale.scoring is not ScoringMode.PERCENT:
        return None
    if "/" in dimension.id:
        first, _, second = dimension.id.partition("/")
        return first.strip(), second.strip()
    low_pole, high_pole = _poles(dimension)
    return high_pole, low_pole


def _messages(
    scale: Scale,
    dimension: Dimension,
    entries: Sequence[Entry],
    who: Participant,
    anonymize_names: bool,
    output: str,
) -> tuple[str, str]:
    """The expert-rating system prompt (with its output instructions) and the answers."""
    experimenter = EXPERIMENTER if anonymize_names else who.experimenter
    participant = PARTICIPANT if anonymize_names else who.names[0]
    system = EXPERT_RATING_PROMPT.format(
        dimension=dimension.name,
        scale_name=scale.name,
        description=dimension.description or dimension.name,
        experimenter=experimenter,
        participant=participant,
        data_notice=DATA_NOTICE,
        output=output.replace("{participant}", participant),
    )
    user = "Our conversation:\n\n" + _block(entries, experimenter, with_statement=False)
    if anonymize_names:
        system = anonymize(system, who.names, who.experimenter)
        user = anonymize(user, who.names, who.experimenter)
    return system, user


def _one_score(template: str, scale: Scale, dimension: Dimension) -> str:
    low, high = scale.range
    low_pole, high_pole = _poles(dimension)
    return template.format(
        participant="{participant}",
        dimension=dimension.name,
        low=low,
        high=high,
        anchors=pole_anchors(low, high, low_pole, high_pole),
        high_pole=high_pole,
        low_pole=low_pole,
    )


async def rate_dimension(
    model: BaseChatModel,
    scale: Scale,
    dimension: Dimension,
    entries: Sequence[Entry],
    who: Participant,
    *,
    anonymize_names: bool = True,
    retries: int = 2,
) -> tuple[float | None, CallRecord]:
    """Expert rating (ER) of one dimension from a batch of answers.

    Returns the rating in the scale's response units (any number in range, as
    InCharacter accepts). A two-pole percent dimension (16Personalities) is rated as
    InCharacter does, as two percentages summing to 100; the first pole's percentage
    ``p`` is returned as ``low + p / 100 · (high − low)``, which the percent scoring
    turns back into ``p``.
    """
    low, high = scale.range
    poles = two_poles(scale, dimension)
    if poles is None:
        output = _one_score(ONE_SCORE_OUTPUT, scale, dimension)
        schema = rating_schema(low, high)
    else:
        output = TWO_SCORE_OUTPUT.format(participant="{participant}", first=poles[0], second=poles[1])
        schema = percent_schema(*poles)
    system, user = _messages(scale, dimension, entries, who, anonymize_names, output)
    parsed, error, attempts = await _structured(
        model, schema, [SystemMessage(system), HumanMessage(user)], retries
    )
    record = CallRecord(
        "er",
        [e.item_id for e in entries],
        parsed.model_dump(by_alias=True) if parsed else None,
        error,
        attempts,
        prompt_chars=len(system) + len(user),
    )
    if parsed is None:
        return None, record
    if poles is None:
        return float(parsed.score), record  # type: ignore[attr-defined]
    share = float(parsed.result.first)  # type: ignore[attr-defined]
    return low + share / 100.0 * (high - low), record


async def rate_dimension_probabilities(
    model: BaseChatModel,
    scale: Scale,
    dimension: Dimension,
    entries: Sequence[Entry],
    who: Participant,
    *,
    anonymize_names: bool = True,
    retries: int = 2,
) -> tuple[OptionDistribution | None, CallRecord]:
    """Expert rating scored from probabilities (``er_prob``), in two turns.

    The assessor first writes a brief analysis of the answers (ER's prompt, text instead
    of JSON); then, asked in the same conversation for the rating, it replies with one
    digit. Where the endpoint returns token log-probabilities and every option is a
    single digit, the rating is the probability-weighted mean over the option tokens of
    that reply (:func:`~personascope.scales.scoring.option_distribution`: ``E = Σ v p_v``,
    its variance, entropy and confidence ``1 − H / ln k``); otherwise the sampled digit,
    with probability 1. The second turn shares the first's prompt and analysis as a
    prefix, which a llama.cpp server does not evaluate again. Every dimension, two-pole
    ones included, is rated on the response range from its low to its high pole (this
    method is personascope's, not InCharacter's percentages).
    """
    options = [int(o.value) for o in scale.response_options]
    low_pole, high_pole = _poles(dimension)
    output = PROBABILITY_ANALYSIS_OUTPUT.format(
        participant="{participant}", high_pole=high_pole, low_pole=low_pole
    )
    system, user = _messages(scale, dimension, entries, who, anonymize_names, output)
    question = _one_score(PROBABILITY_RATING_QUESTION, scale, dimension).replace(
        "{participant}", PARTICIPANT if anonymize_names else who.names[0]
    )
    if anonymize_names:
        question = anonymize(question, who.names, who.experimenter)
    ids = [e.item_id for e in entries]
    chars = len(system) + len(user) + len(question)
    messages: list[BaseMessage] = [SystemMessage(system), HumanMessage(user)]
    try:
        analysis = str((await model.bind(max_tokens=PROBABILITY_ANALYSIS_TOKENS).ainvoke(messages)).content)
    except Exception as exc:  # transport errors after the model layer's retries
        return None, CallRecord("er", ids, None, f"{type(exc).__name__}: {str(exc)[:300]}", 1, chars)
    messages += [AIMessage(analysis), HumanMessage(question)]
    got, error = await digit_distribution(model, messages, options, retries=retries)
    if got is None:
        return None, CallRecord("er", ids, {"analysis": analysis}, error, retries + 1, chars)
    dist = got.distribution
    record = CallRecord(
        "er",
        ids,
        {"analysis": analysis, "score": dist.expected, "distribution": dist.model_dump()},
        None,
        got.attempts,
        prompt_chars=chars,
        extra={"source": got.source, "reply": got.reply},
    )
    return dist, record


__all__ = [
    "PROBABILITY_ANALYSIS_TOKENS",
    "percent_schema",
    "rate_dimension",
    "rate_dimension_probabilities",
    "rating_schema",
    "two_poles",
]
