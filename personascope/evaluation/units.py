"""Units of dimension scores: a scale's own units versus the units of the labels.

InCharacter's labels and its predicted dimension scores are **item means** for every
scale whatever its ``compute_mode`` (its ``assess`` averages the item scores of a
dimension; ``characters_labels.json`` holds e.g. 3.33 for GSE, whose sum runs 10–40),
and percentages towards the first pole for 16Personalities. personascope scores a SUM
scale (EIS, EPQ-R, GSE, LOT-R, the IPIP scales) as a sum, so before a score meets a
label it is divided by the number of items of *its* dimension: EPQ-R's dimensions have
23, 32, 24 and 21 items, and one set of bounds for all of them would put three
midpoints in the wrong place.

Reference: Wang, X. et al. (2024), InCharacter, ACL 2024, section 4; code
``code/personality_tests.py`` (``assess``: ``avg_score = avg(all_scores)``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from personascope.scales.schema import Scale, ScoringMode

DIMENSION_INFO_COLUMNS = ("scale", "dimension", "n_items", "low", "high", "mode")


def _mode(mode: ScoringMode | str) -> ScoringMode:
    return ScoringMode(str(mode).upper())


def _n_items(n_items: int) -> int:
    if int(n_items) < 1:
        raise ValueError(f"n_items: expected at least 1 item, got {n_items}")
    return int(n_items)


def to_label_units(
    score: float | ArrayLike, *, n_items: int, mode: ScoringMode | str
) -> float | NDArray[np.float64]:
    """A dimension score in the labels' units (item mean; 16P percent).

    .. math:: s_{label} = s / n_{items} \\text{ for SUM}, \\quad s \\text{ for AVG and PERCENT}

    ``n_items`` is the number of scored items of that dimension.

    By hand: GSE answered 3 on all 10 items sums to 30; its label unit is 30 / 10 = 3.

    >>> to_label_units(30.0, n_items=10, mode="SUM")
    3.0
    >>> to_label_units([12.0, 20.0], n_items=23, mode="SUM").round(4).tolist()
    [0.5217, 0.8696]
    """
    m = _mode(mode)
    n = _n_items(n_items)
    arr = np.asarray(score, dtype=float)
    out = arr / n if m is ScoringMode.SUM else arr
    return float(out) if out.ndim == 0 else out


def scale_units(
    score: float | ArrayLike, *, n_items: int, mode: ScoringMode | str
) -> float | NDArray[np.float64]:
    """The inverse of :func:`to_label_units`: a label (item mean) in the scale's units.

    >>> scale_units(3.33, n_items=10, mode="SUM")
    33.3
    """
    m = _mode(mode)
    n = _n_items(n_items)
    arr = np.asarray(score, dtype=float)
    out = arr * n if m is ScoringMode.SUM else arr
    return float(out) if out.ndim == 0 else out


def label_bounds(*, low: float, high: float, mode: ScoringMode | str) -> tuple[float, float]:
    """Bounds of a dimension score in the labels' units: the option range ``(low, high)``
    for AVG and SUM (an item mean), ``(0, 100)`` for PERCENT.

    >>> label_bounds(low=0, high=1, mode="SUM"), label_bounds(low=1, high=7, mode="PERCENT")
    ((0.0, 1.0), (0.0, 100.0))
    """
    if _mode(mode) is ScoringMode.PERCENT:
        return 0.0, 100.0
    if not low < high:
        raise ValueError(f"low/high: expected low < high, got {low}, {high}")
    return float(low), float(high)


def dimension_bounds(
    *, n_items: int, low: float, high: float, mode: ScoringMode | str
) -> tuple[float, float]:
    """Bounds of a dimension score in the scale's own units, per dimension.

    SUM: ``(n·low, n·high)``; AVG: ``(low, high)``; PERCENT: ``(0, 100)``.

    >>> dimension_bounds(n_items=32, low=0, high=1, mode="SUM")
    (0.0, 32.0)
    """
    lo, hi = label_bounds(low=low, high=high, mode=mode)
    if _mode(mode) is ScoringMode.SUM:
        n = _n_items(n_items)
        return lo * n, hi * n
    return lo, hi


def dimension_midpoint(
    *, n_items: int, low: float, high: float, mode: ScoringMode | str, units: str = "scale"
) -> float:
    """The H/L threshold of a dimension: the middle of its bounds.

    ``units="scale"``: in the scale's units (SUM: ``n·(low + high) / 2``, so EPQ-R's
    Psychoticism (32 items, 0–1) splits at 16 and its Lying scale (21 items) at 10.5);
    ``units="label"``: in the labels' units (``(low + high) / 2``; 50 for PERCENT).

    >>> dimension_midpoint(n_items=32, low=0, high=1, mode="SUM")
    16.0
    >>> dimension_midpoint(n_items=21, low=0, high=1, mode="SUM", units="label")
    0.5
    """
    if units == "scale":
        lo, hi = dimension_bounds(n_items=n_items, low=low, high=high, mode=mode)
    elif units == "label":
        lo, hi = label_bounds(low=low, high=high, mode=mode)
    else:
        raise ValueError(f"units: expected 'scale' or 'label', got {units!r}")
    return (lo + hi) / 2


def dimension_info(scales: Iterable[Scale] | Mapping[str, Scale]) -> pd.DataFrame:
    """One row per (scale, dimension): ``n_items`` (scored items of that dimension),
    the option range ``low``/``high`` and the scoring ``mode`` — what the conversions
    above need, read from the scale definitions.

    ``scales`` keyed by name (a mapping) are named as the keys say: results name a scale
    given as a file by its path, not by the id inside the file."""
    named = scales.items() if isinstance(scales, Mapping) else ((s.id, s) for s in scales)
    rows = [
        {
            "scale": name,
            "dimension": dim.id,
            "n_items": len(scale.items_of(dim.id)),
            "low": float(scale.range[0]),
            "high": float(scale.range[1]),
            "mode": str(scale.scoring.value),
        }
        for name, scale in named
        for dim in scale.dimensions
    ]
    return pd.DataFrame(rows, columns=list(DIMENSION_INFO_COLUMNS))


def scores_in_label_units(scores: pd.DataFrame, info: pd.DataFrame) -> pd.DataFrame:
    """``scores`` (columns ``scale``, ``dimension``, ``score``, any others) with ``score``
    converted to the labels' units per dimension, the original kept as ``score_scale``,
    and the label-unit bounds added as ``low``/``high``. ``info`` is
    :func:`dimension_info` (or the same columns by hand).

    >>> info = pd.DataFrame({"scale": "EPQ-R", "dimension": ["P", "L"], "n_items": [32, 21],
    ...                      "low": 0.0, "high": 1.0, "mode": "SUM"})
    >>> out = scores_in_label_units(pd.DataFrame({"scale": "EPQ-R", "dimension": ["P", "L"],
    ...                                           "score": [16.0, 7.0]}), info)
    >>> out["score"].round(4).tolist(), out["low"].tolist(), out["high"].tolist()
    ([0.5, 0.3333], [0.0, 0.0], [1.0, 1.0])
    """
    missing = [c for c in DIMENSION_INFO_COLUMNS if c not in info.columns]
    if missing:
        raise ValueError(f"info: missing column(s) {missing}")
    merged = scores.merge(
        info[list(DIMENSION_INFO_COLUMNS)], on=["scale", "dimension"], how="left", validate="many_to_one"
    )
    unknown = merged["n_items"].isna()
    if unknown.any():
        pairs = merged.loc[unknown, ["scale", "dimension"]].drop_duplicates().head(5).values.tolist()
        raise ValueError(f"info: no item count for (scale, dimension) {pairs}")
    converted, lows, highs = [], [], []
    for s, n, lo, hi, mode in zip(
        merged["score"].astype(float),
        merged["n_items"],
        merged["low"],
        merged["high"],
        merged["mode"],
        strict=True,
    ):
        converted.append(float(to_label_units(s, n_items=int(n), mode=mode)))
        b = label_bounds(low=float(lo), high=float(hi), mode=mode)
        lows.append(b[0])
        highs.append(b[1])
    out = scores.copy()
    out["score_scale"] = scores["score"]
    out["score"] = converted
    out["low"] = lows
    out["high"] = highs
    return out
