"""Validity: external and behavioural consistency, and placement against human norms.

References: Zhou et al. (2023), RealBehavior, Findings of EMNLP 2023, sections 3-4
(ExC: correlation between scales measuring the same construct across the subject
set; BC, Eq. 5: correlation between scale scores and criterion scores). Goldberg, L. R.
(1992), The development of markers for the Big-Five factor structure, Psychological
Assessment 4, 26-42 (factor IV Emotional Stability, factor V Intellect).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

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


#: Big Five constructs and, for each scale that measures one, its dimension and direction
#: (+1: a high score means more of the construct; -1: the opposite pole). Covers the
#: built-in IPIP scales and InCharacter's BFI as ``import`` names it (scale id ``BFI``).
#: Goldberg's factor IV is Emotional Stability, the opposite pole of Neuroticism; his
#: factor V (Intellect/Imagination) is taken as Openness (Goldberg, 1992; ipip.ori.org).
BIG_FIVE_CONSTRUCTS: dict[str, dict[str, tuple[str, int]]] = {
    "extraversion": {
        "ipip-neo-120": ("extraversion", 1),
        "ipip-bfm-100": ("extraversion", 1),
        "ipip-bfm-50": ("extraversion", 1),
        "BFI": ("Extraversion", 1),
    },
    "agreeableness": {
        "ipip-neo-120": ("agreeableness", 1),
        "ipip-bfm-100": ("agreeableness", 1),
        "ipip-bfm-50": ("agreeableness", 1),
        "BFI": ("Agreeableness", 1),
    },
    "conscientiousness": {
        "ipip-neo-120": ("conscientiousness", 1),
        "ipip-bfm-100": ("conscientiousness", 1),
        "ipip-bfm-50": ("conscientiousness", 1),
        "BFI": ("Conscientiousness", 1),
    },
    "neuroticism": {
        "ipip-neo-120": ("neuroticism", 1),
        "ipip-bfm-100": ("emotional_stability", -1),
        "ipip-bfm-50": ("emotional_stability", -1),
        "BFI": ("Neuroticism", 1),
    },
    "openness": {
        "ipip-neo-120": ("openness", 1),
        "ipip-bfm-100": ("intellect", 1),
        "ipip-bfm-50": ("intellect", 1),
        "BFI": ("Openness", 1),
    },
}


def construct_pairs(
    constructs: Mapping[str, Mapping[str, tuple[str, int]]] = BIG_FIVE_CONSTRUCTS,
) -> dict[tuple[str, str], list[tuple[str, str, bool]]]:
    """Every ordered pair of scales a construct map covers, with the dimension pairs:
    ``(scale_a, scale_b) → [(dim_a, dim_b, reverse)]``, ``reverse`` when the directions differ.

    >>> construct_pairs()[("ipip-bfm-50", "ipip-neo-120")][3]
    ('emotional_stability', 'neuroticism', True)
    """
    out: dict[tuple[str, str], list[tuple[str, str, bool]]] = {}
    for members in constructs.values():
        for a, (dim_a, sign_a) in members.items():
            for b, (dim_b, sign_b) in members.items():
                if a != b:
                    out.setdefault((a, b), []).append((dim_a, dim_b, sign_a != sign_b))
    return out


# Dimension correspondences between scales (reverse: opposite poles), both orders.
CONSTRUCT_MAP: dict[tuple[str, str], list[tuple[str, str, bool]]] = construct_pairs()


def external_consistency_table(
    scores: pd.DataFrame,
    *,
    subject: Sequence[str] = ("character", "rpa_model", "temperature"),
    by: Sequence[str] = ("method", "assessor_model"),
    repeat: Sequence[str] = (),
    constructs: Mapping[str, Mapping[str, tuple[str, int]]] = BIG_FIVE_CONSTRUCTS,
) -> pd.DataFrame:
    """ExC for every pair of scales in ``scores`` that a construct map covers (RealBehavior §3.3).

    For a construct measured by dimension ``d_A`` of scale ``A`` and ``d_B`` of ``B``:

    .. math:: \\mathrm{ExC}_{A,B} = r_{s \\in S}\\big(x_{s,A,d_A},\\; \\pm x_{s,B,d_B}\\big)

    Pearson's r across the subjects ``S`` scored on both, with ``−`` when the two
    dimensions are opposite poles (Emotional Stability ↔ Neuroticism).

    Parameters
    ----------
    scores : long frame with ``scale``, ``dimension``, ``score`` and the ``subject``,
        ``by`` and ``repeat`` columns (those absent are ignored).
    subject : the columns that make a subject. Subjects are keyed by the tuple of these
        values, so the same character or temperature under two models are two subjects
        and never collide.
    by : ExC is computed separately for each value of these columns (a method or an
        assessor is part of the measurement, not of the subject).
    repeat : columns averaged over within a subject before correlating (e.g.
        ``("trial",)``); by default every (subject, scale, dimension) must have one score.
    constructs : construct → {scale: (dimension, ±1)}; :data:`BIG_FIVE_CONSTRUCTS`.

    Returns
    -------
    DataFrame: the ``by`` columns, ``construct``, ``scale_a``, ``dimension_a``, ``scale_b``,
    ``dimension_b``, ``reversed``, ``subjects`` (scored on both), ``ExC``. Pairs with
    ``scale_a < scale_b`` only (r is symmetric).

    By hand: three subjects with BFM-50 Emotional Stability 40, 30, 20 and NEO
    Neuroticism 50, 70, 90 lie on a falling line: ExC = r(ES, −N) = 1.

    >>> df = pd.DataFrame({"character": list("xyz") * 2, "rpa_model": "m", "temperature": 0.0,
    ...                    "method": "sr", "scale": ["ipip-bfm-50"] * 3 + ["ipip-neo-120"] * 3,
    ...                    "dimension": ["emotional_stability"] * 3 + ["neuroticism"] * 3,
    ...                    "score": [40.0, 30.0, 20.0, 50.0, 70.0, 90.0]})
    >>> external_consistency_table(df)[["construct", "reversed", "subjects", "ExC"]].round(6).values.tolist()
    [['neuroticism', True, 3, 1.0]]
    """
    missing = [c for c in ("scale", "dimension", "score") if c not in scores.columns]
    if missing:
        raise ValueError(f"scores: missing column(s) {missing}")
    s_cols = [c for c in subject if c in scores.columns]
    if not s_cols:
        raise ValueError(f"scores: no subject column (expected some of {list(subject)})")
    b_cols = [c for c in by if c in scores.columns]
    r_cols = [c for c in repeat if c in scores.columns]
    keys = [*b_cols, *s_cols, "scale", "dimension"]
    df = scores[[*keys, *r_cols, "score"]].copy()
    df["score"] = df["score"].astype(float)
    if r_cols:
        df = df.groupby(keys, sort=False, dropna=False)["score"].mean().reset_index()
    dup = df.duplicated(keys, keep=False)
    if dup.any():
        raise ValueError(
            f"scores: several scores for one {tuple(keys)}; name the column that tells them apart in "
            f"subject, by or repeat, e.g. {df.loc[dup, keys].head(2).values.tolist()}"
        )
    rows = []
    groups = df.groupby(b_cols, sort=True, dropna=False) if b_cols else [((), df)]
    for bkey, g in groups:
        bvals = dict(zip(b_cols, bkey if isinstance(bkey, tuple) else (bkey,), strict=True))
        present = set(g["scale"])
        for construct, members in constructs.items():
            scales = sorted(sc for sc in members if sc in present)
            for i, a in enumerate(scales):
                for b in scales[i + 1 :]:
                    (dim_a, sign_a), (dim_b, sign_b) = members[a], members[b]
                    xa = _subject_series(g, a, dim_a, s_cols)
                    xb = _subject_series(g, b, dim_b, s_cols)
                    if xa.empty or xb.empty:
                        continue
                    rows.append(
                        {
                            **bvals,
                            "construct": construct,
                            "scale_a": a,
                            "dimension_a": dim_a,
                            "scale_b": b,
                            "dimension_b": dim_b,
                            "reversed": sign_a != sign_b,
                            "subjects": len(xa.dropna().index.intersection(xb.dropna().index)),
                            "ExC": external_consistency(xa, xb, reverse=sign_a != sign_b),
                        }
                    )
    columns = [
        *b_cols,
        "construct",
        "scale_a",
        "dimension_a",
        "scale_b",
        "dimension_b",
        "reversed",
        "subjects",
        "ExC",
    ]
    return pd.DataFrame(rows, columns=columns)


def _subject_series(g: pd.DataFrame, scale: str, dimension: str, s_cols: list[str]) -> pd.Series:
    sub = g[(g["scale"] == scale) & (g["dimension"] == dimension)]
    index = pd.MultiIndex.from_frame(sub[s_cols]) if len(s_cols) > 1 else pd.Index(sub[s_cols[0]])
    return pd.Series(sub["score"].to_numpy(), index=index)


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
