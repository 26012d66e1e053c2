"""Validity: external and behavioural consistency, and placement against human norms.

References: Zhou et al. (2023), RealBehavior, Findings of EMNLP 2023, sections 3-4
(ExC: correlation between scales measuring the same construct across the subject
set; BC, Eq. 5: correlation between scale scores and criterion scores).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from personascope.evaluation.reliability import ReliabilityWarning
from personascope.scales import Scale
from personascope.scales.scoring import norm_score


def _pearson_on_shared(a: pd.Series, b: pd.Series, what: str) -> float:
    shared = a.dropna().index.intersection(b.dropna().index)
    dropped = (set(a.index) | set(b.index)) - set(shared)
    if dropped:
        warnings.warn(
            f"{what}: {len(dropped)} subject(s) not in both inputs were left out: "
            f"{sorted(map(str, dropped))[:5]}",
            ReliabilityWarning,
            stacklevel=3,
        )
    if len(shared) < 3:
        warnings.warn(
            f"{what}: needs at least 3 shared subjects, got {len(shared)}", ReliabilityWarning, stacklevel=3
        )
        return float("nan")
    x, y = a.loc[shared].astype(float), b.loc[shared].astype(float)
    if x.std() == 0 or y.std() == 0:
        warnings.warn(f"{what}: constant scores have no correlation", ReliabilityWarning, stacklevel=3)
        return float("nan")
    return float(stats.pearsonr(x, y).statistic)


def external_consistency(scores_a: pd.Series, scores_b: pd.Series, *, reverse: bool = False) -> float:
    """ExC: Pearson r across subjects between two scales' scores of the same construct.

    ``scores_a`` and ``scores_b`` are indexed by subject (e.g. model × temperature ×
    trial, or character). ``reverse=True`` for opposite poles of one construct, e.g.
    BFM Emotional Stability ↔ NEO Neuroticism: ``r(a, −b)``. Subjects missing from
    either side are left out with a warning.

    >>> a = pd.Series([1.0, 2.0, 3.0, 4.0], index=list("wxyz"))
    >>> round(external_consistency(a, -a, reverse=True), 6)
    1.0
    """
    b = -scores_b if reverse else scores_b
    return _pearson_on_shared(scores_a, b, "external_consistency")


def behavioral_consistency(scale_scores: pd.Series, criterion_scores: pd.Series) -> float:
    """BC (RealBehavior Eq. 5): Pearson r across subjects between scale scores and
    criterion scores (CrS, the fraction of behaviours classified at the positive pole).

    >>> round(behavioral_consistency(pd.Series([1.0, 2.0, 3.0]), pd.Series([0.2, 0.4, 0.6])), 6)
    1.0
    """
    return _pearson_on_shared(scale_scores, criterion_scores, "behavioral_consistency")


# Dimension correspondences between the built-in scales (reverse: opposite poles).
CONSTRUCT_MAP: dict[tuple[str, str], list[tuple[str, str, bool]]] = {
    ("ipip-bfm-50", "ipip-neo-120"): [
        ("extraversion", "extraversion", False),
        ("agreeableness", "agreeableness", False),
        ("conscientiousness", "conscientiousness", False),
        ("emotional_stability", "neuroticism", True),
        ("intellect", "openness", False),
    ],
}
CONSTRUCT_MAP[("ipip-bfm-100", "ipip-neo-120")] = CONSTRUCT_MAP[("ipip-bfm-50", "ipip-neo-120")]
CONSTRUCT_MAP[("ipip-bfm-50", "ipip-bfm-100")] = [
    (d, d, False)
    for d in ("extraversion", "agreeableness", "conscientiousness", "emotional_stability", "intellect")
]


def norm_table(scores: pd.Series, scale: Scale, *, population: str | None = None) -> pd.DataFrame:
    """z, T and percentile of dimension scores (indexed by dimension) against the scale's
    human norms (one row per dimension and norm; ``population`` filters by substring).

    A comparison like RealBehavior's Figure 6: where the model sits among people.
    """
    rows = []
    low, high = scale.range
    for dim, value in scores.items():
        if dim not in scale.dimension_map or value is None or not np.isfinite(value):
            continue
        for norm in scale.norms_of(str(dim)):
            if population and population not in norm.population:
                continue
            ns = norm_score(
                float(value),
                norm,
                n_items=len(scale.items_of(str(dim))),
                low=low,
                high=high,
                mode=scale.scoring,
            )
            rows.append(
                {
                    "dimension": dim,
                    "score": float(value),
                    "population": norm.population,
                    "norm_mean": norm.mean,
                    "norm_sd": norm.sd,
                    "z": ns.z,
                    "T": ns.t,
                    "percentile": ns.percentile,
                }
            )
    return pd.DataFrame(
        rows, columns=["dimension", "score", "population", "norm_mean", "norm_sd", "z", "T", "percentile"]
    )
