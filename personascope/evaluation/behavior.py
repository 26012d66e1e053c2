"""Behaviour test arithmetic (RealBehavior section 4.2): criterion scores and BC.

Pure: the classifiers that label behaviours live in
:mod:`personascope.agents.behavior`; this module only counts and correlates.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import pandas as pd

from personascope.evaluation.reliability import ReliabilityWarning
from personascope.evaluation.validity import behavioral_consistency


def criterion_scores(labels: pd.DataFrame) -> pd.DataFrame:
    """CrS (RealBehavior Eq. 6): per subject and dimension, the fraction of the subject's
    described behaviours that the dimension's classifier puts at the positive pole.

    ``labels`` has columns ``subject``, ``dimension``, ``occasion``, ``label`` (1 = the
    behaviour of someone high on the dimension, 0 = low).

    >>> df = pd.DataFrame({"subject": ["a"] * 4, "dimension": ["E"] * 4,
    ...                    "occasion": list("wxyz"), "label": [1, 1, 0, 1]})
    >>> criterion_scores(df)["crs"].tolist()
    [0.75]
    """
    out = labels.groupby(["subject", "dimension"])["label"].agg(["mean", "count"]).reset_index()
    return out.rename(columns={"mean": "crs", "count": "n_behaviours"})


def subject_keys(scores: pd.DataFrame) -> pd.Series:
    """The subject of each scale-score row as ``behavior test`` names it:
    ``character|rpa_model|temperature|trial``.

    >>> subject_keys(pd.DataFrame({"character": ["alice"], "rpa_model": ["local"],
    ...                            "temperature": [0.5], "trial": [1]})).tolist()
    ['alice|local|0.5|1']
    """
    temps = scores["temperature"].map(lambda t: f"{t:g}")
    return scores["character"] + "|" + scores["rpa_model"] + "|" + temps + "|" + scores["trial"].astype(str)


BC_GROUPS = ("scale", "method", "assessor_model")


def behavioral_consistency_table(
    scale_scores: pd.DataFrame, crs: pd.DataFrame, *, by: Sequence[str] = BC_GROUPS
) -> pd.DataFrame:
    """BC per (scale, method) and dimension: Pearson r across subjects between the scale
    score and the criterion score (RealBehavior Eq. 5).

    .. math:: \\mathrm{BC}_{m,d} = r_{s}\\big(x_{s,m,d},\\; \\mathrm{CrS}_{s,d}\\big)

    for each measurement ``m`` (a value of the ``by`` columns present: scale, method,
    assessor) and dimension ``d``. Scores of different scales or methods are never
    averaged together (a BFM-50 sum of 10–50 and a NEO sum of 24–120 are different
    numbers), so one gets BC_BFM and BC_NEO separately, as RealBehavior reports them.

    Parameters
    ----------
    scale_scores : columns ``subject``, ``dimension``, ``score`` and the ``by`` columns
        (e.g. ``scale``, ``method``). Should a measurement still hold several scores of
        one subject and dimension, they are averaged with a :class:`ReliabilityWarning`
        (without any ``by`` column that merges scales and methods: pass them).
    crs : the output of :func:`criterion_scores`.

    Returns
    -------
    DataFrame: the ``by`` columns present, ``dimension``, ``subjects``, ``BC``.

    By hand: BFM scores 40, 20, 30 rise with CrS .75, .25, .5 (r = 1); NEO scores 60,
    100, 80 fall with it (r = −1). Averaged into one score per subject they would give
    one number that describes neither.

    >>> scores = pd.DataFrame({"subject": list("abcabc"), "dimension": "E", "method": "sr",
    ...                        "scale": ["bfm"] * 3 + ["neo"] * 3,
    ...                        "score": [40.0, 20.0, 30.0, 60.0, 100.0, 80.0]})
    >>> crs = pd.DataFrame({"subject": list("abc"), "dimension": "E", "crs": [0.75, 0.25, 0.5]})
    >>> behavioral_consistency_table(scores, crs).round(6).values.tolist()
    [['bfm', 'sr', 'E', 3, 1.0], ['neo', 'sr', 'E', 3, -1.0]]
    """
    b_cols = [c for c in by if c in scale_scores.columns]
    keys = [*b_cols, "subject", "dimension"]
    dup = scale_scores.duplicated(keys, keep=False)
    if dup.any():
        warnings.warn(
            f"behavioral_consistency_table: {int(dup.sum())} rows share a {tuple(keys)} and were averaged"
            + ("" if b_cols else "; pass 'scale' and 'method' columns to keep scales and methods apart"),
            ReliabilityWarning,
            stacklevel=2,
        )
    groups = scale_scores.groupby(b_cols, sort=True, dropna=False) if b_cols else [((), scale_scores)]
    rows = []
    for bkey, g in groups:
        bvals = dict(zip(b_cols, bkey if isinstance(bkey, tuple) else (bkey,), strict=True))
        for dim, c in crs.groupby("dimension", sort=True):
            sub = g[g["dimension"] == dim]
            if sub.empty:
                continue
            s = sub.groupby("subject")["score"].mean()
            crit = c.set_index("subject")["crs"]
            rows.append(
                {
                    **bvals,
                    "dimension": dim,
                    "subjects": len(s.index.intersection(crit.index)),
                    "BC": behavioral_consistency(s, crit),
                }
            )
    return pd.DataFrame(rows, columns=[*b_cols, "dimension", "subjects", "BC"])
