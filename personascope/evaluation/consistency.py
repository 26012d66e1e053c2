"""InCharacter's consistency of a measurement: Std_item, Std_dim, Std_score (Table 2).

Reference: Wang, X. et al. (2024). InCharacter, ACL 2024, section 5 and Table 2
("consistency"). The definitions follow the authors' code
(github.com/Neph0s/InCharacter, ``code/personality_tests.py``,
``personality_assessment``: ``item_consistency``, ``dim_consistency``,
``robustness``; averaged over the RPAs in ``code/run_experiments.py``):

* Std_item — for each item, the SD of its score across the repeats; mean over items;
  divided by the option span. Item-level methods only.
* Std_dim — in each repeat, the SD of the scores of a dimension's units (its items for
  OC / d-OC / SR, its batch ratings for ER_batch); mean over repeats, then over
  dimensions; divided by the span of those units.
* Std_score — for each dimension, the SD of the dimension score across the repeats;
  mean over dimensions; divided by the span of the dimension score. Every method,
  ER included (its dimension scores are the ratings).

Every SD is a population SD (``ddof = 0``, InCharacter's ``std``). Each is computed per
RPA (character) and then averaged over the RPAs of a configuration.

Deliberate differences: with a single repeat InCharacter's Std_item is 0 (the SD of one
value); here it is nan with a :class:`ReliabilityWarning` (nothing was repeated). A
dimension with a single unit in a repeat has no Std_dim in InCharacter (``None``); here
that (dimension, repeat) is left out of the mean.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from personascope.evaluation.reliability import ReliabilityWarning

GROUP_COLUMNS = ("scale", "method", "rpa_model", "assessor_model")


def _nan(reason: str) -> float:
    warnings.warn(reason, ReliabilityWarning, stacklevel=3)
    return float("nan")


def _check(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {missing}")


def _span(span: float) -> float:
    if not span > 0:
        raise ValueError(f"span: expected a positive span, got {span}")
    return float(span)


def std_item(item_scores: pd.DataFrame, *, span: float) -> float:
    """Std_item of one RPA: mean over items of the SD of the item's score across repeats.

    .. math:: \\mathrm{Std}_{item} = \\frac{1}{|I|} \\sum_{i \\in I} \\frac{\\sigma_r(x_{i,r})}{\\text{span}}

    ``item_scores`` has columns ``item``, ``repeat``, ``score`` (keyed item scores of one
    RPA; items of every dimension together, as InCharacter pools them). ``span`` is the
    option span, ``max − min`` of the response options.

    By hand: item a scores 1 and 3 (SD 1), item b 3 and 3 (SD 0): (1 + 0) / 2 / 4 = 0.125.

    >>> df = pd.DataFrame({"item": ["a", "b", "a", "b"], "repeat": [0, 0, 1, 1], "score": [1, 3, 3, 3]})
    >>> std_item(df, span=4)
    0.125
    """
    _check(item_scores, ("item", "repeat", "score"), "item_scores")
    s = _span(span)
    if item_scores["repeat"].nunique() < 2:
        return _nan("std_item: needs at least 2 repeats")
    sd = item_scores.dropna(subset=["score"]).groupby("item")["score"].std(ddof=0)
    return float(sd.mean() / s) if len(sd) else _nan("std_item: no item scores")


def std_dim(unit_scores: pd.DataFrame, *, span: float) -> float:
    """Std_dim of one RPA: mean over dimensions of the mean over repeats of the SD of the
    dimension's unit scores within the repeat.

    .. math:: \\mathrm{Std}_{dim} = \\frac{1}{|D|} \\sum_{d} \\frac{1}{R} \\sum_{r}
              \\frac{\\sigma_{u \\in d}(x_{u,r})}{\\text{span}}

    ``unit_scores`` has columns ``dimension``, ``repeat``, ``score``: the keyed item scores
    (item-level methods) or the batch ratings (ER_batch) of one RPA; ``span`` is the span
    of those scores (the option span for items; InCharacter's 16P divides its 0–100
    converted item scores by 100, which is the same number as raw 1–7 scores over 6).

    By hand: repeat 0 has items 1 and 3 (SD 1), repeat 1 has 3 and 3 (SD 0): 0.5 / 4.

    >>> df = pd.DataFrame({"dimension": "D", "repeat": [0, 0, 1, 1], "score": [1, 3, 3, 3]})
    >>> std_dim(df, span=4)
    0.125
    """
    _check(unit_scores, ("dimension", "repeat", "score"), "unit_scores")
    s = _span(span)
    g = unit_scores.dropna(subset=["score"]).groupby(["dimension", "repeat"])["score"]
    sd = g.std(ddof=0)[g.size() >= 2]
    if sd.empty:
        return _nan("std_dim: no dimension has 2 or more scored units in a repeat")
    return float(sd.groupby(level="dimension").mean().mean() / s)


def std_score(dimension_scores: pd.DataFrame, *, span: float) -> float:
    """Std_score of one RPA: mean over dimensions of the SD of the dimension score across
    repeats (InCharacter's ``robustness``; also for ER methods).

    .. math:: \\mathrm{Std}_{score} = \\frac{1}{|D|} \\sum_{d} \\frac{\\sigma_r(s_{d,r})}{\\text{span}}

    ``dimension_scores`` has columns ``dimension``, ``repeat``, ``score``; ``span`` is the
    span of the dimension score in its units (``max − min`` of the options for item-mean
    scores, 100 for 16Personalities).

    By hand: D scores 2 and 3 (SD 0.5), F 4 and 4 (SD 0): 0.25 / 4 = 0.0625.

    >>> df = pd.DataFrame({"dimension": ["D", "D", "F", "F"], "repeat": [0, 1, 0, 1],
    ...                    "score": [2.0, 3.0, 4.0, 4.0]})
    >>> std_score(df, span=4)
    0.0625
    """
    _check(dimension_scores, ("dimension", "repeat", "score"), "dimension_scores")
    s = _span(span)
    if dimension_scores["repeat"].nunique() < 2:
        return _nan("std_score: needs at least 2 repeats")
    sd = dimension_scores.dropna(subset=["score"]).groupby("dimension")["score"].std(ddof=0)
    return float(sd.mean() / s) if len(sd) else _nan("std_score: no dimension scores")


def _repeat_key(frame: pd.DataFrame, repeat: Sequence[str]) -> pd.Series:
    cols = [c for c in repeat if c in frame.columns]
    if not cols:
        raise ValueError(f"no repeat column: expected one of {list(repeat)}")
    # A tuple key keeps (0.5, 1) and (0.51, "") apart, which a joined string might not.
    return pd.Series(list(zip(*(frame[c] for c in cols), strict=True)), index=frame.index)


def consistency_table(
    *,
    item_scores: pd.DataFrame | None = None,
    dimension_scores: pd.DataFrame | None = None,
    item_span: Mapping[str, float],
    score_span: Mapping[str, float],
    groups: Sequence[str] = GROUP_COLUMNS,
    subject: Sequence[str] = ("character", "temperature"),
    repeat: Sequence[str] = ("trial",),
) -> pd.DataFrame:
    """Std_item, Std_dim and Std_score per configuration, averaged over its RPAs.

    A configuration is one value of the ``groups`` columns present (scale, method, RPA
    model, assessor model); an RPA ("subject") is one value of ``subject`` within it (by
    default character × temperature: a temperature is a condition, not a repeat); its
    repeats are the values of ``repeat``. As in InCharacter's ``run_experiments.py`` each
    measure is computed per RPA and averaged over the RPAs (nan RPAs left out).

    Parameters
    ----------
    item_scores : keyed item scores (item-level methods): the group, subject and repeat
        columns, ``dimension``, ``item``, ``score``. Gives Std_item and Std_dim.
    dimension_scores : dimension scores of every method (ER included): the group, subject
        and repeat columns, ``dimension``, ``score``. Gives Std_score.
    item_span, score_span : scale → span of an item score (``max − min`` of the options)
        and of a dimension score in its units (e.g. 4 for BFI item means, 100 for 16P).

    Returns
    -------
    DataFrame: the group columns, ``std_item``, ``std_dim``, ``std_score``, ``n_subjects``.
    """
    frames = [f for f in (item_scores, dimension_scores) if f is not None]
    if not frames:
        raise ValueError("consistency_table: pass item_scores, dimension_scores or both")
    g_cols = [c for c in groups if all(c in f.columns for f in frames)]
    if "scale" not in g_cols:
        raise ValueError("consistency_table: the 'scale' column is required")
    s_cols = [c for c in subject if all(c in f.columns for f in frames)]
    per_subject: dict[tuple[object, ...], dict[str, float]] = {}
    with warnings.catch_warnings():
        # One warning per undefined subject would drown the table; nan says it.
        warnings.simplefilter("ignore", ReliabilityWarning)
        if item_scores is not None:
            items = item_scores.assign(repeat=_repeat_key(item_scores, repeat))
            for key, g in items.groupby([*g_cols, *s_cols], sort=True, dropna=False):
                k = key if isinstance(key, tuple) else (key,)
                scale = str(k[g_cols.index("scale")])
                rec = per_subject.setdefault(k, {})
                rec["std_item"] = std_item(g, span=item_span[scale])
                rec["std_dim"] = std_dim(g, span=item_span[scale])
        if dimension_scores is not None:
            dims = dimension_scores.assign(repeat=_repeat_key(dimension_scores, repeat))
            for key, g in dims.groupby([*g_cols, *s_cols], sort=True, dropna=False):
                k = key if isinstance(key, tuple) else (key,)
                scale = str(k[g_cols.index("scale")])
                per_subject.setdefault(k, {})["std_score"] = std_score(g, span=score_span[scale])
    names = ["std_item", "std_dim", "std_score"]
    flat = pd.DataFrame(
        [(*k, *(v.get(n, np.nan) for n in names)) for k, v in per_subject.items()],
        columns=[*g_cols, *s_cols, *names],
    )
    if flat.empty:
        return pd.DataFrame(columns=[*g_cols, *names, "n_subjects"])
    out = flat.groupby(g_cols, sort=True, dropna=False)[names].mean().reset_index()
    out["n_subjects"] = flat.groupby(g_cols, sort=True, dropna=False).size().to_numpy()
    return out
