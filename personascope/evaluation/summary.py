"""The scores table a run prints: one row per configuration and dimension, never pooled."""

from __future__ import annotations

import pandas as pd

#: One row per these: different RPA or assessor models are never merged (InCharacter
#: reports one row per scale, method, RPA model and assessor model).
SUMMARY_KEYS = ["character", "scale", "method", "rpa_model", "assessor_model", "dimension"]


def score_summary(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean and population SD of the score over a configuration's runs (trials and
    temperatures), the mean item mean, the types seen, the number of runs and of failed items.

    >>> df = pd.DataFrame({"character": ["a", "a"], "scale": ["s", "s"], "method": ["oc", "oc"],
    ...     "rpa_model": ["m", "m"], "assessor_model": ["x", "x"], "dimension": ["E", "E"],
    ...     "score": [3.0, 5.0], "item_mean": [3.0, 5.0], "type": ["H", "H"], "n_failed": [0, 1]})
    >>> row = score_summary(df).iloc[0]
    >>> [float(row[k]) for k in ("mean", "sd", "runs", "failed_items")]
    [4.0, 1.0, 2.0, 1.0]
    """
    rows = []
    for key, g in scores.groupby(SUMMARY_KEYS, sort=False):
        score = pd.to_numeric(g["score"], errors="coerce")
        rows.append(
            {
                **dict(zip(SUMMARY_KEYS, key, strict=True)),
                "mean": float(score.mean()) if score.notna().any() else None,
                "sd": float(score.std(ddof=0)) if score.notna().sum() > 1 else None,
                "item_mean": float(pd.to_numeric(g["item_mean"], errors="coerce").mean()),
                "types": "/".join(sorted({t for t in g["type"] if isinstance(t, str)})) or "—",
                "runs": len(g),
                "failed_items": int(pd.to_numeric(g["n_failed"]).sum()),
            }
        )
    return pd.DataFrame(
        rows, columns=[*SUMMARY_KEYS, "mean", "sd", "item_mean", "types", "runs", "failed_items"]
    )
