"""Graph state: what is being measured (serialisable ids, items, answers, ratings, scores)."""

from __future__ import annotations

import operator
from typing import Annotated, Any, NotRequired

from pydantic import Field
from typing_extensions import TypedDict

from personascope.memories.characters import builtin_character_ids

# The records a run is made of are defined once, in the results layer (pure), and
# re-exported here: graph state and the results store speak the same types.
from personascope.records import (
    Answer,
    AssessorOutput,
    DimensionRating,
    Failure,
    Flag,
    ItemDistribution,
    Question,
    RoundScores,
    Turn,
    Usage,
)
from personascope.scales.loader import builtin_scale_ids


def merge_by_item(left: list[Answer] | None, right: list[Answer] | None) -> list[Answer]:
    """Reducer for fanned-in answers: one entry per item, the latest wins.

    Keying by item keeps a resumed run from duplicating answers that were already
    checkpointed.
    """
    merged: dict[str, Answer] = {a["item_id"]: a for a in (left or [])}
    for a in right or []:
        merged[a["item_id"]] = a
    return list(merged.values())


def merge_usage(left: Usage | None, right: Usage | None) -> Usage:
    """Reducer for token usage: ``{role: {model: {input_tokens, output_tokens, total_tokens}}}`` summed."""
    out: Usage = {role: {m: dict(u) for m, u in models.items()} for role, models in (left or {}).items()}
    for role, models in (right or {}).items():
        for model, u in models.items():
            acc = out.setdefault(role, {}).setdefault(model, {})
            for k in ("input_tokens", "output_tokens", "total_tokens"):
                acc[k] = acc.get(k, 0) + int(u.get(k, 0) or 0)
    return out


# What a run is started with, as Studio's input form shows it: the two ids, each with the
# shipped choices listed (computed when the schema is asked for, not at import).
CharacterId = Annotated[
    str,
    Field(
        description="A shipped character id, or a profile file (.yaml/.json) through the API.",
        json_schema_extra=lambda schema: schema.update(enum=builtin_character_ids()),
    ),
]
ScaleId = Annotated[
    str,
    Field(
        description="A built-in scale id, or a scale file (YAML/JSON) through the API.",
        json_schema_extra=lambda schema: schema.update(enum=builtin_scale_ids()),
    ),
]


class RunInput(TypedDict):
    """Input of the interview and pipeline graphs: who is interviewed, with which scale."""

    character: CharacterId
    scale: ScaleId


class AssessmentInput(RunInput):
    """Input of the assessment graph: a transcript to assess."""

    transcript: list[Answer]


class InterviewState(TypedDict):
    """State of the interview graph."""

    character: str
    scale: str
    questions: NotRequired[list[Question]]
    answers: NotRequired[Annotated[list[Answer], merge_by_item]]
    transcript: NotRequired[list[Answer]]
    usage: NotRequired[Annotated[Usage, merge_usage]]
    # A conversation interview: its turns (one appended per step) and each round's scores.
    turns: NotRequired[Annotated[list[Turn], operator.add]]
    rounds: NotRequired[list[RoundScores]]


class InterviewUpdate(TypedDict, total=False):
    """What interview nodes write."""

    questions: list[Question]
    answers: list[Answer]
    transcript: list[Answer]
    usage: Usage
    turns: list[Turn]
    rounds: list[RoundScores]


class AskState(TypedDict):
    """What one ``ask_item`` task sees: its own question only (isolation)."""

    character: str
    scale: str
    question: Question


class AssessmentResults(TypedDict):
    """What the assessment and score nodes write (shared by the assessment and pipeline states)."""

    item_values: NotRequired[dict[str, float | None]]
    item_distributions: NotRequired[dict[str, ItemDistribution]]
    dimension_ratings: NotRequired[list[DimensionRating]]
    assessor_outputs: NotRequired[list[AssessorOutput]]
    failures: NotRequired[list[Failure]]
    flags: NotRequired[list[Flag]]
    scores: NotRequired[dict[str, dict[str, Any]]]
    usage: NotRequired[Annotated[Usage, merge_usage]]


class AssessmentState(AssessmentResults):
    """State of the assessment graph (input: character, scale, transcript)."""

    character: str
    scale: str
    transcript: list[Answer]


class PipelineState(InterviewState, AssessmentResults):
    """State of the full pipeline: interview, assessment, score, record."""

    result: NotRequired[dict[str, Any]]


class RecordUpdate(TypedDict):
    """What the record node writes: the run record in its JSON form."""

    result: dict[str, Any]


__all__ = [
    "Answer",
    "AskState",
    "AssessmentInput",
    "AssessmentResults",
    "AssessmentState",
    "AssessorOutput",
    "DimensionRating",
    "Failure",
    "Flag",
    "InterviewState",
    "InterviewUpdate",
    "PipelineState",
    "Question",
    "RecordUpdate",
    "RoundScores",
    "RunInput",
    "Turn",
    "Usage",
    "merge_by_item",
    "merge_usage",
]
