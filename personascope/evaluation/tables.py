"""The tables of an experiment's evaluation, each following its paper's definition.

Every table keeps one row per configuration — (scale, method, RPA model, assessor
model) — and never pools predictions of different configurations; metrics over
repeats (trials, temperatures) are computed per repeat and then averaged, as
InCharacter's ``calculate_measured_alignment`` does.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from personascope.evaluation.alignment import GROUP_COLUMNS, alignment_by_run
from personascope.evaluation.behavior import behavioral_consistency_table, subject_keys
from personascope.evaluation.consistency import consistency_table
from personascope.evaluation.faithfulness import faithfulness_table
from personascope.evaluation.summary import score_summary
from personascope.evaluation.units import dimension_info, label_bounds, scores_in_label_units
from personascope.evaluation.validity import external_consistency_table, norm_table
from personascope.methods import available_methods
from personascope.scales import Scale
from personascope.scales.scoring import keyed_value

CONFIG = list(GROUP_COLUMNS)


def item_level(method: str) -> bool:
    """Whether a method yields item values (a method whose plug-in is gone: no)."""
    found = available_methods().get(method)
    return found is not None and found.item_level


def _in_label_units(scores: pd.DataFrame, scales: Mapping[str, Scale]) -> pd.DataFrame:
    info = dimension_info(scales)  # by the names the scores use (a scale file: its path)
    # The scores' own bookkeeping columns (n_items, ...) give way to the scale's.
    own = [c for c in info.columns if c in scores.columns and c not in ("scale", "dimension")]
    return scores_in_label_units(scores.dropna(subset=["score"]).drop(columns=own), info)


def alignment_table(scores: pd.DataFrame, labels: pd.DataFrame, scales: Mapping[str, Scale]) -> pd.DataFrame:
    """InCharacter's measured alignment per configuration and label source.

    Scores are first put in the labels' units per dimension (a SUM scale's score becomes
    its item mean, as InCharacter's labels are), then compared run by run
    (:func:`~personascope.evaluation.alignment.alignment_by_run`).
    """
    scored = scores.dropna(subset=["score"])
    if scored.empty or labels.empty:
        return pd.DataFrame()
    pred = _in_label_units(scored, scales)
    bounds = {sid: label_bounds(low=s.range[0], high=s.range[1], mode=s.scoring) for sid, s in scales.items()}
    parts = []
    sources = labels["source"] if "source" in labels.columns else pd.Series("labels", index=labels.index)
    for source, lab in labels.groupby(sources, sort=False):
        lab = lab[lab["scale"].isin(list(scales))]
        if lab.empty:
            continue
        out = alignment_by_run(pred, lab, bounds)
        if not out.empty:
            parts.append(out.assign(labels=source))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def keyed_items(items: pd.DataFrame, scales: Mapping[str, Scale]) -> pd.DataFrame:
    """Item values after reverse keying (``min + max − x`` for ``-`` items), column ``score``."""
    rows = []
    for scale_id, g in items.groupby("scale"):
        scale = scales[str(scale_id)]
        low, high = scale.range
        by_id = scale.item_map
        values = pd.to_numeric(g["value"], errors="coerce")
        keyed = [
            keyed_value(by_id[i], float(v), low, high) if i in by_id and np.isfinite(v) else np.nan
            for i, v in zip(g["item_id"], values, strict=True)
        ]
        rows.append(g.assign(score=keyed, item=g["item_id"]))
    return pd.concat(rows, ignore_index=True).dropna(subset=["score"]) if rows else pd.DataFrame()


def consistency(scores: pd.DataFrame, items: pd.DataFrame, scales: Mapping[str, Scale]) -> pd.DataFrame:
    """Std_item, Std_dim, Std_score per configuration (InCharacter Table 2); Std_score
    for every method, expert rating included, in the labels' units."""
    item_scores = items[[item_level(str(m)) for m in items["method"]]] if not items.empty else items
    keyed = keyed_items(item_scores, scales) if not item_scores.empty else None
    dims = _in_label_units(scores, scales)
    spans = {sid: float(s.range[1] - s.range[0]) for sid, s in scales.items()}
    score_span = {}
    for sid, s in scales.items():
        lo, hi = label_bounds(low=s.range[0], high=s.range[1], mode=s.scoring)
        score_span[sid] = hi - lo
    return consistency_table(
        item_scores=keyed if keyed is not None and not keyed.empty else None,
        dimension_scores=dims if not dims.empty else None,
        item_span=spans,
        score_span=score_span,
    )


def faithfulness(
    items: pd.DataFrame, scores: pd.DataFrame, scales: Mapping[str, Scale]
) -> dict[str, pd.DataFrame]:
    """RealBehavior's TrC and InC per character and configuration (item methods): the
    subjects are the configuration's temperatures, its repeats the trials; two RPA or
    assessor models are never pooled."""
    tables: dict[str, pd.DataFrame] = {}
    keys = ["character", "scale", "method", "rpa_model", "assessor_model"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key, g in items.groupby(keys):
            char, scale_id, method, rpa, assessor = (str(k) for k in key)
            if not item_level(method):
                continue
            mask = np.logical_and.reduce([scores[c] == v for c, v in zip(keys, key, strict=True)])
            name = f"faithfulness {char} {scale_id} {method} {rpa} {assessor}"
            tables[name] = faithfulness_table(g, scores[mask], scales[scale_id]).reset_index()
    return tables


def norms(scores: pd.DataFrame, scales: Mapping[str, Scale]) -> dict[str, pd.DataFrame]:
    """Each configuration's mean score per character against the scale's human norms."""
    tables: dict[str, pd.DataFrame] = {}
    for scale_id, scale in scales.items():
        if not scale.norms:
            continue
        sub = scores[scores["scale"] == scale_id]
        parts = []
        for key, g in sub.groupby([*CONFIG[1:], "character"]):
            means = g.groupby("dimension")["score"].mean()
            config = {c: str(v) for c, v in zip([*CONFIG[1:], "character"], key, strict=True)}
            parts.append(norm_table(means, scale).assign(**config))
        if parts:
            tables[f"norms {scale_id}"] = pd.concat(parts, ignore_index=True)
    return tables


def external_consistency(scores: pd.DataFrame) -> pd.DataFrame:
    """ExC between every pair of scales an experiment measured (RealBehavior §3.3), per
    method and assessor, subjects = character × RPA model × temperature (trials averaged)."""
    if scores["scale"].nunique() < 2:
        return pd.DataFrame()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return external_consistency_table(scores.dropna(subset=["score"]), repeat=("trial",))


def behavioral_consistency(scores: pd.DataFrame, crs: pd.DataFrame) -> pd.DataFrame:
    """BC per (scale, method, assessor) and dimension (RealBehavior Eq. 5)."""
    keyed = scores.assign(subject=subject_keys(scores))
    cols = ["subject", "scale", "method", "assessor_model", "dimension", "score"]
    return behavioral_consistency_table(keyed[cols], crs)


def experiment_tables(
    scores: pd.DataFrame,
    items: pd.DataFrame,
    scales: Mapping[str, Scale],
    labels: pd.DataFrame | None = None,
    crs: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Every table of an experiment, by name."""
    tables: dict[str, pd.DataFrame] = {"scores": score_summary(scores)}
    if labels is not None and not labels.empty:
        tables["alignment"] = alignment_table(scores, labels, scales)
    tables["consistency (Std)"] = consistency(scores, items, scales)
    tables.update(faithfulness(items, scores, scales))
    exc = external_consistency(scores)
    if not exc.empty:
        tables["external consistency"] = exc
    tables.update(norms(scores, scales))
    if crs is not None and not crs.empty:
        tables["behavioural consistency"] = behavioral_consistency(scores, crs)
    return {name: t for name, t in tables.items() if not t.empty}
