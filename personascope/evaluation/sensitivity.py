"""Sensitivity and drift: how much a choice that should not matter moves the scores.

Three questions, each on the runs of an experiment with axes (:mod:`personascope.axes`):

- **Counterbalancing** (:func:`shift_table`): the score shift an item order, option order,
  question style or persona causes, as the mean paired difference from the default's
  run (same configuration, character, temperature, trial and other axes) with a
  Student-t interval.
- **Interviewer-prompt ablation** (:func:`variance_table`): per dimension, the variance
  due to the prompt (question style, or persona) next to the variance due to sampling
  (trials), from a one-way ANOVA within each character, and their intraclass
  correlation; :func:`sensitivity_by_scale` answers which scales are sensitive.
- **Drift within a conversation** (:func:`drift_table`, :func:`drift_by_round`): each
  dimension's score against its position in one long conversation (the slope of an
  ordinary least-squares fit per run, averaged over runs) and each round against the
  isolated-item baseline.

Every table keeps one row per configuration — (scale, method, RPA model, assessor
model) — and dimension; runs of different configurations are never pooled. Pure
(NumPy, SciPy, pandas).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from personascope.axes import AXES, AXIS_BY_ID, INTERVIEW, variant_label, variant_of
from personascope.evaluation.alignment import GROUP_COLUMNS
from personascope.records import RunRecord

CONFIG = list(GROUP_COLUMNS)
AXIS_IDS = [a.id for a in AXES]
#: What makes two runs repeats of one measurement besides the axes.
REPEAT = ["character", "temperature", "trial"]


def mean_ci(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float, float]:
    """Mean, standard deviation and Student-t confidence interval of ``values``.

    .. math:: \\bar d \\pm t_{(1+\\text{level})/2,\\,n-1}\\, s / \\sqrt n

    (Student, 1908). With fewer than two values the spread and interval are NaN.

    >>> m, s, lo, hi = mean_ci([1.0, 2.0, 3.0])
    >>> m, s, round(lo, 3), round(hi, 3)   # t(0.975, 2) = 4.303: 2 ± 4.303 · 1/√3
    (2.0, 1.0, -0.484, 4.484)
    >>> mean_ci([5.0])[0], math.isnan(mean_ci([5.0])[2])
    (5.0, True)
    """
    x = np.asarray([v for v in values if np.isfinite(v)], dtype=float)
    if len(x) == 0:
        return (math.nan,) * 4
    mean = float(x.mean())
    if len(x) < 2:
        return mean, math.nan, math.nan, math.nan
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf((1 + level) / 2, len(x) - 1)) * sd / math.sqrt(len(x))
    return mean, sd, mean - half, mean + half


def ols_slope(x: Sequence[float], y: Sequence[float]) -> float:
    """Ordinary least-squares slope of ``y`` on ``x``: Σ(x−x̄)(y−ȳ) / Σ(x−x̄)².

    NaN when ``x`` does not vary (fewer than two distinct positions).

    >>> ols_slope([0, 10, 20], [1, 2, 3])
    0.1
    >>> ols_slope([0, 10, 20], [3, 1, 2])
    -0.05
    """
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(xs) & np.isfinite(ys)
    xs, ys = xs[keep], ys[keep]
    sxx = float(((xs - xs.mean()) ** 2).sum()) if len(xs) else 0.0
    if len(xs) < 2 or sxx == 0:
        return math.nan
    return round(float(((xs - xs.mean()) * (ys - ys.mean())).sum()) / sxx, 12)


def variance_components(cells: Sequence[Sequence[Sequence[float]]]) -> dict[str, float]:
    """Variance due to the prompt and due to sampling, by a one-way ANOVA within blocks.

    ``cells[b][s]`` holds the repeated scores (trials) of block ``b`` (a character at a
    temperature) under prompt ``s``. The prompt's effect is taken within each block, so
    differences between characters are not counted as prompt variance:

    .. math::

        SS_P = \\sum_b \\sum_s n_{bs} (\\bar y_{bs} - \\bar y_b)^2,\\quad
        SS_E = \\sum_{b,s,t} (y_{bst} - \\bar y_{bs})^2,

        \\hat\\sigma^2_\\text{sampling} = MS_E,\\quad
        \\hat\\sigma^2_\\text{prompt} = \\max(0, (MS_P - MS_E) / \\bar n),\\quad
        \\text{ICC} = \\hat\\sigma^2_\\text{prompt}
        / (\\hat\\sigma^2_\\text{prompt} + \\hat\\sigma^2_\\text{sampling})

    with :math:`\\bar n` the mean number of repeats per cell, and the F test
    :math:`MS_P / MS_E` on :math:`(\\sum_b (S_b - 1), \\sum_{b,s} (n_{bs} - 1))` degrees of
    freedom (ANOVA estimators of variance components: Searle, Casella & McCulloch,
    *Variance Components*, 1992, ch. 3; the ICC is Shrout & Fleiss's ICC(1), 1979, of
    prompts within a block). With one repeat per cell the sampling variance cannot be
    estimated: it is NaN, and ``var_prompt`` is :math:`MS_P`, an upper bound that still
    holds the sampling noise.

    >>> v = variance_components([[[1, 3], [5, 7]]])  # MS_P = 16, MS_E = 2, n̄ = 2
    >>> v["var_prompt"], v["var_sampling"], round(v["icc"], 4), v["f"]
    (7.0, 2.0, 0.7778, 8.0)
    """
    ss_p = ss_e = 0.0
    df_p = df_e = 0
    n_obs = n_cells = 0
    for block in cells:
        groups = [np.asarray([v for v in g if np.isfinite(v)], dtype=float) for g in block]
        groups = [g for g in groups if len(g)]
        if len(groups) < 2:
            continue
        grand = float(np.concatenate(groups).mean())
        ss_p += sum(len(g) * (float(g.mean()) - grand) ** 2 for g in groups)
        ss_e += sum(float(((g - g.mean()) ** 2).sum()) for g in groups)
        df_p += len(groups) - 1
        df_e += sum(len(g) - 1 for g in groups)
        n_obs += sum(len(g) for g in groups)
        n_cells += len(groups)
    nan = math.nan
    if df_p == 0:
        return {"var_prompt": nan, "var_sampling": nan, "icc": nan, "f": nan, "p": nan, "df1": 0, "df2": df_e}
    ms_p = ss_p / df_p
    if df_e == 0:
        return {
            "var_prompt": ms_p,
            "var_sampling": nan,
            "icc": nan,
            "f": nan,
            "p": nan,
            "df1": df_p,
            "df2": 0,
        }
    ms_e = ss_e / df_e
    n_bar = n_obs / n_cells
    var_p = max(0.0, (ms_p - ms_e) / n_bar)
    total = var_p + ms_e
    icc = var_p / total if total > 0 else nan
    if ms_e > 0:
        f = ms_p / ms_e
        p = float(stats.f.sf(f, df_p, df_e))
    else:  # no sampling noise at all: any prompt difference is certain, none is nothing
        f, p = (math.inf, 0.0) if ms_p > 0 else (nan, nan)
    return {"var_prompt": var_p, "var_sampling": ms_e, "icc": icc, "f": f, "p": p, "df1": df_p, "df2": df_e}


# -- frames from run records -----------------------------------------------------------


def _axes_of(rec: RunRecord) -> dict[str, str]:
    params = rec.provenance.parameters
    return {a.id: str(params.get(a.id, a.default)) for a in AXES}


def axis_scores(records: Sequence[RunRecord]) -> pd.DataFrame:
    """One row per run and dimension: configuration, repeat keys, every axis's value
    (a record made before the axes holds the defaults), ``variant`` and ``score``."""
    rows = []
    for rec in records:
        axes = _axes_of(rec)
        base = {
            **{c: getattr(rec, c) for c in [*CONFIG, *REPEAT]},
            **axes,
            "variant": variant_label(variant_of(axes)),
        }
        for dim, s in rec.scores.items():
            rows.append({**base, "run_id": rec.run_id, "dimension": dim, "score": s.get("score")})
    frame = pd.DataFrame(
        rows, columns=["run_id", *CONFIG, *REPEAT, *AXIS_IDS, "variant", "dimension", "score"]
    )
    frame["score"] = pd.to_numeric(frame["score"], errors="coerce")
    return frame


def round_scores(records: Sequence[RunRecord]) -> pd.DataFrame:
    """One row per conversation run, round and dimension: its score and mean position."""
    rows = []
    for rec in records:
        if not rec.rounds:
            continue
        base = {**{c: getattr(rec, c) for c in [*CONFIG, *REPEAT]}, **_axes_of(rec), "run_id": rec.run_id}
        for r in rec.rounds:
            for dim, score in r["scores"].items():
                pos = r["positions"].get(dim, math.nan)
                rows.append({**base, "round": r["round"], "dimension": dim, "position": pos, "score": score})
    cols = ["run_id", *CONFIG, *REPEAT, *AXIS_IDS, "round", "dimension", "position", "score"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["score"] = pd.to_numeric(frame["score"], errors="coerce")
    return frame


# -- tables ----------------------------------------------------------------------------


def shift_table(scores: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """The score shift each non-default axis value causes, per configuration and dimension.

    A run with ``axis = value`` is paired with the run that differs from it in that axis
    only (its default value; same configuration, character, temperature, trial and
    other axes); ``shift`` is the mean of the paired differences ``value − default``
    with a Student-t interval (:func:`mean_ci`), ``n`` the number of pairs. Columns:
    configuration, ``dimension``, ``axis``, ``value``, ``n``, ``shift``, ``sd``,
    ``ci_low``, ``ci_high``, ``default_mean``.
    """
    cols = [*CONFIG, "dimension", "axis", "value", "n", "shift", "sd", "ci_low", "ci_high", "default_mean"]
    rows = []
    frame = scores.dropna(subset=["score"])
    for axis in AXES:
        others = [a for a in AXIS_IDS if a != axis.id]
        keys = [*CONFIG, *REPEAT, *others, "dimension"]
        base = frame[frame[axis.id] == axis.default].set_index(keys)["score"]
        base = base[~base.index.duplicated()]
        for value in sorted(set(frame[axis.id]) - {axis.default}):
            moved = frame[frame[axis.id] == value].set_index(keys)["score"]
            moved = moved[~moved.index.duplicated()]
            both = moved.index.intersection(base.index)
            if both.empty:
                continue
            diffs = (moved.loc[both] - base.loc[both]).reset_index()
            bases = base.loc[both].reset_index()
            for key, g in diffs.groupby([*CONFIG, "dimension"], sort=True):
                mask = np.logical_and.reduce(
                    [bases[c] == v for c, v in zip([*CONFIG, "dimension"], key, strict=True)]
                )
                mean, sd, lo, hi = mean_ci(g["score"].tolist(), level)
                rows.append(
                    [*key, axis.id, value, len(g), mean, sd, lo, hi, float(bases.loc[mask, "score"].mean())]
                )
    return pd.DataFrame(rows, columns=cols)


def variance_table(scores: pd.DataFrame, axis: str = "question_style", alpha: float = 0.05) -> pd.DataFrame:
    """Variance due to ``axis`` (default: the question style) next to variance due to
    sampling, per configuration and dimension (:func:`variance_components`).

    Blocks are (character, temperature); a block's cells are its axis values, each
    holding the trials; runs whose other axes are not at their defaults are left out, so
    only ``axis`` varies. ``sensitive``: the F test rejects "no prompt effect" at
    ``alpha``. Columns: configuration, ``dimension``, ``axis``, ``values``,
    ``characters``, ``trials``, ``var_prompt``, ``var_sampling``, ``icc``, ``f``, ``p``,
    ``sensitive``.
    """
    cols = [*CONFIG, "dimension", "axis", "values", "characters", "trials", "var_prompt", "var_sampling"]
    cols += ["icc", "f", "p", "sensitive"]
    frame = scores.dropna(subset=["score"])
    for other in AXIS_IDS:
        if other != axis:
            frame = frame[frame[other] == AXIS_BY_ID[other].default]
    rows = []
    for key, g in frame.groupby([*CONFIG, "dimension"], sort=True):
        if g[axis].nunique() < 2:
            continue
        cells = [
            [list(c["score"]) for _, c in block.groupby(axis, sort=True)]
            for _, block in g.groupby(["character", "temperature"], sort=True)
        ]
        v = variance_components(cells)
        sensitive = bool(np.isfinite(v["p"]) and v["p"] < alpha)
        trials = int(g.groupby(["character", "temperature", axis]).size().max())
        rows.append(
            [
                *key,
                axis,
                g[axis].nunique(),
                g["character"].nunique(),
                trials,
                v["var_prompt"],
                v["var_sampling"],
                v["icc"],
                v["f"],
                v["p"],
                sensitive,
            ]
        )
    return pd.DataFrame(rows, columns=cols)


def sensitivity_by_scale(variance: pd.DataFrame) -> pd.DataFrame:
    """Which scales are sensitive to the prompt: per configuration, the mean ICC and the
    number of dimensions whose F test found a prompt effect."""
    cols = [*CONFIG, "axis", "dimensions", "sensitive_dimensions", "mean_icc", "mean_var_prompt"]
    if variance.empty:
        return pd.DataFrame(columns=cols)
    out = (
        variance.groupby([*CONFIG, "axis"], sort=True)
        .agg(
            dimensions=("dimension", "count"),
            sensitive_dimensions=("sensitive", "sum"),
            mean_icc=("icc", "mean"),
            mean_var_prompt=("var_prompt", "mean"),
        )
        .reset_index()
    )
    return out[cols]


def _baseline(scores: pd.DataFrame) -> pd.Series:
    # The isolated interview of the same run otherwise (the conversation's baseline).
    iso = scores[scores[INTERVIEW.id] == INTERVIEW.default].dropna(subset=["score"])
    others = [a for a in AXIS_IDS if a != INTERVIEW.id]
    found = iso.set_index([*CONFIG, *REPEAT, *others, "dimension"])["score"]
    return found[~found.index.duplicated()]


def drift_by_round(rounds: pd.DataFrame, scores: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Each dimension's score per round of a conversation against the isolated baseline.

    Per configuration, dimension and round: the mean position, the mean score over
    runs, the mean isolated-interview score of the same runs (``baseline``; NaN
    without isolated runs) and the mean paired difference ``round − baseline`` with a
    Student-t interval."""
    cols = [
        *CONFIG,
        "dimension",
        "round",
        "position",
        "runs",
        "score",
        "baseline",
        "diff",
        "ci_low",
        "ci_high",
    ]
    if rounds.empty:
        return pd.DataFrame(columns=cols)
    base = _baseline(scores)
    others = [a for a in AXIS_IDS if a != INTERVIEW.id]
    keys = [*CONFIG, *REPEAT, *others, "dimension"]
    r = rounds.dropna(subset=["score"]).copy()
    idx = pd.MultiIndex.from_frame(r[keys])
    r["baseline"] = base.reindex(idx).to_numpy()
    rows = []
    for key, g in r.groupby([*CONFIG, "dimension", "round"], sort=True):
        diffs = (g["score"] - g["baseline"]).dropna().tolist()
        mean, _, lo, hi = mean_ci(diffs, level)
        rows.append([*key, float(g["position"].mean()), len(g), float(g["score"].mean()),
                     float(g["baseline"].mean()), mean, lo, hi])  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def drift_table(rounds: pd.DataFrame, scores: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Drift of each dimension over a conversation, per configuration: the slope of
    score on conversation position (:func:`ols_slope` per run over its rounds, then
    :func:`mean_ci` over runs; score units per turn), the first and last rounds' mean
    scores and their paired differences from the isolated baseline."""
    cols = [
        *CONFIG,
        "dimension",
        "runs",
        "slope",
        "slope_ci_low",
        "slope_ci_high",
        "first_round",
        "last_round",
    ]
    cols += ["baseline", "first_minus_baseline", "last_minus_baseline"]
    if rounds.empty:
        return pd.DataFrame(columns=cols)
    by_round = drift_by_round(rounds, scores, level)
    rows = []
    for key, g in rounds.dropna(subset=["score"]).groupby([*CONFIG, "dimension"], sort=True):
        slopes = [
            ols_slope(run["position"].tolist(), run["score"].tolist()) for _, run in g.groupby("run_id")
        ]
        mean, _, lo, hi = mean_ci(slopes, level)
        mask = np.logical_and.reduce(
            [by_round[c] == v for c, v in zip([*CONFIG, "dimension"], key, strict=True)]
        )
        br = by_round[mask].sort_values("round")
        first, last = br.iloc[0], br.iloc[-1]
        rows.append([*key, g["run_id"].nunique(), mean, lo, hi, first["score"], last["score"],
                     first["baseline"], first["diff"], last["diff"]])  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def sensitivity_tables(records: Sequence[RunRecord]) -> dict[str, pd.DataFrame]:
    """Every sensitivity table an experiment's records support, by name (empty ones left out)."""
    scores = axis_scores(records)
    rounds = round_scores(records)
    tables = {"axis shifts": shift_table(scores)}
    for axis, name in (("question_style", "prompt variance"), ("experimenter_persona", "persona variance")):
        tables[name] = variance_table(scores, axis)
    tables["prompt sensitivity by scale"] = sensitivity_by_scale(
        pd.concat([t for t in (tables["prompt variance"], tables["persona variance"]) if not t.empty])
        if not (tables["prompt variance"].empty and tables["persona variance"].empty)
        else pd.DataFrame()
    )
    tables["drift"] = drift_table(rounds, scores)
    tables["drift by round"] = drift_by_round(rounds, scores)
    return {name: t for name, t in tables.items() if not t.empty}


__all__ = [
    "axis_scores",
    "drift_by_round",
    "drift_table",
    "mean_ci",
    "ols_slope",
    "round_scores",
    "sensitivity_by_scale",
    "sensitivity_tables",
    "shift_table",
    "variance_components",
    "variance_table",
]
