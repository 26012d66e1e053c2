"""How a run's experiment axes (:mod:`personascope.axes`) reach the graph's nodes.

One function per effect, each reading the run's :class:`Context`: the experimenter
persona the RPA and the assessor see, the order of the items (questions, the
transcript, the assessor's batches) and the order in which prompts list the response
options. With every axis at its default each is the identity, so a run without axes
is the run it always was.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from personascope.axes import NEUTRAL_EXPERIMENTER, arrange
from personascope.graphs.context import Context
from personascope.memories.characters import Character
from personascope.scales import Scale

T = TypeVar("T")


def persona(ctx: Context, character: Character) -> Character:
    """``character`` as this run presents it: asked by its own experimenter (default), or
    by "the interviewer" (the RPA's request, its messages and the assessor's prompts all
    name the persona, so an RPA of any kind sees it)."""
    if ctx.experimenter_persona == "interviewer":
        return character.model_copy(update={"experimenter": NEUTRAL_EXPERIMENTER})
    return character


def item_ids(ctx: Context, scale: Scale) -> list[str]:
    """The ids of the items this run asks (the first ``item_limit``), in its item order.

    The limit is applied first, so every order of a run holds the same items."""
    asked = [i.id for i in scale.items[: ctx.item_limit]]
    return arrange(asked, ctx.item_order, seed=ctx.order_seed, trial=ctx.trial, salt=f"items:{scale.id}")


def in_item_order(things: Sequence[T], ctx: Context, scale: Scale, key: Callable[[T], str]) -> list[T]:
    """``things`` (answers, entries) sorted by their item's place in this run's item order
    (idempotent: sorting twice changes nothing; items outside the order go last)."""
    rank = {item_id: i for i, item_id in enumerate(item_ids(ctx, scale))}
    return sorted(things, key=lambda t: rank.get(key(t), len(rank)))


def option_values(ctx: Context, scale: Scale) -> list[int]:
    """The response option values in the order this run's prompts list them."""
    values = [o.value for o in scale.response_options]
    return arrange(values, ctx.option_order, seed=ctx.order_seed, trial=ctx.trial, salt=f"options:{scale.id}")


def self_report_anchors(ctx: Context, scale: Scale) -> str:
    """The options as the self-report question lists them ("5 denotes 'Strongly agree', ...")."""
    label = {o.value: o.label for o in scale.response_options}
    return ", ".join(f"{v} denotes '{label[v]}'" for v in option_values(ctx, scale))


__all__ = ["in_item_order", "item_ids", "option_values", "persona", "self_report_anchors"]
