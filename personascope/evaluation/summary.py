"""The scores table a run prints: one row per configuration and dimension, never pooled."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from personascope.records import RunRecord

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
                # the assessor's own uncertainty (item distributions), where it reported one
                "score_sd": _mean_or_none(g.get("score_sd")),
                "confidence": _mean_or_none(g.get("confidence")),
            }
        )
    columns = [
        *SUMMARY_KEYS,
        "mean",
        "sd",
        "item_mean",
        "types",
        "runs",
        "failed_items",
        "score_sd",
        "confidence",
    ]
    return pd.DataFrame(rows, columns=columns)


def _mean_or_none(values: pd.Series | None) -> float | None:
    if values is None:
        return None
    numbers = pd.to_numeric(values, errors="coerce")
    return float(numbers.mean()) if numbers.notna().any() else None


def unscored_dimensions(record: RunRecord) -> list[str]:
    """The dimensions of a run that have no score (all of them when it has no scores)."""
    if not record.scores:
        return ["(all)"]
    return [d for d, s in record.scores.items() if s.get("score") is None]


def failure_digest(record: RunRecord, top: int = 3) -> str:
    """Why a run's items failed, in one line: how many, then the ``top`` most common
    (stage, kind) with one reason each, so that a run with no score says why.

    >>> rec = RunRecord(run_id="r", character="c", scale="s", method="oc", rpa_model="m",
    ...     assessor_model="m", interviewer_model="m", temperature=0, trial=0, status="partial",
    ...     finished_at="", provenance={"personascope_version": "0", "python": "3"},
    ...     questions=[{"item_id": i, "dimension": "E", "statement": "", "key": "+", "question": ""}
    ...                for i in "12"],
    ...     failures=[{"stage": "answer", "item_id": i, "dimension": "E", "kind": "timeout",
    ...                "reason": "no answer within 5s"} for i in "12"])
    >>> failure_digest(rec)
    '2 of 2 items failed: answer timeout ×2 (no answer within 5s)'
    """
    failures = record.failures
    if not failures:
        return "no item failed"
    kinds = Counter((f["stage"], f["kind"] or "unknown") for f in failures)
    example: dict[tuple[str, str], str] = {}
    for f in failures:
        example.setdefault((f["stage"], f["kind"] or "unknown"), f["reason"] or "no reason recorded")
    items = len({f["item_id"] for f in failures})
    total = len(record.questions) or items
    parts = [
        f"{stage} {kind} ×{n} ({_short(example[stage, kind])})" for (stage, kind), n in kinds.most_common(top)
    ]
    more = f"; {len(kinds) - top} other kind(s)" if len(kinds) > top else ""
    return f"{items} of {total} items failed: " + "; ".join(parts) + more


def _short(text: str, limit: int = 120) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def unscored_runs(records: Iterable[RunRecord]) -> list[str]:
    """One line per run with a dimension left without a score: which, and why."""
    return [
        f"run {r.run_id}: no score for {', '.join(dims)}; {failure_digest(r)}"
        for r in records
        if (dims := unscored_dimensions(r))
    ]


def validity_notes(summary: pd.DataFrame, experiment_dir: str | Path | None = None) -> list[str]:
    """One line per configuration in a score summary: how valid it was measured to be."""
    from personascope.evaluation.honesty import note

    configs = summary[["scale", "method", "rpa_model", "assessor_model"]].drop_duplicates()
    return [
        note(str(r.scale), str(r.method), str(r.rpa_model), str(r.assessor_model), experiment_dir)
        for r in configs.itertuples(index=False)
    ]
