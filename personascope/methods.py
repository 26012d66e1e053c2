"""Assessment methods as data: what is asked, who assesses, and at which level.

A :class:`Method` says everything the graph, the scoring node, the report and the
CLI need to know about an assessment method, so adding one is one object in one
place: :func:`register_method`, or an entry point in the group
``personascope.methods`` whose value is a :class:`Method` (or a callable returning
one)::

    [project.entry-points."personascope.methods"]
    er_pairs = "my_package.methods:ER_PAIRS"

Pure (standard library only) so that ``graphs`` and ``evaluation`` can both read it.

The six built-in methods are InCharacter's (Wang et al., ACL 2024, §3.3-3.4):
self-report (SR), self-report with chain of thought (SR-CoT), option conversion
(OC), dimension-specific option conversion (d-OC), and expert rating of all
answers of a dimension at once (ER_all) or in batches (ER_batch).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import Literal

from personascope.errors import ConfigurationError, InputError

QuestionStyle = Literal["open", "self_report", "self_report_cot", "multiple_choice"]
AssessorKind = Literal["option_conversion", "item_judgement", "dimension_rating", "self_report_parse"]
Level = Literal["item", "dimension"]

ENTRY_POINT_GROUP = "personascope.methods"

#: The graph node that runs each assessor kind.
ASSESSOR_NODES: dict[AssessorKind, str] = {
    "option_conversion": "convert_options",
    "item_judgement": "convert_options",  # one answer per call: the same node, batches of one
    "dimension_rating": "rate_dimensions",
    "self_report_parse": "parse_self_report",
}


@dataclass(frozen=True, kw_only=True)
class Method:
    """One assessment method.

    Attributes
    ----------
    id : str
        Name used in specs, on the command line and in results (``[a-z0-9_]+``).
    description : str
        One line for help texts and Studio.
    questions : {"open", "self_report", "self_report_cot", "multiple_choice"}
        How an item is put to the RPA: the open-ended interview question, the
        statement with the scale's options (optionally asking for reasoning first), or
        RealBehavior's multiple choice (the statement, options lettered A, B, ... from
        the most to the least accurate, the answer a letter).
    assessor : {"option_conversion", "item_judgement", "dimension_rating", "self_report_parse"}
        Who turns answers into numbers: an LLM choosing an option per answer (in
        batches), an LLM judging one answer against its statement with a one-digit reply
        (scored from the option tokens' probabilities where the endpoint returns them),
        an LLM rating a dimension from several answers, or a parser of the RPA's own
        choice (falling back to option conversion when the answer names no option).
    level : {"item", "dimension"}
        Item-level methods give one value per item, scored by the scale's scheme;
        dimension-level methods give one rating per batch of answers.
    dimension_specific : bool
        Option conversion asks about one dimension's pole at a time (d-OC).
    batch_size : int, "all" or None
        Answers per assessor call; ``None`` takes the context's ``er_batch_size`` or
        ``oc_batch_size``; ``"all"`` puts every answer of a dimension in one call.
    anonymize : bool
        Replace the character's and experimenter's names before assessment. As in
        InCharacter's code (``*_anonymous`` evaluation modes): ER_batch, ER_all and d-OC
        anonymise; OC (and the OC fallback of SR) does not. The context's ``anonymize``
        overrides it.
    probabilities : bool
        Score an item as the probability-weighted mean over the option tokens, from the
        token log-probabilities the endpoint returns (the RPA's for self-report, the
        assessor's for item judgement and expert rating); the sampled option where there
        are none.
    """

    id: str
    description: str
    questions: QuestionStyle
    assessor: AssessorKind
    level: Level
    dimension_specific: bool = False
    batch_size: int | Literal["all"] | None = None
    anonymize: bool = True
    probabilities: bool = False

    def __post_init__(self) -> None:
        if not self.id or not all(c.isalnum() or c == "_" for c in self.id) or self.id != self.id.lower():
            raise ValueError(f"method id: expected lowercase letters, digits and _, got {self.id!r}")
        expected_level: Level = "dimension" if self.assessor == "dimension_rating" else "item"
        if self.level != expected_level:
            raise ValueError(
                f"method {self.id}: a {self.assessor} assessor works at the {expected_level} level"
            )
        if isinstance(self.batch_size, int) and self.batch_size < 1:
            raise ValueError(f"method {self.id}: batch_size must be >= 1")
        if (self.assessor == "self_report_parse") != (self.questions != "open"):
            raise ValueError(
                f"method {self.id}: self-report questions go with the self_report_parse assessor"
            )

    @property
    def item_level(self) -> bool:
        """True when the method yields one value per item."""
        return self.level == "item"

    @property
    def node(self) -> str:
        """Name of the assessment node that runs this method."""
        return ASSESSOR_NODES[self.assessor]

    @property
    def cot(self) -> bool:
        """The RPA is asked to reason before choosing (SR-CoT)."""
        return self.questions == "self_report_cot"


BUILTIN_METHODS: tuple[Method, ...] = (
    Method(
        id="sr",
        description="self-report: the RPA picks an option for each statement",
        questions="self_report",
        assessor="self_report_parse",
        level="item",
        anonymize=False,
    ),
    Method(
        id="sr_cot",
        description="self-report with reasoning before the choice",
        questions="self_report_cot",
        assessor="self_report_parse",
        level="item",
        anonymize=False,
    ),
    Method(
        id="sr_prob",
        description="self-report scored from the RPA's own probabilities over the option tokens "
        "(one-digit reply; the sampled digit where the endpoint gives no log-probabilities)",
        questions="self_report",
        assessor="self_report_parse",
        level="item",
        anonymize=False,
        probabilities=True,
    ),
    Method(
        id="mc",
        description="RealBehavior's multiple choice: the statement with lettered options A-E, the letter "
        "parsed (no role-play with rpa:plain)",
        questions="multiple_choice",
        assessor="self_report_parse",
        level="item",
        anonymize=False,
    ),
    Method(
        id="oc",
        description="option conversion: an assessor maps each open answer to an option",
        questions="open",
        assessor="option_conversion",
        level="item",
        anonymize=False,
    ),
    Method(
        id="d_oc",
        description="dimension-specific option conversion (the dimension's poles)",
        questions="open",
        assessor="option_conversion",
        level="item",
        dimension_specific=True,
    ),
    Method(
        id="oc_item",
        description="item judgement: one statement and one answer per call, a one-digit agreement rating, "
        "scored as the probability-weighted mean of the option tokens where the endpoint returns them",
        questions="open",
        assessor="item_judgement",
        level="item",
        batch_size=1,
        anonymize=False,
        probabilities=True,
    ),
    Method(
        id="er_all",
        description="expert rating of all answers of a dimension in one call",
        questions="open",
        assessor="dimension_rating",
        level="dimension",
        dimension_specific=True,
        batch_size="all",
    ),
    Method(
        id="er_batch",
        description="expert rating of a dimension's answers in batches (InCharacter's default)",
        questions="open",
        assessor="dimension_rating",
        level="dimension",
        dimension_specific=True,
    ),
    Method(
        id="er_prob",
        description="expert rating in batches, scored from probabilities: an analysis, then one digit "
        "whose option-token probabilities give the rating (the sampled digit without log-probabilities)",
        questions="open",
        assessor="dimension_rating",
        level="dimension",
        dimension_specific=True,
        probabilities=True,
    ),
)

_REGISTRY: dict[str, Method] = {m.id: m for m in BUILTIN_METHODS}

#: The method ``personascope run`` and ``validate`` use when none is named, chosen by the
#: validity study (README, "Validity"): on the embedded Qwen, item judgement recovered all 40
#: assigned levels of unambiguous personas, batched expert rating 23 of 40. Specs and the
#: Python API keep InCharacter's ``er_batch`` as their default, so existing experiments mean
#: what they meant.
DEFAULT_METHOD = "oc_item"


def register_method(method: Method, *, replace: bool = False) -> Method:
    """Add a method to the registry (refuses to shadow an existing id unless ``replace``)."""
    if not isinstance(method, Method):
        raise TypeError(f"register_method: expected a Method, got {type(method).__name__}")
    if method.id in _REGISTRY and not replace and _REGISTRY[method.id] != method:
        raise ValueError(f"method {method.id!r} is already registered")
    _REGISTRY[method.id] = method
    return method


@cache
def _load_entry_points() -> None:
    # Loaded once per process; a broken plug-in is a configuration problem, said in one line.
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
            method = obj() if callable(obj) and not isinstance(obj, Method) else obj
            if not isinstance(method, Method):
                raise TypeError(f"expected a Method, got {type(method).__name__}")
            register_method(method)
        except Exception as exc:
            raise ConfigurationError(
                f"entry point {ENTRY_POINT_GROUP}:{ep.name} ({ep.value}): {exc}"
            ) from None


def available_methods() -> dict[str, Method]:
    """Every registered method by id: the six built-ins, then registered and plug-in ones."""
    _load_entry_points()
    return dict(_REGISTRY)


def method_ids() -> tuple[str, ...]:
    """Ids of every available method, built-ins first."""
    return tuple(available_methods())


def get_method(method: str | Method, source: str = "method") -> Method:
    """The :class:`Method` named ``method`` (a :class:`Method` is returned as is).

    Raises :class:`~personascope.errors.InputError` naming the valid ids.
    """
    if isinstance(method, Method):
        return method
    found = available_methods().get(method)
    if found is None:
        raise InputError(source, "method", f"expected one of {', '.join(method_ids())}, got {method!r}")
    return found


__all__ = [
    "ASSESSOR_NODES",
    "BUILTIN_METHODS",
    "DEFAULT_METHOD",
    "AssessorKind",
    "Level",
    "Method",
    "QuestionStyle",
    "available_methods",
    "get_method",
    "method_ids",
    "register_method",
]
