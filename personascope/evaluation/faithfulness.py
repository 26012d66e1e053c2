"""Faithfulness of a measurement (RealBehavior Table 2) from an experiment's results.

The table covers one character on one scale with an item-level method (SR, SR-CoT,
OC, d-OC). A *subject* is one RPA model (× assessor) at one temperature; its repeats
are its trials. TrC and RealBehavior's InC are computed per subject / across subjects
(:func:`~personascope.evaluation.reliability.test_retest_consistency`,
:func:`~personascope.evaluation.reliability.internal_consistency`); α over the runs of
the table (every run a "respondent") is kept as ``InC_alpha`` under its own name.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from personascope.evaluation.reliability import (
    ReliabilityWarning,
    cronbach_alpha,
    internal_consistency,
    mcdonald_omega,
    test_retest_consistency,
)
from personascope.evaluation.validity import CONSTRUCT_MAP, behavioral_consistency, external_consistency
from personascope.scales import Scale
from personascope.scales.scoring import keyed_value

#: Human reference α that RealBehavior's Table 2 sets beside the InC of the IPIP-NEO-120
#: domains. The built-in scale's own ``reference_alpha`` (Johnson 2014's IPIP-NEO-120
#: table on ipip.ori.org: N .88, E .84, O .85, A .81, C .84) stays the default because it
#: is the published value for exactly the items the scale ships; these are offered for a
#: like-for-like comparison with RealBehavior's table.
REALBEHAVIOR_HUMAN_ALPHA: dict[str, dict[str, float]] = {
    "ipip-neo-120": {
        "extraversion": 0.89,
        "agreeableness": 0.85,
        "conscientiousness": 0.90,
        "neuroticism": 0.90,
        "openness": 0.82,
    }
}
REALBEHAVIOR_HUMAN_ALPHA_SOURCE = (
    "Zhou et al. (2023), RealBehavior: A Framework for Faithfully Characterizing Foundation Models' "
    "Human-like Behavior Mechanisms, Findings of EMNLP 2023, Table 2 (human alpha of the IPIP-NEO-120 "
    "domains E/A/C/N/O), as quoted in personascope issue 14; not re-checked against the paper's text"
)

#: The columns that make a subject of RealBehavior's TrC and InC (those present are used).
SUBJECT_COLUMNS = ("rpa_model", "assessor_model", "temperature")


def keyed_item_matrix(items: pd.DataFrame, scale: Scale, dimension: str) -> pd.DataFrame:
    """Runs × items of one dimension, reverse-keyed (``min + max − x`` for ``-`` items).

    ``items`` is :func:`personascope.results.load_items` filtered to one character,
    scale and method.
    """
    low, high = scale.range
    dim_items = {i.id: i for i in scale.items_of(dimension)}
    sub = items[items["item_id"].isin(dim_items)].copy()
    sub["keyed"] = [
        keyed_value(dim_items[i], v, low, high) if v is not None and np.isfinite(v) else np.nan
        for i, v in zip(sub["item_id"], sub["value"].astype(float), strict=True)
    ]
    matrix = sub.pivot_table(index="run_id", columns="item_id", values="keyed", aggfunc="first")
    return matrix.reindex(columns=[i for i in dim_items if i in matrix.columns])


def faithfulness_table(
    items: pd.DataFrame,
    scores: pd.DataFrame,
    scale: Scale,
    other_scores: dict[str, pd.DataFrame] | None = None,
    criterion: dict[str, pd.Series] | None = None,
) -> pd.DataFrame:
    """One row per dimension: TrC, InC (α and ω), the human reference α, ExC and BC.

    * TrC — per subject (RPA model × assessor × temperature) the mean Pearson r between
      its trials over the dimension's items, averaged over subjects
      (:func:`test_retest_consistency`); runs of different subjects are never correlated;
    * InC_RB — RealBehavior's InC: Cronbach's α across subjects of their majority-vote
      answers (:func:`internal_consistency`; nan with fewer than 2 subjects);
    * InC_alpha, InC_omega — Cronbach's α (pairwise) and McDonald's ω of runs × items, every
      run a respondent (α over this agent's own repeats, not RealBehavior's InC);
    * human_alpha — the scale's reference α; human_alpha_RB — RealBehavior's Table 2 value
      where :data:`REALBEHAVIOR_HUMAN_ALPHA` has one;
    * ExC — Pearson r across runs between this scale's dimension score and the mapped
      dimension of each scale in ``other_scores`` (run keys: RPA model, assessor,
      temperature, trial — two models never share a key), via :data:`CONSTRUCT_MAP`;
    * BC — Pearson r across runs between the dimension score and ``criterion[dimension]``,
      the criterion scores (CrS) of the behaviour test indexed by run key
      ``"<temperature>/<trial>"`` (one RPA model; for an experiment's BC per scale and
      method see :func:`~personascope.evaluation.behavior.behavioral_consistency_table`).
    """
    rows = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ReliabilityWarning)
        for dim in scale.dimensions:
            matrix = keyed_item_matrix(items, scale, dim.id)
            row: dict[str, object] = {
                "dimension": dim.id,
                "runs": int(matrix.shape[0]),
                "items": int(matrix.shape[1]),
            }
            responses = _responses(items, scale, dim.id)
            row["TrC"] = test_retest_consistency(responses) if len(responses) else float("nan")
            row["InC_RB"] = (
                internal_consistency(responses) if responses["subject"].nunique() >= 2 else float("nan")
            )
            row["InC_alpha"] = cronbach_alpha(matrix) if matrix.shape[0] >= 2 else float("nan")
            row["InC_omega"] = mcdonald_omega(matrix) if matrix.shape[0] >= 3 else float("nan")
            row["human_alpha"] = dim.reference_alpha.value if dim.reference_alpha else float("nan")
            rb_alpha = REALBEHAVIOR_HUMAN_ALPHA.get(scale.id, {}).get(dim.id)
            if rb_alpha is not None:
                row["human_alpha_RB"] = rb_alpha
            mine = _run_scores(scores, dim.id)
            for other_id, other in (other_scores or {}).items():
                for a, b, rev in CONSTRUCT_MAP.get((scale.id, other_id), []):
                    if a == dim.id:
                        row[f"ExC_{other_id}"] = external_consistency(
                            mine, _run_scores(other, b), reverse=rev
                        )
            if criterion is not None and dim.id in criterion:
                row["BC"] = behavioral_consistency(_criterion_key_scores(scores, dim.id), criterion[dim.id])
            rows.append(row)
    table = pd.DataFrame(rows).set_index("dimension")
    table.attrs["warnings"] = [str(w.message) for w in caught]
    return table


def _responses(items: pd.DataFrame, scale: Scale, dimension: str) -> pd.DataFrame:
    """Long ``subject, repeat, item, value`` frame of one dimension's keyed answers."""
    low, high = scale.range
    dim_items = {i.id: i for i in scale.items_of(dimension)}
    sub = items[items["item_id"].isin(dim_items)]
    s_cols = [c for c in SUBJECT_COLUMNS if c in sub.columns]
    r_col = "trial" if "trial" in sub.columns else "run_id"
    values = sub["value"].astype(float)
    return pd.DataFrame(
        {
            # A tuple, not a joined string: "a|b" + "c" and "a" + "b|c" stay two subjects.
            "subject": list(zip(*(sub[c] for c in s_cols), strict=True)) if s_cols else "all",
            "repeat": sub[r_col].to_numpy(),
            "item": sub["item_id"].to_numpy(),
            "value": [
                keyed_value(dim_items[i], v, low, high) if np.isfinite(v) else np.nan
                for i, v in zip(sub["item_id"], values, strict=True)
            ],
        }
    ).dropna(subset=["value"])


_RUN_KEY = ("rpa_model", "assessor_model", "temperature", "trial")


def _run_scores(scores: pd.DataFrame, dimension: str) -> pd.Series:
    sub = scores[scores["dimension"] == dimension]
    cols = [c for c in _RUN_KEY if c in sub.columns]
    index = pd.MultiIndex.from_frame(sub[cols].astype(str))
    return pd.Series(sub["score"].astype(float).to_numpy(), index=index)


def _criterion_key_scores(scores: pd.DataFrame, dimension: str) -> pd.Series:
    # The behaviour test's criterion scores of this table are keyed "<temperature>/<trial>"
    # (one RPA model); the per-(scale, method) BC of an experiment is
    # behavior.behavioral_consistency_table.
    sub = scores[scores["dimension"] == dimension]
    key = sub["temperature"].astype(str) + "/" + sub["trial"].astype(str)
    return pd.Series(sub["score"].astype(float).to_numpy(), index=key.to_numpy())
