"""InCharacter's measures: alignment with human labels, label frames, assessor agreement.

Reference: Wang, X. et al. (2024). InCharacter: Evaluating Personality Fidelity in
Role-Playing Agents through Psychological Interviews. ACL 2024, section 4 (measured
alignment, Table 3) and Table 1 (assessor agreement). Where the paper is silent the
authors' code decides (github.com/Neph0s/InCharacter, ``code/personality_tests.py``,
``calculate_measured_alignment``; ``code/run_experiments.py``); the functions here
reproduce that code's numbers, which ``tests/test_metrics_exact.py`` checks on the
authors' own label file.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypedDict

import numpy as np
import pandas as pd
from scipy import stats

from personascope.evaluation.consistency import std_dim, std_item, std_score
from personascope.evaluation.reliability import ReliabilityWarning

LABEL_COLUMNS = ("character", "dimension", "score", "type")
#: The columns that make one row of a results table: a row never merges two values of them.
GROUP_COLUMNS = ("scale", "method", "rpa_model", "assessor_model")
#: The columns that tell one repeat (run) of a configuration from another.
REPEAT_COLUMNS = ("temperature", "trial")
#: Scales for which InCharacter has PDb labels and lets the PDb type decide which
#: dimensions are skipped, whichever label source is compared (``run_experiments.py``).
PDB_SCALES = frozenset({"BFI", "16Personalities"})

LabelSource = Literal["annotation", "pdb"]


def predicted_type(score: float, midpoint: float) -> str:
    """InCharacter's predicted type: ``H`` if ``score > midpoint`` else ``L``.

    (InCharacter's code sends a tie to ``L``; labels of type ``X`` are skipped
    instead of predicted.)

    >>> predicted_type(3.2, 3), predicted_type(3.0, 3)
    ('H', 'L')
    """
    return "H" if score > midpoint else "L"


def incharacter_labels(
    labels_json: Mapping[str, Any],
    scale: str,
    source: LabelSource = "annotation",
    *,
    skip_by: LabelSource | None = None,
) -> pd.DataFrame:
    """The label frame of one scale from InCharacter's ``characters_labels.json``.

    ``labels_json`` is the parsed file: ``{annotation|pdb: {character: {scale:
    {dimension: {"score", "type"}}}}}``. Returns one row per (character, dimension)
    with columns ``scale``, ``character``, ``dimension``, ``score``, ``type`` (H/L/X)
    and ``skip``, the pairs InCharacter leaves out of every metric:

    * for BFI and 16Personalities (:data:`PDB_SCALES`) a dimension is skipped when its
      **PDb** type is ``X``, for both label sources (``run_experiments.py`` passes the
      PDb labels as ``labels_pdb`` to ``calculate_measured_alignment``);
    * for the other scales, which have annotation labels only, when its annotation
      type is ``X``.

    So with ``source="annotation"`` on BFI a dimension whose annotation is ``X`` but
    whose PDb type is not is kept, and counts as a miss (no prediction equals ``X``)
    and in MAE/MSE, exactly as in InCharacter's code.

    ``skip_by`` overrides which source's ``X`` decides (``None``: the rule above). With
    ``skip_by=source`` a pair is skipped when its own label is ``X``, which is what
    ``calculate_measured_alignment`` does when handed the compared labels as
    ``labels_pdb`` (as ``run_experiments.py`` does for the other 12 scales). On the 32
    characters, PDb scores against annotation labels give BFI MAE 0.204 / 16P 0.170
    under the PDb rule and 0.179 / 0.159 with ``skip_by="annotation"``.

    >>> data = {"annotation": {"a": {"BFI": {"E": {"score": 3.0, "type": "X"},
    ...                                      "N": {"score": 2.0, "type": "L"}}}},
    ...         "pdb": {"a": {"BFI": {"E": {"score": 4.1, "type": "H"},
    ...                               "N": {"score": 3.0, "type": "X"}}}}}
    >>> incharacter_labels(data, "BFI", "annotation")[["dimension", "type", "skip"]].values.tolist()
    [['E', 'X', False], ['N', 'L', True]]
    """
    if source not in ("annotation", "pdb"):
        raise ValueError(f"source: expected 'annotation' or 'pdb', got {source!r}")
    if source not in labels_json:
        raise ValueError(f"labels_json: no {source!r} labels (keys: {sorted(labels_json)})")
    if source == "pdb" and scale not in PDB_SCALES:
        raise ValueError(f"source: InCharacter has PDb labels only for {sorted(PDB_SCALES)}, not {scale!r}")
    if skip_by is None:
        skip_by = "pdb" if scale in PDB_SCALES else "annotation"
    elif skip_by not in ("annotation", "pdb"):
        raise ValueError(f"skip_by: expected 'annotation', 'pdb' or None, got {skip_by!r}")
    if skip_by not in labels_json:
        raise ValueError(f"labels_json: no {skip_by!r} labels to decide the skipped dimensions")
    decider: Mapping[str, Any] = labels_json[skip_by]
    rows = []
    for char, scales in labels_json[source].items():
        dims = (scales or {}).get(scale)
        if not dims:
            continue
        decide = ((decider.get(char) or {}).get(scale)) or {}
        for dim, lab in dims.items():
            kind = lab.get("type")
            if kind not in ("H", "L", "X"):
                raise ValueError(
                    f"labels_json.{source}.{char}.{scale}.{dim}.type: expected H, L or X, got {kind!r}"
                )
            if dim not in decide:
                raise ValueError(
                    f"labels_json: {char}.{scale}.{dim} has no label in the skip-deciding source"
                )
            score = lab.get("score")
            rows.append(
                {
                    "scale": scale,
                    "character": char,
                    "dimension": dim,
                    "score": float(score) if isinstance(score, int | float) else float("nan"),
                    "type": kind,
                    "skip": decide[dim].get("type") == "X",
                }
            )
    return pd.DataFrame(rows, columns=["scale", "character", "dimension", "score", "type", "skip"])


class Alignment(TypedDict):
    """What :func:`measured_alignment` returns."""

    acc_dim: float
    acc_full: float
    mae: float
    mse: float
    n_dim: int
    n_characters: int
    n_missing: int
    per_character: pd.DataFrame
    per_dimension: pd.DataFrame


def measured_alignment(
    predictions: pd.DataFrame, labels: pd.DataFrame, *, low: float, high: float
) -> Alignment:
    """Alignment of one repeat's predicted dimension scores with human labels (InCharacter §4).

    Parameters
    ----------
    predictions : DataFrame with columns ``character``, ``dimension``, ``score`` (one
        score per pair: a single repeat; see :func:`alignment_by_run` for several).
    labels : DataFrame with ``character``, ``dimension``, ``score``, ``type`` (H/L/X) and
        optionally ``skip`` (bool, as :func:`incharacter_labels` builds it); without
        ``skip`` a pair is skipped when its own type is ``X``.
    low, high : bounds of the score in the labels' units (1 and 5 for BFI, 0 and 100 for
        16P; summed scales must be converted first, see :mod:`personascope.evaluation.units`).

    Returns
    -------
    dict with, over the pairs that are not skipped (``S``) and ``mid = (low + high) / 2``,
    ``span = high − low``:

    * ``acc_dim`` — ``|{(c, d) ∈ S : t̂ = t}| / |S|`` with ``t̂ = H if pred > mid else L``;
    * ``acc_full`` — over characters with at least one pair in ``S`` (a character whose
      dimensions are all skipped is left out, InCharacter's ``if not full_X``), the
      fraction all of whose pairs in ``S`` are right;
    * ``mae`` = ``mean_S |pred − label| / span``, ``mse`` = ``mean_S ((pred − label) / span)²``;
    * ``n_dim`` (= ``|S|``), ``n_characters`` (characters counted by ``acc_full``),
      ``n_missing`` and ``per_character`` / ``per_dimension`` tables.

    Every mean is pooled over all pairs of ``S`` (micro average), as InCharacter's
    ``'all'`` entries are. Pairs without a prediction are dropped with a warning; a
    prediction that is nan counts as wrong for accuracy and is left out of MAE/MSE
    (``n_missing`` says how many) — InCharacter would have put the scale midpoint there.

    By hand: ``a``'s N is skipped (X); ``a``'s E (3.5 > 3: H) is right, ``b``'s E is not.
    acc_dim = 1/2, acc_full = 1/2, MAE = (|3.5 − 4| + |3.5 − 2|) / 4 / 2 = 0.25.

    >>> labels = pd.DataFrame({"character": ["a", "a", "b"], "dimension": ["E", "N", "E"],
    ...                        "score": [4.0, 3.0, 2.0], "type": ["H", "X", "L"]})
    >>> pred = pd.DataFrame({"character": ["a", "a", "b"], "dimension": ["E", "N", "E"],
    ...                      "score": [3.5, 1.0, 3.5]})
    >>> out = measured_alignment(pred, labels, low=1, high=5)
    >>> out["acc_dim"], out["acc_full"], out["mae"]
    (0.5, 0.5, 0.25)
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
    keys = ["character", "dimension"]
    if predictions.duplicated(keys).any():
        dup = predictions.loc[predictions.duplicated(keys, keep=False), keys].drop_duplicates()
        raise ValueError(
            "predictions: several scores for one (character, dimension), e.g. "
            f"{dup.head(3).values.tolist()}; pass one repeat at a time (alignment_by_run)"
        )
    lab = labels[[*LABEL_COLUMNS]].copy()
    own_x = labels["type"] == "X"
    # A row without a skip decision (e.g. concatenated with label frames lacking one)
    # falls back to its own type; bool(nan) would have skipped it silently.
    lab["skip"] = (
        labels["skip"].where(labels["skip"].notna(), own_x).astype(bool) if "skip" in labels else own_x
    )
    df = lab.merge(predictions[[*keys, "score"]], on=keys, suffixes=("_label", "_pred"))
    if len(df) < len(lab):
        # Skipped pairs need no prediction; only a missing scored pair changes a number.
        merged = lab.merge(predictions[keys], how="left", indicator=True, on=keys)
        lost = merged[(merged["_merge"] == "left_only") & ~merged["skip"]]
        if len(lost):
            warnings.warn(
                f"measured_alignment: {len(lost)} label(s) have no prediction (unknown character or "
                f"dimension) and were left out: {lost[keys].head(5).values.tolist()}",
                ReliabilityWarning,
                stacklevel=2,
            )
    pred = df["score_pred"].astype(float)
    df["pred_type"] = [predicted_type(s, mid) if np.isfinite(s) else "?" for s in pred]
    df["correct"] = df["pred_type"] == df["type"]
    err = (pred - df["score_label"].astype(float)) / span
    df["abs_err"], df["sq_err"] = err.abs(), err**2
    scored = df[~df["skip"]]

    per_char = pd.DataFrame(
        [
            {
                "character": char,
                "n_dim": len(g),
                "correct": int(g["correct"].sum()),
                "full_correct": bool(g["correct"].all()),
                "mae": float(g["abs_err"].mean()),
            }
            for char, g in scored.groupby("character", sort=True)
        ],
        columns=["character", "n_dim", "correct", "full_correct", "mae"],
    ).set_index("character")
    per_dim = pd.DataFrame(
        [
            {
                "dimension": dim,
                "n_dim": len(g),
                "acc": float(g["correct"].mean()),
                "mae": float(g["abs_err"].mean()),
                "mse": float(g["sq_err"].mean()),
            }
            for dim, g in scored.groupby("dimension", sort=False)
        ],
        columns=["dimension", "n_dim", "acc", "mae", "mse"],
    ).set_index("dimension")
    nan = float("nan")
    return {
        "acc_dim": float(scored["correct"].mean()) if len(scored) else nan,
        "acc_full": float(per_char["full_correct"].mean()) if len(per_char) else nan,
        "mae": float(scored["abs_err"].mean()) if len(scored) else nan,
        "mse": float(scored["sq_err"].mean()) if len(scored) else nan,
        "n_dim": len(scored),
        "n_characters": len(per_char),
        "n_missing": int(scored["score_pred"].isna().sum()),
        "per_character": per_char,
        "per_dimension": per_dim,
    }


MetricName = Literal["acc_dim", "acc_full", "mae", "mse"]
METRICS: tuple[MetricName, ...] = ("acc_dim", "acc_full", "mae", "mse")


def alignment_by_run(
    predictions: pd.DataFrame,
    labels: pd.DataFrame,
    bounds: Mapping[str, tuple[float, float]],
    *,
    groups: Sequence[str] = GROUP_COLUMNS,
    repeat: Sequence[str] = REPEAT_COLUMNS,
) -> pd.DataFrame:
    """Measured alignment per repeat, then averaged: one row per configuration.

    InCharacter (``calculate_measured_alignment``) computes every metric on each
    repeat's predictions separately and averages the metrics over the repeats; it never
    averages the predictions first. Here a configuration is one value of the ``groups``
    columns present in ``predictions`` (by default scale, method, RPA model, assessor
    model: two assessor or RPA models are never merged into one row) and a repeat is
    one value of the ``repeat`` columns present (by default temperature × trial):

    .. math:: M_g = \\frac{1}{R_g} \\sum_{r=1}^{R_g} M(\\hat y_{g,r}, y)

    for ``M`` each of acc_dim, acc_full, MAE, MSE of :func:`measured_alignment`.

    Parameters
    ----------
    predictions : long frame with the ``groups`` and ``repeat`` columns and ``character``,
        ``dimension``, ``score`` (in the labels' units). ``scale`` is required.
    labels : ``scale``, ``character``, ``dimension``, ``score``, ``type`` [, ``skip``], e.g.
        :func:`incharacter_labels` of each scale, concatenated. Only the characters of a
        configuration are compared with it.
    bounds : scale → ``(low, high)`` in the labels' units.

    Returns
    -------
    DataFrame: the group columns, ``acc_dim``, ``acc_full``, ``mae``, ``mse`` (means over
    repeats), ``n_repeats``, ``n_characters`` and ``n_dim`` (means over repeats).
    Configurations whose scale has no labels are left out.

    By hand: repeat 0 predicts 3.5 (H: right; error 0.5 / 4 = 0.125), repeat 1 predicts
    3.0 (L: wrong; error 0.25): acc_dim = (1 + 0) / 2 = 0.5, MAE = 0.1875. Averaging the
    predictions first (3.25: H) would have given acc_dim = 1.

    >>> labels = pd.DataFrame({"scale": "BFI", "character": ["a"], "dimension": ["E"],
    ...                        "score": [4.0], "type": ["H"]})
    >>> pred = pd.DataFrame({"scale": "BFI", "method": "oc", "trial": [0, 1], "character": "a",
    ...                      "dimension": "E", "score": [3.5, 3.0]})
    >>> out = alignment_by_run(pred, labels, {"BFI": (1, 5)})
    >>> out[["method", "acc_dim", "mae", "n_repeats"]].values.tolist()
    [['oc', 0.5, 0.1875, 2]]
    """
    if "scale" not in predictions.columns:
        raise ValueError("predictions: the 'scale' column is required")
    g_cols = [c for c in groups if c in predictions.columns]
    if "scale" not in g_cols:
        g_cols.insert(0, "scale")
    r_cols = [c for c in repeat if c in predictions.columns]
    keys = [*g_cols, *r_cols, "character", "dimension"]
    dup = predictions.duplicated(keys, keep=False)
    if dup.any():
        raise ValueError(
            f"predictions: several scores for one {tuple(keys)}; add the column that tells them apart "
            f"to groups or repeat, e.g. {predictions.loc[dup, keys].head(2).values.tolist()}"
        )
    rows = []
    for key, g in predictions.groupby(g_cols, sort=True, dropna=False):
        values = dict(zip(g_cols, key if isinstance(key, tuple) else (key,), strict=True))
        scale = str(values["scale"])
        lab = labels[(labels["scale"] == scale) & labels["character"].isin(g["character"].unique())]
        if lab.empty:
            continue
        if scale not in bounds:
            raise ValueError(f"bounds: no (low, high) for scale {scale!r}")
        low, high = bounds[scale]
        runs = [gr for _, gr in g.groupby(r_cols, sort=True, dropna=False)] if r_cols else [g]
        outs = [measured_alignment(gr, lab, low=low, high=high) for gr in runs]
        row: dict[str, object] = dict(values)
        for m in METRICS:
            # A repeat with nothing to score (nan) cannot pull the mean; all-nan stays nan.
            finite = [v for v in (float(o[m]) for o in outs) if np.isfinite(v)]
            row[m] = float(np.mean(finite)) if finite else float("nan")
        row["n_repeats"] = len(outs)
        row["n_characters"] = float(np.mean([o["n_characters"] for o in outs]))
        row["n_dim"] = float(np.mean([o["n_dim"] for o in outs]))
        rows.append(row)
    return pd.DataFrame(rows, columns=[*g_cols, *METRICS, "n_repeats", "n_characters", "n_dim"])


def assessor_agreement(pred: pd.Series | np.ndarray, human: pd.Series | np.ndarray) -> dict[str, float]:
    """Agreement of assessor ratings with human ratings (InCharacter Table 1).

    ``accuracy`` is the fraction of pairs whose ratings differ by less than one option,
    ``mean(|p − h| < 1)`` (the paper's criterion: with integer ratings, an exact match;
    with averaged ratings, within one point); plus Pearson r, Spearman rho and
    Kendall tau-b (scipy). Pairs with a missing value are dropped.

    By hand: differences 0, 1, 2, 0 and 0.5 → three below 1 out of five.

    >>> assessor_agreement([1, 2, 4, 5, 3.5], [1, 3, 2, 5, 3])["accuracy"]
    0.6
    """
    p = np.asarray(pred, dtype=float)
    h = np.asarray(human, dtype=float)
    ok = np.isfinite(p) & np.isfinite(h)
    p, h = p[ok], h[ok]
    correct = np.abs(p - h) < 1
    return {
        "accuracy": float(correct.mean()) if len(correct) else float("nan"),
        "pearson": float(stats.pearsonr(p, h).statistic) if len(p) > 2 else float("nan"),
        "spearman": float(stats.spearmanr(p, h).statistic) if len(p) > 2 else float("nan"),
        "kendall": float(stats.kendalltau(p, h).statistic) if len(p) > 2 else float("nan"),
        "n": float(len(p)),
    }


def personality_consistency(item_scores: pd.DataFrame, *, low: float, high: float) -> dict[str, float]:
    """Std_item, Std_dim and Std_score of one character, each divided by ``high − low``.

    Kept for callers of the earlier API; :mod:`personascope.evaluation.consistency`
    holds the definitions (and takes separate spans for item and dimension scores, and
    dimension-level scores for ER methods). ``item_scores`` has columns ``dimension``,
    ``item``, ``trial``, ``score`` (keyed item scores); the dimension score of a trial
    is the mean of its item scores.

    >>> df = pd.DataFrame({"dimension": ["D"] * 4, "item": ["a", "b", "a", "b"],
    ...                    "trial": [0, 0, 1, 1], "score": [1, 3, 3, 3]})
    >>> personality_consistency(df, low=1, high=5)["std_item"]
    0.125
    """
    span = high - low
    s = item_scores.rename(columns={"trial": "repeat"})
    dim_scores = s.groupby(["dimension", "repeat"])["score"].mean().reset_index()
    return {
        "std_item": std_item(s, span=span),
        "std_dim": std_dim(s, span=span),
        "std_score": std_score(dim_scores, span=span),
    }
