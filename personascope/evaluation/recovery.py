"""Validity by persona recovery: designed personas with assigned levels, and how well a
measurement configuration recovers them.

A balanced two-level design assigns every persona a high or low level on every
dimension (columns of a Sylvester–Hadamard matrix: each dimension is high for half the
personas, and any two dimensions are orthogonal, so no dimension's recovery can ride
on another's); a graded design uses five levels in a cyclic Latin arrangement. Personas
are described in plain language with bipolar adjective markers and qualifiers, as in
Serapio-García et al. (2023, "Personality Traits in Large Language Models", §2.2: the
markers of Goldberg, 1992, with "extremely / very / a bit" qualifiers) and PersonaLLM
(Jiang et al., 2024).

Recovery (:func:`recovery_table`) is reported per configuration and dimension: Pearson
and Spearman correlation between assigned and measured levels, H/L accuracy (the
measured type equals the assigned pole), mean bias (measured score normalised to
[−1, 1] around the midpoint, minus the assigned level's, 0 on average in a balanced
design), and the shift between the highest and lowest assigned levels (Serapio-García et
al.'s Δ as a share of the response range), with percentile bootstrap confidence
intervals over personas.

Pure: numpy, scipy, pandas.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.linalg import hadamard
from scipy.stats import pearsonr, spearmanr

#: Bipolar adjective markers (low, high) of the Big Five (Goldberg, 1992, "The development
#: of markers for the Big-Five factor structure", Psychological Assessment 4(1):26-42).
BIG_FIVE_MARKERS: dict[str, list[tuple[str, str]]] = {
    "extraversion": [
        ("silent", "talkative"),
        ("unassertive", "assertive"),
        ("unenergetic", "energetic"),
        ("timid", "bold"),
        ("reserved", "outgoing"),
        ("withdrawn", "sociable"),
    ],
    "agreeableness": [
        ("cold", "warm"),
        ("unkind", "kind"),
        ("uncooperative", "cooperative"),
        ("selfish", "unselfish"),
        ("distrustful", "trustful"),
        ("harsh", "generous"),
    ],
    "conscientiousness": [
        ("disorganized", "organized"),
        ("irresponsible", "responsible"),
        ("negligent", "conscientious"),
        ("impractical", "practical"),
        ("careless", "thorough"),
        ("lazy", "hardworking"),
    ],
    "emotional_stability": [
        ("tense", "relaxed"),
        ("nervous", "at ease"),
        ("unstable", "stable"),
        ("discontented", "contented"),
        ("insecure", "secure"),
        ("emotional", "calm"),
    ],
    "intellect": [
        ("unintelligent", "intelligent"),
        ("unimaginative", "imaginative"),
        ("uncreative", "creative"),
        ("uninquisitive", "curious"),
        ("unreflective", "reflective"),
        ("unsophisticated", "sophisticated"),
    ],
}
# Other names of the same constructs in the built-in and imported scales.
_ALIASES = {
    "openness": "intellect",
    "neuroticism": "emotional_stability",  # markers reversed: see persona_description
}
_REVERSED = {"neuroticism"}

#: Qualifiers by graded level 1..5 (Serapio-García et al. use nine; five keep the design small).
QUALIFIERS = {1: "extremely", 2: "a bit", 3: "neither", 4: "a bit", 5: "extremely"}


def two_level_design(n_dimensions: int, n_personas: int = 8) -> np.ndarray:
    """A balanced, orthogonal ±1 design: personas × dimensions.

    Columns 2..k+1 of the Sylvester–Hadamard matrix of order ``n_personas`` (a power of
    two, at least ``n_dimensions + 1``): every column has as many +1 as −1, and every
    two columns are orthogonal. For five dimensions and eight personas this is the
    2^(5−2) fractional factorial of resolution III.

    >>> d = two_level_design(5)
    >>> d.shape, d.sum(axis=0).tolist(), int(abs(d.T @ d - 8 * np.eye(5)).max())
    ((8, 5), [0, 0, 0, 0, 0], 0)
    """
    if n_personas < n_dimensions + 1 or n_personas & (n_personas - 1):
        raise ValueError(
            f"n_personas: expected a power of two of at least {n_dimensions + 1}, got {n_personas}"
        )
    return np.asarray(hadamard(n_personas)[:, 1 : n_dimensions + 1], dtype=int)


def graded_design(n_dimensions: int, n_personas: int = 10, seed: int = 0, tries: int = 2000) -> np.ndarray:
    """Levels 1..5 per persona and dimension, each level equally often per dimension
    (``n_personas`` a multiple of 5), the columns as little correlated as a seeded search
    over ``tries`` random balanced designs finds (five levels on ten personas cannot be
    fully orthogonal; the largest |r| between two dimensions is kept small).

    >>> d = graded_design(5)
    >>> sorted(d[:, 0].tolist()) == sorted([1, 2, 3, 4, 5] * 2)
    True
    >>> bool(abs(np.corrcoef(d.T)[np.triu_indices(5, 1)]).max() < 0.5)
    True
    """
    if n_personas % 5:
        raise ValueError(f"n_personas: expected a multiple of 5, got {n_personas}")
    rng = np.random.default_rng(seed)
    column = np.repeat(np.arange(1, 6), n_personas // 5)
    best, best_r = None, np.inf
    for _ in range(tries):
        d = np.column_stack([rng.permutation(column) for _ in range(n_dimensions)])
        r = abs(np.corrcoef(d.T)[np.triu_indices(n_dimensions, 1)]).max() if n_dimensions > 1 else 0.0
        if r < best_r:
            best, best_r = d, r
    assert best is not None
    return best


def level_of(value: int, graded: bool) -> int:
    """A design entry as a level 1..5 (±1 → 5 / 1)."""
    return value if graded else (5 if value > 0 else 1)


def persona_description(levels: Mapping[str, int], names: Mapping[str, str] | None = None) -> str:
    """A plain-language persona: marker adjectives with qualifiers per dimension.

    ``levels``: dimension id → level 1..5 (1 extremely low, 3 neither, 5 extremely high).
    Dimensions without markers are described by their name (``names``).

    >>> persona_description({"extraversion": 1})[:51]
    'You are extremely silent, extremely unassertive, ex'
    >>> persona_description({"neuroticism": 5})[:44]
    'You are extremely tense, extremely nervous, '
    """
    phrases: list[str] = []
    for dim, level in levels.items():
        key = _ALIASES.get(dim, dim)
        markers = BIG_FIVE_MARKERS.get(key)
        if markers is None:
            label = (names or {}).get(dim, dim.replace("_", " "))
            if level == 3:
                phrases.append(f"average in {label}")
            else:
                phrases.append(f"{QUALIFIERS[level]} {'high' if level > 3 else 'low'} in {label}")
            continue
        reverse = dim in _REVERSED
        for low, high in markers:
            if reverse:
                low, high = high, low
            if level == 3:
                phrases.append(f"neither {low} nor {high}")
            else:
                phrases.append(f"{QUALIFIERS[level]} {high if level > 3 else low}")
    if not phrases:
        return "You are an ordinary person."
    body = ", ".join(phrases[:-1]) + (" and " if len(phrases) > 1 else "") + phrases[-1]
    return f"You are {body}."


def _bootstrap(
    values: Sequence[tuple[float, float]], stat: str, n_boot: int, seed: int, midpoint: float
) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    data = np.asarray(values, dtype=float)
    out: list[float] = []
    for _ in range(n_boot):
        sample = data[rng.integers(0, len(data), len(data))]
        v = _statistic(sample[:, 0], sample[:, 1], stat, midpoint)
        if math.isfinite(v):
            out.append(v)
    if len(out) < n_boot // 2:
        return float("nan"), float("nan")
    lo, hi = np.percentile(out, [2.5, 97.5])
    return float(lo), float(hi)


def _statistic(assigned: np.ndarray, measured: np.ndarray, stat: str, midpoint: float) -> float:
    if stat == "hl_accuracy":
        keep = assigned != 0
        if not keep.any():
            return float("nan")
        return float(np.mean(np.sign(measured[keep] - midpoint) == np.sign(assigned[keep])))
    if stat == "bias":
        return float(np.mean(measured) - np.mean(assigned))
    if stat == "delta":
        if np.ptp(assigned) == 0:
            return float("nan")
        high = np.median(measured[assigned == assigned.max()])
        low = np.median(measured[assigned == assigned.min()])
        return float((high - low) / 2)  # [-1, 1] spans 2: a share of the response range
    if np.ptp(assigned) == 0 or np.ptp(measured) == 0:
        return float("nan")
    if stat == "pearson":
        return float(pearsonr(assigned, measured).statistic)
    return float(spearmanr(assigned, measured).statistic)


def recovery_table(
    data: pd.DataFrame,
    *,
    groups: Sequence[str] = ("scale", "method", "rpa_model", "assessor_model"),
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Recovery of assigned levels per configuration and dimension.

    Parameters
    ----------
    data : one row per persona and dimension (trials averaged or not: every row is an
        observation) with the ``groups`` columns, ``persona``, ``dimension``,
        ``assigned`` (the design level on [−1, 1]: ±1 for two levels,
        ``(level − 3) / 2`` for graded ones) and ``measured`` (the score normalised to
        [−1, 1]: ``2 (x − low) / (high − low) − 1``; 0 is the scale's midpoint).

    Returns
    -------
    DataFrame: the group columns, ``dimension`` (and a row ``(all)`` pooling the
    dimensions), ``n`` (personas), ``pearson`` and ``spearman`` (r between assigned and
    measured), ``hl_accuracy`` (share of non-neutral assignments whose measured score lies
    on the assigned side of the midpoint; a score exactly on the midpoint is a miss),
    ``bias`` (mean measured − mean assigned), ``delta`` (median measured score of the
    personas at the highest assigned level minus that at the lowest, as a share of the
    response range: ``Δ / (high − low)`` in the scale's units, where Δ is the shift
    Serapio-García et al. (2025, Nature Machine Intelligence; arXiv 2307.00184,
    Supplementary Tables 14–21) report between level-9 and level-1 prompts: 1 is every
    high persona at the top and every low one at the bottom, 0 no shift), each with
    ``*_lo``/``*_hi``: the 95 % percentile bootstrap interval over personas (``n_boot``
    resamples).

    Examples
    --------
    Four personas high/low on E; the measurement gets three of four sides right, reads
    0.25 high on average, and r = 2 / √(4 · 1.625) = 0.784 (deviations of the measured
    scores from their mean: .75, .25, 0, −1):

    >>> df = pd.DataFrame({"scale": "s", "method": "m", "rpa_model": "r", "assessor_model": "a",
    ...     "persona": list("abcd"), "dimension": "E", "assigned": [1, 1, -1, -1],
    ...     "measured": [1.0, 0.5, 0.25, -0.75]})
    >>> row = recovery_table(df, n_boot=200).iloc[0]
    >>> float(row["hl_accuracy"]), float(row["bias"]), round(float(row["pearson"]), 3)
    (0.75, 0.25, 0.784)

    The medians of the high and low personas are 0.75 and −0.25: a shift of 1 on [−1, 1],
    half the response range (2 points of a 1–5 scale's 4):

    >>> float(row["delta"])
    0.5
    """
    rows = []
    present = [g for g in groups if g in data.columns]
    for key, g in data.groupby(present, sort=False) if present else [((), data)]:
        config = dict(zip(present, key if isinstance(key, tuple) else (key,), strict=True))
        parts = [(str(d), gd) for d, gd in g.groupby("dimension", sort=False)]
        parts.append(("(all)", g))
        for dim, gd in parts:
            assigned = gd["assigned"].to_numpy(dtype=float)
            measured = gd["measured"].to_numpy(dtype=float)
            ok = np.isfinite(measured)
            assigned, measured = assigned[ok], measured[ok]
            row: dict[str, object] = {**config, "dimension": dim, "n": int(gd["persona"].nunique())}
            pairs = list(zip(assigned, measured, strict=True))
            for stat in ("pearson", "spearman", "hl_accuracy", "bias", "delta"):
                row[stat] = _statistic(assigned, measured, stat, 0.0) if len(pairs) else float("nan")
                lo, hi = _bootstrap(pairs, stat, n_boot, seed, 0.0) if len(pairs) >= 3 else (np.nan, np.nan)
                row[f"{stat}_lo"], row[f"{stat}_hi"] = lo, hi
            rows.append(row)
    return pd.DataFrame(rows)


def known_groups_table(scores: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Known-groups validity on labelled characters: per configuration and dimension, the
    mean normalised score of the characters labelled H minus that of those labelled L,
    Cohen's d (pooled SD) and the H/L accuracy.

    ``scores``: ``character``, ``scale``, ``dimension``, ``measured`` (normalised to
    [−1, 1]) and configuration columns; ``labels``: ``character``, ``scale``,
    ``dimension``, ``type``.

    >>> s = pd.DataFrame({"scale": "s", "method": "m", "character": list("abcd"),
    ...     "dimension": "E", "measured": [0.5, 0.7, -0.2, 0.1]})
    >>> lab = pd.DataFrame({"scale": "s", "character": list("abcd"), "dimension": "E",
    ...     "type": ["H", "H", "L", "L"]})
    >>> t = known_groups_table(s, lab).iloc[0]
    >>> round(float(t["difference"]), 2), float(t["hl_accuracy"])
    (0.65, 0.75)
    """
    merged = scores.merge(
        labels[["character", "scale", "dimension", "type"]], on=["character", "scale", "dimension"]
    )
    merged = merged[merged["type"].isin(["H", "L"])]
    groups = [c for c in ("scale", "method", "rpa_model", "assessor_model") if c in merged.columns]
    rows = []
    for key, g in merged.groupby([*groups, "dimension"], sort=False):
        high = g.loc[g["type"] == "H", "measured"].astype(float)
        low = g.loc[g["type"] == "L", "measured"].astype(float)
        pooled = (
            math.sqrt((high.var(ddof=1) + low.var(ddof=1)) / 2)
            if len(high) > 1 and len(low) > 1
            else math.nan
        )
        diff = float(high.mean() - low.mean()) if len(high) and len(low) else math.nan
        correct = np.sign(g["measured"].astype(float)) == np.where(g["type"] == "H", 1, -1)
        rows.append(
            {
                **dict(zip([*groups, "dimension"], key, strict=True)),
                "n_high": len(high),
                "n_low": len(low),
                "difference": diff,
                "cohens_d": diff / pooled if pooled and math.isfinite(pooled) else math.nan,
                "hl_accuracy": float(correct.mean()),
            }
        )
    return pd.DataFrame(rows)
