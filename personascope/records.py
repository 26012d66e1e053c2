"""The records a run is made of, typed once: questions, answers, failures, ratings,
and the versioned :class:`RunRecord` that the record node writes and the results
store, exports and reports read.

Pure (pydantic and typing only): ``graphs`` builds these, ``results`` and
``evaluation`` read them.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired

from pydantic import BaseModel, ConfigDict, Field, model_validator
from typing_extensions import TypedDict

#: Version of :class:`RunRecord`'s layout. 1: the untyped dict of personascope ≤ 0.1
#: (no ``schema_version`` key); 2: this model.
RECORD_SCHEMA_VERSION = 2

Status = Literal["complete", "complete_with_failures", "partial", "failed"]
Usage = dict[str, dict[str, dict[str, int]]]


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
    #: Time the RPA took to answer (or fail), from the moment the question was sent.
    seconds: float
    #: The RPA's own probabilities over the options (probability-scored self-report).
    distribution: NotRequired[ItemDistribution]
    #: Time the question waited for a free slot of the run's concurrency before it was sent
    #: (absent in records before it was measured).
    wait_seconds: NotRequired[float]
    #: The answer was longer than ``max_answer_chars`` and was cut (its text says so).
    truncated: NotRequired[bool]
    #: The memories the RPA retrieved for this question, when it reports them (the
    #: default character agent does; a custom RPA usually does not).
    memories: NotRequired[list[str]]


class Failure(TypedDict):
    """Why an item has no value: its answer failed, or its assessment did."""

    stage: Literal["answer", "assessment"]
    item_id: str
    dimension: str
    kind: str | None
    reason: str | None


class Flag(TypedDict):
    """Signals of a suspicious answer (e.g. a prompt-injection attempt)."""

    item_id: str
    signals: list[str]


class Turn(TypedDict):
    """One turn of a conversation interview: what the interviewer said and the RPA's reply.

    ``position`` counts the RPA's turns from 0 in conversation order (follow-ups and
    small talk included); ``round`` is the pass over the items (each item is asked once
    per round); ``kind`` says whether the turn asked an item, followed one up or was
    small talk between blocks.
    """

    position: int
    round: int
    kind: Literal["item", "follow_up", "small_talk"]
    item_id: str | None
    dimension: str | None
    question: str
    answer: str | None
    error: str | None
    error_kind: str | None
    seconds: float
    #: An item turn: the follow-up the interviewer asks next (``None``: none needed).
    follow_up: NotRequired[str | None]


class RoundScores(TypedDict):
    """One round of a conversation interview, assessed on its own: each dimension's score
    and the mean conversation position of the turns that asked its items."""

    round: int
    scores: dict[str, float | None]
    positions: dict[str, float]


class DimensionRating(TypedDict):
    """One expert-rating call: a dimension's score from a batch of answers."""

    dimension: str
    item_ids: list[str]
    score: float | None
    analysis: str | None
    error: str | None
    attempts: int
    #: The rating as a distribution over the options (``er_prob``): its expected value is
    #: ``score``, its variance and confidence go into the dimension's ``score_sd``.
    distribution: NotRequired[ItemDistribution]


class AssessorOutput(TypedDict, total=False):
    """What one assessor call sent and got back (or the self-report parse summary)."""

    kind: str
    ids: list[str]
    output: dict[str, Any] | None
    error: str | None
    attempts: int
    prompt_chars: int
    extra: dict[str, Any]
    parsed: list[str]
    fallback_to_oc: list[str]
    # expert-rating calls are recorded with their rating
    dimension: str
    item_ids: list[str]
    score: float | None
    analysis: str | None
    distribution: ItemDistribution


class RPAProvenance(BaseModel):
    """Which RPA answered: the spec as written, its name and parameters (values of
    credential-like parameters masked) and the installed package that provides it."""

    model_config = ConfigDict(extra="forbid")

    spec: str
    kind: Literal["model", "registry", "module", "langgraph", "object", "factory"]
    name: str
    params: dict[str, str] = Field(default_factory=dict)
    package: str | None = None
    version: str | None = None


class ItemDistribution(TypedDict):
    """How sure an item's value is: the assessor's probabilities over the options.

    ``source`` is ``logprobs`` (the endpoint's token log-probabilities, renormalised over
    the option tokens; ``coverage`` is their mass before renormalising) or ``sampled``
    (no probabilities: the sampled option has probability 1). ``confidence`` is
    ``1 − H(p) / log(k)``, one minus the normalised entropy over the ``k`` options.
    """

    values: list[float]
    probabilities: list[float]
    expected: float
    variance: float
    entropy: float
    confidence: float
    coverage: float
    source: Literal["logprobs", "sampled"]


class Provenance(BaseModel):
    """Where a run's numbers come from: package versions, parameters, prompt hashes."""

    model_config = ConfigDict(extra="allow")

    personascope_version: str
    python: str
    versions: dict[str, str] = Field(
        default_factory=dict, description="langgraph, langchain-core, chromadb, llama-cpp-python, ..."
    )
    git_commit: str | None = None
    prompt_hashes: dict[str, str] = Field(default_factory=dict)
    parameters: dict[str, Any] = Field(default_factory=dict, description="Every other Context field.")
    rpa: RPAProvenance | None = Field(default=None, description="The RPA (absent in older records).")


class RunRecord(BaseModel):
    """One run (character × scale × method × RPA model × assessor model × temperature ×
    trial) with full provenance, every answer and assessor output, every failure and
    the scores."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = RECORD_SCHEMA_VERSION
    run_id: str
    character: str
    scale: str
    method: str
    rpa_model: str
    assessor_model: str
    interviewer_model: str
    temperature: float
    trial: int
    status: Status
    finished_at: str
    provenance: Provenance
    timings: dict[str, float] = Field(default_factory=dict)
    usage: Usage = Field(default_factory=dict)
    questions: list[Question] = Field(default_factory=list)
    transcript: list[Answer] = Field(default_factory=list)
    item_values: dict[str, float | None] = Field(default_factory=dict)
    item_distributions: dict[str, ItemDistribution] = Field(default_factory=dict)
    dimension_ratings: list[DimensionRating] = Field(default_factory=list)
    assessor_outputs: list[AssessorOutput] = Field(default_factory=list)
    failures: list[Failure] = Field(default_factory=list)
    flags: list[Flag] = Field(default_factory=list)
    scores: dict[str, dict[str, Any]] = Field(default_factory=dict)
    #: A conversation interview (``interview: conversation``): every turn, and each round's
    #: scores by position (empty for an isolated interview and for older records).
    turns: list[Turn] = Field(default_factory=list)
    rounds: list[RoundScores] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _migrate(cls, data: Any) -> Any:
        # Version 1 records (plain dicts) lack the version and may lack the interviewer.
        if isinstance(data, dict) and "schema_version" not in data:
            data = {**data, "schema_version": RECORD_SCHEMA_VERSION}
            data.setdefault("interviewer_model", data.get("assessor_model", ""))
        return data

    def row(self) -> dict[str, Any]:
        """The indexed columns of the results table (:data:`RUN_COLUMNS`)."""
        return {c: getattr(self, c) for c in RUN_COLUMNS}


#: The columns a results table indexes, in order; the full record is stored beside them.
RUN_COLUMNS: tuple[str, ...] = (
    "run_id",
    "character",
    "scale",
    "method",
    "rpa_model",
    "assessor_model",
    "temperature",
    "trial",
    "status",
    "finished_at",
)

#: Columns of :func:`personascope.results.load`: a run's columns, then one dimension's.
SCORE_COLUMNS: tuple[str, ...] = (
    *RUN_COLUMNS[:8],
    "dimension",
    "score",
    "item_mean",
    "type",
    "n_items",
    "n_failed",
    "status",
    "score_sd",
    "confidence",
)

__all__ = [
    "RECORD_SCHEMA_VERSION",
    "RUN_COLUMNS",
    "SCORE_COLUMNS",
    "Answer",
    "AssessorOutput",
    "DimensionRating",
    "Failure",
    "Flag",
    "ItemDistribution",
    "Provenance",
    "Question",
    "RPAProvenance",
    "RoundScores",
    "RunRecord",
    "Status",
    "Turn",
    "Usage",
]
