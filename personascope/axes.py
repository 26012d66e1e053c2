"""Experiment axes: choices that should not change a measurement, varied to show whether they do.

An :class:`Axis` is one such choice — the order of the items an assessor sees in a
batch, the order in which a prompt lists the response options, the wording of the
interview question, the persona who asks, and whether items are asked in isolation
or inside one long conversation. Each axis is a :class:`~personascope.graphs.context.Context`
field (so a run reads it through ``Runtime`` and its record's provenance names it)
and a list in an experiment spec (so :func:`variants` spans it like methods or
temperatures). A run whose axes all hold their defaults is the run an experiment
without axes makes, under the same run id (:func:`variant_of` is empty), so old
experiments resume unchanged.

Pure (standard library only): the graphs, the runner, the results store and the
evaluation all read it.

Orders are seeded permutations (:func:`permutation`): the same seed, trial and salt
give the same order on every machine and Python version (``random.Random`` seeded by
a string hashes it with SHA-512, never with the per-process ``hash``).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from personascope.errors import InputError
from personascope.methods import Method

T = TypeVar("T")

#: Question styles built in (``question_style``); a user template adds its own name.
QUESTION_STYLES: tuple[str, ...] = ("incharacter", "statement", "neutral", "leading")


@dataclass(frozen=True, kw_only=True)
class Axis:
    """One axis of an experiment.

    Attributes
    ----------
    id : str
        The :class:`Context` field that holds a run's value.
    spec_field : str
        The experiment spec's list of values (a run per value).
    default : str
        The value of a run made without this axis (its run id is unchanged).
    values : tuple of str
        The values built in; ``open`` axes also take names the spec defines
        (``question_style``: a key of ``question_templates``).
    description : str
        One line for help texts and Studio.
    open : bool
        Whether values beyond ``values`` can be defined.
    """

    id: str
    spec_field: str
    default: str
    values: tuple[str, ...]
    description: str
    open: bool = False

    def applies(self, method: Method, interview: str = "isolated") -> bool:
        """Whether a value of this axis can change what ``method`` measures.

        Item order reaches a batched assessor (OC, d-OC, ER) and, in a conversation,
        the order items are asked in; option order reaches the self-report question
        and the option conversion and item judgement prompts; the question style and
        the experimenter reach every open interview (and a conversation).
        """
        if self.id == "item_order":
            batched = method.assessor in ("option_conversion", "dimension_rating")
            return batched or interview == "conversation"
        if self.id == "option_order":
            return method.questions != "open" or method.assessor in ("option_conversion", "item_judgement")
        if self.id == "question_style":
            return method.questions == "open"
        return True


ITEM_ORDER = Axis(
    id="item_order",
    spec_field="item_orders",
    default="original",
    values=("original", "shuffled", "reversed"),
    description="Order of the items in the assessor's batches (and in a conversation): the scale's, "
    "a seeded shuffle (order_seed, trial), or reversed.",
)
OPTION_ORDER = Axis(
    id="option_order",
    spec_field="option_orders",
    default="ascending",
    values=("ascending", "descending", "shuffled"),
    description="Order in which self-report and option-conversion prompts list the response options "
    "(values keep their meaning): as the scale lists them, reversed, or a seeded shuffle.",
)
QUESTION_STYLE = Axis(
    id="question_style",
    spec_field="question_styles",
    default="incharacter",
    values=QUESTION_STYLES,
    open=True,
    description="Wording of an open interview question: InCharacter's rewrite, the statement as is, a "
    "neutral or a leading paraphrase by the interviewer model, or a name in question_templates.",
)
EXPERIMENTER = Axis(
    id="experimenter_persona",
    spec_field="experimenter_personas",
    default="character",
    values=("character", "interviewer"),
    description="Who asks: the character's named experimenter (e.g. Dr. Watson), or 'the interviewer'.",
)
INTERVIEW = Axis(
    id="interview",
    spec_field="interviews",
    default="isolated",
    values=("isolated", "conversation"),
    description="isolated: one conversation per item (InCharacter); conversation: every item in one "
    "long multi-turn conversation, repeated in rounds, with an interviewer agent that may follow up.",
)

AXES: tuple[Axis, ...] = (ITEM_ORDER, OPTION_ORDER, QUESTION_STYLE, EXPERIMENTER, INTERVIEW)
AXIS_BY_ID: dict[str, Axis] = {a.id: a for a in AXES}

#: What "the interviewer" persona is called where the character's experimenter would be.
NEUTRAL_EXPERIMENTER = "the interviewer"


def check_value(axis: Axis, value: str, templates: Iterable[str] = ()) -> str:
    """``value`` when ``axis`` takes it (raises :class:`ValueError` naming the choices)."""
    allowed = (*axis.values, *templates) if axis.open else axis.values
    if value not in allowed:
        raise ValueError(f"{axis.id}: expected one of {', '.join(allowed)}, got {value!r}")
    return value


def check_axes(values: Any) -> None:
    """Raise :class:`~personascope.errors.InputError` naming the field when an axis
    field of ``values`` (a context) holds a value its axis does not take."""
    templates = getattr(values, "question_templates", None) or {}
    for axis in AXES:
        try:
            check_value(axis, str(getattr(values, axis.id, axis.default)), templates)
        except ValueError as exc:
            raise InputError("context", axis.id, str(exc).split(": ", 1)[1]) from None
    bad = [k for k in templates if k in QUESTION_STYLES or not k.replace("_", "").isalnum()]
    if bad:
        raise InputError("context", "question_templates", f"names must be new words (not {bad})")
    for name, template in templates.items():
        if "{statement}" not in template:
            raise InputError("context", f"question_templates.{name}", "a template must contain {statement}")


def variant_of(values: Mapping[str, Any]) -> dict[str, str]:
    """The axes of a run that differ from their defaults, in :data:`AXES` order.

    ``values`` is anything with the axis fields: a context's fields, a record's
    provenance parameters (a record from before the axes has none: the defaults).

    >>> variant_of({"item_order": "original", "option_order": "descending", "k": 4})
    {'option_order': 'descending'}
    >>> variant_of({})
    {}
    """
    return {a.id: str(values[a.id]) for a in AXES if a.id in values and str(values[a.id]) != a.default}


def variant_label(variant: Mapping[str, str]) -> str:
    """How a variant reads in run ids, labels and tables (``default`` for none).

    >>> variant_label({"item_order": "shuffled", "option_order": "descending"})
    'item_order=shuffled,option_order=descending'
    """
    return ",".join(f"{k}={v}" for k, v in variant.items()) or "default"


def variants(spans: Mapping[str, Sequence[str]], method: Method) -> list[dict[str, str]]:
    """Every combination of the axis values ``spans`` lists (axis id → values; an axis
    not listed keeps its default) that can change what ``method`` measures: a value of
    an axis that does not apply to the method (:meth:`Axis.applies`) would repeat the
    default run under another id, and is left out. Defaults first; no duplicates.

    >>> from personascope.methods import get_method
    >>> variants({"option_order": ["ascending", "descending"], "question_style": ["incharacter", "leading"]},
    ...          get_method("sr"))
    [{}, {'option_order': 'descending'}]
    """
    lists = [list(dict.fromkeys(spans.get(a.id) or [a.default])) for a in AXES]
    out: list[dict[str, str]] = []
    for combo in itertools.product(*lists):
        chosen = dict(zip((a.id for a in AXES), combo, strict=True))
        interview = chosen[INTERVIEW.id]
        if all(v == a.default or a.applies(method, interview) for a, v in zip(AXES, combo, strict=True)):
            found = variant_of(chosen)
            if found not in out:
                out.append(found)
    return out


def permutation(n: int, *, seed: int, trial: int, salt: str) -> list[int]:
    """A seeded permutation of ``range(n)``: the same for the same seed, trial and salt
    (e.g. the scale id), another for another trial, so trials counterbalance.

    >>> permutation(5, seed=0, trial=0, salt="x") == permutation(5, seed=0, trial=0, salt="x")
    True
    >>> sorted(permutation(5, seed=0, trial=1, salt="x"))
    [0, 1, 2, 3, 4]
    """
    order = list(range(n))
    random.Random(f"personascope:{salt}:{seed}:{trial}").shuffle(order)
    return order


def arrange(items: Sequence[T], how: str, *, seed: int, trial: int, salt: str) -> list[T]:
    """``items`` in the order ``how`` names: ``original``/``ascending`` (as given),
    ``reversed``/``descending``, or ``shuffled`` (:func:`permutation`).

    >>> arrange([1, 2, 3, 4, 5], "descending", seed=0, trial=0, salt="s")
    [5, 4, 3, 2, 1]
    >>> arrange("abc", "original", seed=0, trial=0, salt="s")
    ['a', 'b', 'c']
    """
    if how in ("original", "ascending"):
        return list(items)
    if how in ("reversed", "descending"):
        return list(reversed(items))
    if how == "shuffled":
        return [items[i] for i in permutation(len(items), seed=seed, trial=trial, salt=salt)]
    raise ValueError(f"unknown order {how!r}")


def recursion_limit(variant: Mapping[str, str], default: int = 200) -> int:
    """LangGraph's step limit for a run: a conversation takes one step per turn (each
    one checkpointed), bounded by its own schedule, so its limit only guards the loop."""
    return 100_000 if variant.get(INTERVIEW.id) == "conversation" else default


__all__ = [
    "AXES",
    "AXIS_BY_ID",
    "EXPERIMENTER",
    "INTERVIEW",
    "ITEM_ORDER",
    "NEUTRAL_EXPERIMENTER",
    "OPTION_ORDER",
    "QUESTION_STYLE",
    "QUESTION_STYLES",
    "Axis",
    "arrange",
    "check_axes",
    "check_value",
    "permutation",
    "recursion_limit",
    "variant_label",
    "variant_of",
    "variants",
]
