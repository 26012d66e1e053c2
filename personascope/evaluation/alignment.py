"""InCharacter's measures: alignment with human labels, consistency, assessor agreement.

Reference: Wang, X. et al. (2024). InCharacter: Evaluating Personality Fidelity in
Role-Playing Agents through Psychological Interviews. ACL 2024, section 4 and
Table 1; their code ``personality_tests.py`` (``accuracy``) fixes the details
followed here.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from personascope.evaluation.reliability import ReliabilityWarning

LABEL_COLUMNS = ("character", "dimension", "score", "type")


def predicted_type(score: float, midpoint: float) -> str:
    """InCharacter's predicted type: ``H`` if ``score > midpoint`` else ``L``.

    (InCharacter's code sends a tie to ``L``; labels of type ``X`` are skipped
    instead of predicted.)

    >>> predicted_type(3.2, 3), predicted_type(3.0, 3)
    ('H', 'L')
    """
    return "H" if score > midpoint else "L"


def measured_alignment(
    predictions: pd.DataFrame, labels: pd.DataFrame, *, low: float, high: float
) -> dict[str, object]:
    """Alignment of predicted dimension scores with human labels.

    Parameters
    ----------
    predictions : DataFrame with columns ``character``, ``dimension``, ``score``.
    labels : DataFrame with ``character``, ``dimension``, ``score``, ``type`` (H/L/X).
    low, high : bounds of the dimension score (e.g. 1 and 5 for BFI, 0 and 100 for 16P).

    Returns
    -------
    dict with

    * ``acc_dim`` — over all (character, dimension) pairs whose label is not ``X``,
      the fraction with ``predicted_type(pred, mid) == label type``, ``mid = (low + high)/2``;
    * ``acc_full`` — fraction of characters all of whose non-``X`` dimensions are right;
    * ``mae``, ``mse`` — mean absolute / squared error of ``(pred − label)/(high − low)``
      over every labelled pair (``X`` included: its score is still a label);
    * ``n_dim``, ``n_characters`` and ``per_character`` / ``per_dimension`` tables.

    Pairs missing from either side are dropped; a prediction that is nan counts as
    wrong for accuracy and is left out of MAE/MSE (``n_missing`` says how many).

    >>> labels = pd.DataFrame({"character": ["a", "a", "b"], "dimension": ["E", "N", "E"],
    ...                        "score": [4.0, 3.0, 2.0], "type": ["H", "X", "L"]})
    >>> pred = pd.DataFrame({"character": ["a", "a", "b"], "dimension": ["E", "N", "E"],
    ...                      "score": [3.5, 1.0, 3.5]})
    >>> out = measured_alignment(pred, labels, low=1, high=5)
    >>> out["acc_dim"], out["acc_full"], round(out["mae"], 4)
    (0.5, 0.5, 0.3333)
    """
    missing_cols = [c for c in LABEL_COLUMNS if c not in labels.columns]
    if missing_cols:
        raise ValueError(f"labels: missing column(s) {missing_cols}")
    bad = sorted(set(labels["type"]) - {"H", "L", "X"})
    if bad:
        raise ValueError(f"labels.type: expected H, L or X, got {bad}")
    span = high - low
    if span <= 0:
        raise ValueError(f"low/high: expected low < high, got {low}, {high}")
    mid = (low + high) / 2
    df = labels.merge(
        predictions[["character", "dimension", "score"]],
        on=["character", "dimension"],
        suffixes=("_label", "_pred"),
    )
    unmatched = len(labels) - len(df)
    if unmatched:
        missing = labels.merge(
            predictions[["character", "dimension"]], how="left", indicator=True, on=["character", "dimension"]
        )
        pairs = missing.loc[missing["_merge"] == "left_only", ["character", "dimension"]]
        warnings.warn(
            f"measured_alignment: {unmatched} label(s) have no prediction (unknown character or "
            f"dimension) and were left out: {pairs.head(5).values.tolist()}",
            ReliabilityWarning,
            stacklevel=2,
        )
    df["pred_type"] = [predicted_type(s, mid) if np.isfinite(s) else "?" for s in df["score_pred"]]
    df["scored"] = df["type"] != "X"
    df["correct"] = df["scored"] & (df["pred_type"] == df["type"])
    err = (df["score_pred"] - df["score_label"]) / span
    df["abs_err"], df["sq_err"] = err.abs(), err**2

    scored = df[df["scored"]]
    per_char = pd.DataFrame.from_dict(
        {
            char: {
                "n_dim": int(g["scored"].sum()),
                "correct": int(g["correct"].sum()),
                "full_correct": bool((g["correct"] | ~g["scored"]).all()),
                "mae": float(g["abs_err"].mean()),
            }
            for char, g in df.groupby("character")
        },
        orient="index",
    )
    per_dim = pd.DataFrame.from_dict(
        {
            dim: {
                "n_dim": int(g["scored"].sum()),
                "acc": float(g.loc[g["scored"], "correct"].mean()) if g["scored"].any() else float("nan"),
                "mae": float(g["abs_err"].mean()),
            }
            for dim, g in df.groupby("dimension")
        },
        orient="index",
    )
    return {
        "acc_dim": float(scored["correct"].mean()) if len(scored) else float("nan"),
        "acc_full": float(per_char["full_correct"].mean()) if len(per_char) else float("nan"),
        "mae": float(df["abs_err"].mean()),
        "mse": float(df["sq_err"].mean()),
        "n_dim": len(scored),
        "n_characters": len(per_char),
        "n_missing": int(df["score_pred"].isna().sum()),
        "per_character": per_char,
        "per_dimension": per_dim,
    }


def assessor_agreement(pred: pd.Series | np.ndarray, human: pd.Series | np.ndarray) -> dict[str, float]:
    """Agreement of assessor ratings with human ratings (InCharacter Table 1).

    ``accuracy`` gives 1 for an exact match and 0.5 when the two ratings differ by
    exactly one option (``|p − h| = 1``), else 0; plus Pearson r, Spearman rho and
    Kendall tau-b (scipy). Pairs with a missing value are dropped.

    >>> assessor_agreement([1, 2, 4, 5], [1, 3, 2, 5])["accuracy"]
    0.625
    """
    p = np.asarray(pred, dtype=float)
    h = np.asarray(human, dtype=float)
    ok = np.isfinite(p) & np.isfinite(h)
    p, h = p[ok], h[ok]
    diff = np.abs(p - h)
    credit = np.where(diff == 0, 1.0, np.where(np.isclose(diff, 1.0), 0.5, 0.0))
    return {
        "accuracy": float(credit.mean()) if len(credit) else float("nan"),
        "pearson": float(stats.pearsonr(p, h).statistic) if len(p) > 2 else float("nan"),
        "spearman": float(stats.spearmanr(p, h).statistic) if len(p) > 2 else float("nan"),
        "kendall": float(stats.kendalltau(p, h).statistic) if len(p) > 2 else float("nan"),
        "n": float(len(p)),
    }


def personality_consistency(item_scores: pd.DataFrame, *, low: float, high: float) -> dict[str, float]:
    """InCharacter's consistency measures, each divided by the span ``high − low``.

    ``item_scores`` has columns ``dimension``, ``item``, ``trial``, ``score``
    (keyed item scores of one character).

    * ``std_item``: mean over items of the SD of the item's score across trials;
    * ``std_dim``: mean over (dimension, trial) of the SD of item scores within the dimension;
    * ``std_score``: mean over dimensions of the SD across trials of the dimension score
      (mean of its item scores in that trial).

    SDs are population SDs (``ddof = 0``), as InCharacter's ``std`` helper computes.

    >>> df = pd.DataFrame({"dimension": ["D"] * 4, "item": ["a", "b", "a", "b"],
    ...                    "trial": [0, 0, 1, 1], "score": [1, 3, 3, 3]})
    >>> personality_consistency(df, low=1, high=5)["std_item"]
    0.125
    """
    span = high - low
    s = item_scores
    std_item = s.groupby(["dimension", "item"])["score"].std(ddof=0).mean()
    std_dim = s.groupby(["dimension", "trial"])["score"].std(ddof=0).mean()
    dim_scores = s.groupby(["dimension", "trial"])["score"].mean()
    std_score = dim_scores.groupby(level="dimension").std(ddof=0).mean()
    return {
        "std_item": float(std_item / span),
        "std_dim": float(std_dim / span),
        "std_score": float(std_score / span),
    }
