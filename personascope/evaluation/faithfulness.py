"""Faithfulness of a measurement (RealBehavior Table 2) from an experiment's results.

Subjects are the repeated runs of one character (or model) on one scale with an
item-level method (SR, SR-CoT, OC, d-OC): every temperature × trial is one
"respondent" whose keyed item scores make the item matrix.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from personascope.evaluation.reliability import (
    ReliabilityWarning,
    cronbach_alpha,
    mcdonald_omega,
    test_retest_consistency,
)
from personascope.evaluation.validity import CONSTRUCT_MAP, behavioral_consistency, external_consistency
from personascope.scales import Scale
from personascope.scales.scoring import keyed_value


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

    * TrC — mean pairwise Pearson r between runs over the dimension's items
      (:func:`test_retest_consistency` on items × runs);
    * InC — Cronbach's α (pairwise) and McDonald's ω of runs × items;
    * ExC — Pearson r across runs between this scale's dimension score and the mapped
      dimension of each scale in ``other_scores`` (run keys ``temperature``/``trial``),
      via :data:`CONSTRUCT_MAP`;
    * BC — Pearson r across runs between the dimension score and ``criterion[dimension]``,
      the criterion scores (CrS) of the behaviour test indexed by run key
      ``"<temperature>/<trial>"``.
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
            row["TrC"] = test_retest_consistency(matrix.T) if matrix.shape[0] >= 2 else float("nan")
            row["InC_alpha"] = cronbach_alpha(matrix) if matrix.shape[0] >= 2 else float("nan")
            row["InC_omega"] = mcdonald_omega(matrix) if matrix.shape[0] >= 3 else float("nan")
            row["human_alpha"] = dim.reference_alpha.value if dim.reference_alpha else float("nan")
            mine = _run_scores(scores, dim.id)
            for other_id, other in (other_scores or {}).items():
                for a, b, rev in CONSTRUCT_MAP.get((scale.id, other_id), []):
                    if a == dim.id:
                        row[f"ExC_{other_id}"] = external_consistency(
                            mine, _run_scores(other, b), reverse=rev
                        )
            if criterion is not None and dim.id in criterion:
                row["BC"] = behavioral_consistency(mine, criterion[dim.id])
            rows.append(row)
    table = pd.DataFrame(rows).set_index("dimension")
    table.attrs["warnings"] = [str(w.message) for w in caught]
    return table


def _run_scores(scores: pd.DataFrame, dimension: str) -> pd.Series:
    sub = scores[scores["dimension"] == dimension]
    key = sub["temperature"].astype(str) + "/" + sub["trial"].astype(str)
    return pd.Series(sub["score"].astype(float).to_numpy(), index=key.to_numpy())
