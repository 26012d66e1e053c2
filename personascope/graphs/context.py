"""Run-time choices of the graphs (how), read through LangGraph's ``Runtime``.

Everything here can be edited in LangGraph Studio's configuration panel; graph state
(what) stays ids, items, transcripts, ratings and scores.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from personascope.methods import get_method
from personascope.safeio import MAX_ANSWER_CHARS


@dataclass(kw_only=True)
class Context:
    """How an interview is run and assessed."""

    rpa_model: str = field(
        default="local",
        metadata={
            "description": "The role-playing agent: a model spec (the built-in character agent on it), "
            "rpa:<name>?key=value, package.module:factory, or langgraph:<assistant>@http://host:port."
        },
    )
    interviewer_model: str = field(
        default="local",
        metadata={"description": "Model spec that rewrites items without an open-ended question."},
    )
    assessor_model: str = field(default="local", metadata={"description": "Model spec of the assessor."})
    method: str = field(
        default="er_batch",
        metadata={
            "description": "Assessment method id: sr, sr_cot, oc, d_oc, er_all, er_batch "
            "(InCharacter's six) or a registered one (personascope.methods)."
        },
    )
    er_batch_size: int = field(default=4, metadata={"description": "Answers per ER_batch call (3-4)."})
    oc_batch_size: int = field(default=10, metadata={"description": "Answers per OC call."})
    temperature: float = field(default=0.0, metadata={"description": "Sampling temperature of the RPA."})
    assessor_temperature: float = 0.0
    trial: int = field(default=0, metadata={"description": "Trial index (separates cached samples)."})
    seed: int = 0
    k: int = field(default=4, metadata={"description": "Memories retrieved per question."})
    max_chars: int = field(default=1500, metadata={"description": "Character budget of retrieved memories."})
    max_tokens: int = field(default=160, metadata={"description": "Maximum tokens of an RPA answer."})
    assessor_max_tokens: int = 400
    concurrency: int = field(default=4, metadata={"description": "Concurrent calls within one run."})
    language: str = "en"
    anonymize: bool | None = field(
        default=None,
        metadata={
            "description": "Hide names from the assessor: unset = the method's choice (InCharacter: ER and "
            "d-OC anonymise, OC and SR do not), true = always, false = never."
        },
    )
    score_flagged: bool = field(
        default=False,
        metadata={
            "description": "Also score answers flagged as attempts to steer the assessor (default: they are "
            "recorded as failures of kind 'injection' and left out)."
        },
    )
    max_missing: float = field(
        default=0.2,
        metadata={"description": "Largest fraction of failed items per dimension that still gets a score."},
    )
    answer_timeout: float = 300.0
    max_answer_chars: int | None = field(
        default=MAX_ANSWER_CHARS,
        metadata={
            "description": "Longest RPA answer kept, in characters; a longer one is cut with a note and "
            "flagged truncated (none: no limit)."
        },
    )
    request_timeout: float = field(
        default=120.0, metadata={"description": "HTTP timeout per model call (s)."}
    )
    max_retries: int = field(default=4, metadata={"description": "Retries of a failed model call."})
    parse_retries: int = 2
    experiment_dir: str | None = field(
        default=None, metadata={"description": "Folder for the LLM cache and memory store (none: in memory)."}
    )
    experiment: str = field(default="experiment", metadata={"description": "Experiment name (results key)."})
    database: str | None = field(
        default=None,
        metadata={"description": "postgresql:// URL or env:NAME for run records (default: experiment_dir)."},
    )

    def __post_init__(self) -> None:
        # An unknown method fails here, in one line, before any graph node runs.
        get_method(self.method, "context")
