"""Pydantic models of a psychological scale: items, dimensions, options, norms.

A scale is data (ARCHITECTURE.md, rule 4). These models are the one definition of
what a valid scale is; every loader (our YAML, InCharacter JSON, PsychoBench JSON)
ends by building a :class:`Scale`, so every source gets the same validation.
"""

from __future__ import annotations

from collections import Counter
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class ScoringMode(StrEnum):
    """How item scores become a dimension score.

    ``AVG``: mean of the keyed item scores; ``SUM``: their sum; ``PERCENT``: the
    16Personalities convention used by InCharacter, ``(mean - min) / (max - min) * 100``,
    i.e. the percentage towards the dimension's first (high) pole.
    """

    AVG = "AVG"
    SUM = "SUM"
    PERCENT = "PERCENT"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ResponseOption(_Strict):
    """One answer option of the scale, e.g. ``{value: 1, label: Very Inaccurate}``."""

    value: int
    label: str = Field(min_length=1)


class Pole(_Strict):
    """Adjectives for the two ends of a dimension, used by dimension-specific OC."""

    low: str = Field(min_length=1)
    high: str = Field(min_length=1)


class ReferenceAlpha(_Strict):
    """Published internal consistency of a dimension in a human sample."""

    value: float = Field(ge=-1.0, le=1.0)
    n_items: int | None = Field(default=None, ge=1)
    source: str = Field(min_length=1)


class Dimension(_Strict):
    """A scored dimension (domain, factor) of the scale."""

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    description: str = ""
    poles: Pole | None = None
    facets: dict[str, str] = Field(
        default_factory=dict, description="Facet id → facet name, e.g. {N1: Anxiety}."
    )
    reference_alpha: ReferenceAlpha | None = None


class Item(_Strict):
    """One item: its wording, what it measures and how it is keyed.

    ``key`` is ``"+"`` (higher answer means more of the dimension) or ``"-"``
    (reverse keyed: scored as ``min + max - answer``).
    """

    id: str = Field(min_length=1)
    text: str = Field(min_length=1)
    dimension: str = Field(min_length=1)
    key: Literal["+", "-"]
    facet: str | None = None
    source_id: str | None = Field(default=None, description="Item code in the source, e.g. IPIP's H1157.")
    rewrite: dict[str, str] = Field(default_factory=dict)

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        # YAML turns an unquoted `id: 12` into an int; item ids are names, not numbers.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    def question(self, language: str = "en") -> str | None:
        """The open-ended interview rewrite in ``language``, if the scale has one."""
        return self.rewrite.get(language)


class Norm(_Strict):
    """Human reference distribution of one dimension's score.

    ``metric`` says in which unit ``mean``/``sd`` are given (item mean, sum or
    percent); :meth:`personascope.scales.scoring.norm_scores` converts when needed.
    """

    dimension: str = Field(min_length=1)
    population: str = Field(min_length=1)
    mean: float
    sd: float = Field(gt=0)
    n: int | None = Field(default=None, ge=1)
    metric: ScoringMode
    source: str = Field(min_length=1)


class Scale(_Strict):
    """A psychological scale (questionnaire) and its scoring scheme."""

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    name: str = Field(min_length=1)
    citation: str = ""
    license: str = ""
    language: str = "en"
    scoring: ScoringMode
    range: tuple[int, int]
    response_options: list[ResponseOption] = Field(min_length=2)
    dimensions: list[Dimension] = Field(min_length=1)
    items: list[Item] = Field(min_length=1)
    norms: list[Norm] = Field(default_factory=list)
    fillers: list[Item] = Field(
        default_factory=list,
        description="Unscored items kept for fidelity to the source (dimension is ignored).",
    )

    @model_validator(mode="after")
    def _check_consistency(self) -> Scale:
        low, high = self.range
        if low >= high:
            raise ValueError(f"range: expected [min, max] with min < max, got [{low}, {high}]")
        values = [o.value for o in self.response_options]
        for option in self.response_options:
            if not low <= option.value <= high:
                raise ValueError(
                    f"response_options: value {option.value} ({option.label!r}) is outside "
                    f"range [{low}, {high}]"
                )
        if values != sorted(values) or len(set(values)) != len(values):
            raise ValueError(f"response_options: expected strictly increasing values, got {values}")
        _no_duplicates("dimensions", [d.id for d in self.dimensions])
        _no_duplicates("items", [i.id for i in [*self.items, *self.fillers]])
        dims = {d.id for d in self.dimensions}
        facets = {d.id: d.facets for d in self.dimensions}
        for item in self.items:
            if item.dimension not in dims:
                raise ValueError(
                    f"items[{item.id}].dimension: {item.dimension!r} is not a dimension of "
                    f"this scale (expected one of {sorted(dims)})"
                )
            known = facets[item.dimension]
            if item.facet is not None and known and item.facet not in known:
                raise ValueError(
                    f"items[{item.id}].facet: {item.facet!r} is not a facet of dimension "
                    f"{item.dimension!r} (expected one of {sorted(known)})"
                )
        counts = Counter(i.dimension for i in self.items)
        empty = [d for d in sorted(dims) if counts[d] == 0]
        if empty:
            raise ValueError(f"dimensions: {empty} have no items (each dimension needs ≥ 1)")
        for norm in self.norms:
            if norm.dimension not in dims:
                raise ValueError(
                    f"norms[{norm.population}].dimension: {norm.dimension!r} is not a "
                    f"dimension of this scale (expected one of {sorted(dims)})"
                )
        return self

    # -- lookups -----------------------------------------------------------------

    @property
    def item_map(self) -> dict[str, Item]:
        return {i.id: i for i in self.items}

    @property
    def dimension_map(self) -> dict[str, Dimension]:
        return {d.id: d for d in self.dimensions}

    def items_of(self, dimension: str) -> list[Item]:
        return [i for i in self.items if i.dimension == dimension]

    def norms_of(self, dimension: str) -> list[Norm]:
        return [n for n in self.norms if n.dimension == dimension]

    @property
    def midpoint(self) -> float:
        """Midpoint of the response range, e.g. 3 on a 1-5 scale."""
        return (self.range[0] + self.range[1]) / 2

    def score_bounds(self, dimension: str) -> tuple[float, float]:
        """Lowest and highest possible dimension score under this scale's scoring."""
        low, high = self.range
        if self.scoring is ScoringMode.PERCENT:
            return 0.0, 100.0
        if self.scoring is ScoringMode.SUM:
            n = len(self.items_of(dimension))
            return float(low * n), float(high * n)
        return float(low), float(high)


def _no_duplicates(field: str, ids: list[str]) -> None:
    dupes = sorted(k for k, v in Counter(ids).items() if v > 1)
    if dupes:
        raise ValueError(f"{field}: duplicate id(s) {dupes}; each id must be unique")
