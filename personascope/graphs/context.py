"""Run-time choices of the graphs (how), read through LangGraph's ``Runtime``.

Everything here can be edited in LangGraph Studio's configuration panel; graph state
(what) stays ids, items, transcripts, ratings and scores.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from personascope.axes import EXPERIMENTER, INTERVIEW, ITEM_ORDER, OPTION_ORDER, QUESTION_STYLE, check_axes
from personascope.errors import from_validation_error
from personascope.methods import get_method, method_ids
from personascope.safeio import MAX_ANSWER_CHARS


@dataclass(kw_only=True)
class Context:
    """How an interview is run and assessed.

    Every field is checked when a context is made (in Studio: when a run starts), and a
    bad value is one line naming the field: sizes have bounds, ``method`` is one of the
    registered ids. The model fields default to scripted demo models (``fake:echo``
    answers, ``fake:neutral`` rates every dimension at the midpoint), so a graph opened
    in Studio runs at once without a server or a key; name real models to measure.
    """

    rpa_model: str = field(
        default="fake:echo",
        metadata={
            "description": "Default fake:echo, a scripted demo (no server, no key). The role-playing "
            "agent: a model spec (the built-in character agent on it), "
            "rpa:<name>?key=value, package.module:factory, or langgraph:<assistant>@http://host:port."
        },
    )
    interviewer_model: str = field(
        default="fake:echo",
        metadata={
            "description": "Model spec that rewrites items without an open-ended question (default "
            "fake:echo, a scripted demo; e.g. local for the embedded model, openai:gpt-4o-mini)."
        },
    )
    assessor_model: str = field(
        default="fake:neutral",
        metadata={
            "description": "Model spec of the assessor (default fake:neutral, a scripted demo that rates "
            "every dimension at the midpoint; e.g. local for the embedded model, openai:gpt-4o-mini)."
        },
    )
    method: str = field(
        default="er_batch",
        metadata={
            "description": "Assessment method id: sr, sr_cot, oc, d_oc, er_all, er_batch "
            "(InCharacter's six) or a registered one (personascope.methods).",
            "json_schema_extra": lambda schema: schema.update(enum=list(method_ids())),
        },
    )
    er_batch_size: int = field(
        default=4,
        metadata={"description": "Answers per ER_batch call (InCharacter: 3-4).", "ge": 2, "le": 50},
    )
    oc_batch_size: int = field(
        default=10, metadata={"description": "Answers per OC call.", "ge": 1, "le": 200}
    )
    temperature: float = field(
        default=0.0, metadata={"description": "Sampling temperature of the RPA.", "ge": 0.0, "le": 2.0}
    )
    assessor_temperature: float = field(
        default=0.0, metadata={"description": "Sampling temperature of the assessor.", "ge": 0.0, "le": 2.0}
    )
    trial: int = field(
        default=0, metadata={"description": "Trial index (separates cached samples).", "ge": 0}
    )
    seed: int = field(
        default=0,
        metadata={"description": "Sampling seed sent to models that accept one (RPA: seed + trial)."},
    )
    k: int = field(
        default=4, metadata={"description": "Memories retrieved per question (0: none).", "ge": 0, "le": 100}
    )
    max_chars: int = field(
        default=1500, metadata={"description": "Character budget of retrieved memories.", "ge": 1}
    )
    max_tokens: int = field(
        default=160, metadata={"description": "Maximum tokens of an RPA answer.", "ge": 1, "le": 32768}
    )
    assessor_max_tokens: int = field(
        default=400, metadata={"description": "Maximum tokens of an assessor reply.", "ge": 1, "le": 32768}
    )
    concurrency: int = field(
        default=4,
        metadata={
            "description": "Calls in flight within one run (the runner passes it as LangGraph's "
            "max_concurrency; the assessor's batches within a node use it too).",
            "ge": 1,
            "le": 1024,
        },
    )
    language: str = field(
        default="en",
        metadata={"description": "Language of the open-ended questions asked (a scale may carry several)."},
    )
    item_limit: int | None = field(
        default=None,
        metadata={
            "description": "Ask only the first N items of the scale (a quick look; none: every item).",
            "ge": 1,
        },
    )
    transcript_from: str | None = field(
        default=None,
        metadata={
            "description": "Run id whose transcript this run re-assesses (set by personascope reassess; "
            "recorded in the provenance)."
        },
    )
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
        metadata={
            "description": "Largest fraction of failed items per dimension that still gets a score.",
            "ge": 0.0,
            "le": 1.0,
        },
    )
    answer_timeout: float = field(
        default=300.0,
        metadata={"description": "Seconds an RPA may take for one answer (retries included).", "gt": 0},
    )
    max_answer_chars: int | None = field(
        default=MAX_ANSWER_CHARS,
        metadata={
            "description": "Longest RPA answer kept, in characters; a longer one is cut with a note and "
            "flagged truncated (none: no limit)."
        },
    )
    request_timeout: float = field(
        default=120.0, metadata={"description": "HTTP timeout per model call (s).", "gt": 0}
    )
    max_retries: int = field(
        default=4, metadata={"description": "Retries of a failed model call.", "ge": 0, "le": 20}
    )
    parse_retries: int = field(
        default=2,
        metadata={"description": "Times an unparsable assessor reply is asked again.", "ge": 0, "le": 10},
    )
    # Experiment axes (personascope.axes): choices varied to show whether they move the scores.
    item_order: str = field(
        default=ITEM_ORDER.default,
        metadata={
            "description": ITEM_ORDER.description,
            "json_schema_extra": {"enum": list(ITEM_ORDER.values)},
        },
    )
    option_order: str = field(
        default=OPTION_ORDER.default,
        metadata={
            "description": OPTION_ORDER.description,
            "json_schema_extra": {"enum": list(OPTION_ORDER.values)},
        },
    )
    order_seed: int = field(
        default=0, metadata={"description": "Seed of shuffled item and option orders (with the trial)."}
    )
    question_style: str = field(
        default=QUESTION_STYLE.default, metadata={"description": QUESTION_STYLE.description}
    )
    question_templates: dict[str, str] = field(
        default_factory=dict,
        metadata={
            "description": "User question styles: name -> template with {statement} (and optionally "
            "{experimenter}, {name}); select one with question_style."
        },
    )
    experimenter_persona: str = field(
        default=EXPERIMENTER.default,
        metadata={
            "description": EXPERIMENTER.description,
            "json_schema_extra": {"enum": list(EXPERIMENTER.values)},
        },
    )
    interview: str = field(
        default=INTERVIEW.default,
        metadata={
            "description": INTERVIEW.description,
            "json_schema_extra": {"enum": list(INTERVIEW.values)},
        },
    )
    conversation_rounds: int = field(
        default=3,
        metadata={"description": "Conversation: times every item is asked (re-tests).", "ge": 1, "le": 20},
    )
    small_talk_every: int = field(
        default=0,
        metadata={"description": "Conversation: a small-talk turn after every N items (0: none).", "ge": 0},
    )
    follow_ups: bool = field(
        default=True,
        metadata={"description": "Conversation: the interviewer may ask one follow-up to an evasive answer."},
    )
    experiment_dir: str | None = field(
        default=None, metadata={"description": "Folder for the LLM cache and memory store (none: in memory)."}
    )
    experiment: str = field(default="experiment", metadata={"description": "Experiment name (results key)."})
    database: str | None = field(
        default=None,
        metadata={"description": "postgresql:// URL or env:NAME for run records (default: experiment_dir)."},
    )

    def __post_init__(self) -> None:
        # Bounds and types from the fields' metadata (the same that Studio's form shows),
        # checked once per context; pydantic re-enters __post_init__ while it validates.
        if not getattr(_VALIDATING, "on", False):
            _VALIDATING.on = True
            try:
                _adapter().validate_python({f.name: getattr(self, f.name) for f in dataclasses.fields(self)})
            except ValidationError as exc:
                raise from_validation_error("context", exc) from None
            finally:
                _VALIDATING.on = False
        # An unknown method fails here, in one line, before any graph node runs.
        get_method(self.method, "context")
        check_axes(self)


_VALIDATING = threading.local()


@cache
def _adapter() -> TypeAdapter[Any]:
    return TypeAdapter(Context)
