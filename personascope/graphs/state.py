"""Graph state: what is being measured (serialisable ids, items, answers, ratings, scores)."""

from __future__ import annotations

from typing import Annotated, Any, NotRequired

from typing_extensions import TypedDict


class Question(TypedDict):
    """One planned interview question for one scale item."""

    item_id: str
    dimension: str
    statement: str
    key: str
    question: str


class Answer(TypedDict):
    """The RPA's answer to one item, or the recorded failure."""

    item_id: str
    dimension: str
    question: str
    answer: str | None
    error: str | None
    error_kind: str | None
    seconds: float


def merge_by_item(left: list[Answer] | None, right: list[Answer] | None) -> list[Answer]:
    """Reducer for fanned-in answers: one entry per item, the latest wins.

    Keying by item keeps a resumed run from duplicating answers that were already
    checkpointed.
    """
    merged: dict[str, Answer] = {a["item_id"]: a for a in (left or [])}
    for a in right or []:
        merged[a["item_id"]] = a
    return list(merged.values())


def merge_usage(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    """Reducer for token usage: ``{role: {model: {input_tokens, output_tokens, total_tokens}}}`` summed."""
    out: dict[str, Any] = {
        role: {m: dict(u) for m, u in models.items()} for role, models in (left or {}).items()
    }
    for role, models in (right or {}).items():
        for model, u in models.items():
            acc = out.setdefault(role, {}).setdefault(model, {})
            for k in ("input_tokens", "output_tokens", "total_tokens"):
                acc[k] = acc.get(k, 0) + int(u.get(k, 0) or 0)
    return out


class InterviewState(TypedDict):
    """State of the interview graph."""

    character: str
    scale: str
    questions: NotRequired[list[Question]]
    answers: NotRequired[Annotated[list[Answer], merge_by_item]]
    transcript: NotRequired[list[Answer]]
    usage: NotRequired[Annotated[dict[str, Any], merge_usage]]


class AskState(TypedDict):
    """What one ``ask_item`` task sees: its own question only (isolation)."""

    character: str
    scale: str
    question: Question


class AssessmentResults(TypedDict):
    """What the assessment and score nodes write (shared by the assessment and pipeline states)."""

    item_values: NotRequired[dict[str, float | None]]
    dimension_ratings: NotRequired[list[dict[str, Any]]]
    assessor_outputs: NotRequired[list[dict[str, Any]]]
    failures: NotRequired[list[dict[str, Any]]]
    flags: NotRequired[list[dict[str, Any]]]
    scores: NotRequired[dict[str, Any]]
    usage: NotRequired[Annotated[dict[str, Any], merge_usage]]


class AssessmentState(AssessmentResults):
    """State of the assessment graph (input: character, scale, transcript)."""

    character: str
    scale: str
    transcript: list[Answer]


class PipelineState(InterviewState, AssessmentResults):
    """State of the full pipeline: interview, assessment, score, record."""

    result: NotRequired[dict[str, Any]]
