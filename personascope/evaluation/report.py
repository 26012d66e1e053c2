"""Reports: every table of an experiment and its figures as interactive (Plotly) charts.

Every figure shows one configuration — (scale, method, RPA model, assessor model) —
and, where it is about one character, one character: numbers of different RPA or
assessor models are never pooled into one chart. Figures are Plotly figure
specifications (plain dicts: ``{"data": [...], "layout": {...}}``) that
:mod:`personascope.evaluation.page` draws with the Plotly library bundled in the page.

Figures: per-character profiles with the labels beside the measured scores and the
spread over runs (the radar charts of InCharacter Fig. 2); dimension scores with error
bars across temperatures (RealBehavior Fig. 2); item score distributions (RB Fig. 3); a
PCA map of all profiles (InCharacter Fig. 3); faithfulness heatmaps (RB Table 2);
alignment, norms, assessor agreement and the behaviour test's criterion scores (RB
Fig. 5). Tables: every table of :mod:`personascope.evaluation.tables`, the profiles
with their confidence, and assessor agreement.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from personascope import results
from personascope.axes import variant_of
from personascope.errors import InputError
from personascope.evaluation.alignment import GROUP_COLUMNS, predicted_type
from personascope.evaluation.faithfulness import faithfulness_table
from personascope.evaluation.reliability import icc, krippendorff_alpha
from personascope.evaluation.sensitivity import sensitivity_tables
from personascope.evaluation.summary import score_summary, validity_notes
from personascope.evaluation.tables import experiment_tables, item_level, keyed_items
from personascope.evaluation.units import dimension_info, scores_in_label_units
from personascope.records import RunRecord
from personascope.scales import Scale, load_scale

CONFIG: tuple[str, ...] = GROUP_COLUMNS
#: Columns of a validity study's summary (written by the validity study, read here).
VALIDITY_COLUMNS = (*CONFIG, "dimension", "r", "spearman", "hl_accuracy", "bias")
VALIDITY_FILE = Path("validity") / "summary.csv"
PLOTLY_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


@dataclass
class Figure:
    """One interactive chart: a Plotly figure spec, the configuration it shows (``None``:
    the experiment as a whole, e.g. the behaviour test) and its character, if any."""

    kind: str
    title: str
    spec: dict[str, Any]
    config: dict[str, str] | None = None
    character: str | None = None


@dataclass
class Report:
    """What a report contains: figures, tables (name → DataFrame), notes, and the
    validity study's summary when one exists (``None``: not measured)."""

    figures: list[Figure] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    validity: pd.DataFrame | None = None
    labels: pd.DataFrame | None = None


def num(x: Any) -> float | None:
    """A JSON-safe number: ``None`` for missing, NaN or infinite values."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def config_of(row: Mapping[Any, Any]) -> dict[str, str]:
    return {c: str(row[c]) for c in CONFIG}


def config_label(config: Mapping[str, str]) -> str:
    c = config
    return f"{c['scale']} · {c['method']} · RPA {c['rpa_model']} · assessor {c['assessor_model']}"


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": {"text": title, "font": {"size": 13}},
        "margin": {"l": 50, "r": 20, "t": 40, "b": 60},
        "height": 340,
        **extra,
    }


def _dim_names(scale: Scale) -> tuple[list[str], list[str]]:
    return [d.id for d in scale.dimensions], [d.name for d in scale.dimensions]


def in_label_units(scores: pd.DataFrame, scales: Mapping[str, Scale]) -> pd.DataFrame:
    """``scores`` with ``score`` in the labels' units (item mean; 16P percent) and the
    bounds ``low``/``high`` of those units: the units a profile is drawn in."""
    scored = scores.dropna(subset=["score"])
    if scored.empty:
        return scored.assign(score_scale=[], low=[], high=[])
    info = dimension_info(scales)  # by the names the scores use (a scale file: its path)
    own = [c for c in info.columns if c in scored.columns and c not in ("scale", "dimension")]
    return scores_in_label_units(scored.drop(columns=own), info)


# -- profiles and their confidence --------------------------------------------------


def item_confidences(record: RunRecord) -> dict[str, float]:
    """Item-level confidence where the assessor gives one: the record's item
    distributions (item judgement: ``1 − H/ln k`` of the option probabilities), else a
    ``confidence`` beside an item's choice; empty for assessors that give none."""
    found: dict[str, float] = {}
    for out in record.assessor_outputs:
        for choice in (out.get("output") or {}).get("choices") or []:
            if isinstance(choice, dict) and (c := num(choice.get("confidence"))) is not None:
                found[str(choice.get("id"))] = c
    for item_id, dist in (getattr(record, "item_distributions", None) or {}).items():
        if (c := num(dist.get("confidence"))) is not None:
            found[item_id] = c
    return found


def profile_table(
    scores: pd.DataFrame,
    scales: Mapping[str, Scale],
    labels: pd.DataFrame | None = None,
    records: Sequence[RunRecord] = (),
) -> pd.DataFrame:
    """One row per (character, configuration, dimension): the measured score in the
    labels' units over the configuration's runs — ``mean``, ``sd`` (population SD over
    runs), ``ci95`` (half-width of the t interval of the mean; nan for one run), ``runs``
    — ``type_agreement`` (share of runs whose H/L type is the modal one: how often the
    runs agree on the side of the midpoint), ``label_agreement`` (share of runs that
    match the label's type), ``item_confidence`` (mean item confidence, when the assessor
    reports one), and the label (``label_score``, ``label_type``; first label source)."""
    from scipy import stats

    conv = in_label_units(scores, scales)
    lab = _first_source(labels)
    conf: dict[tuple[str, str], list[float]] = {}
    for rec in records:
        item_dim = {q["item_id"]: q["dimension"] for q in rec.questions}
        for item_id, c in item_confidences(rec).items():
            conf.setdefault((rec.run_id, item_dim.get(item_id, "")), []).append(c)
    rows = []
    for key, g in conv.groupby(["character", *CONFIG, "dimension"], sort=False):
        values = dict(zip(["character", *CONFIG, "dimension"], (str(k) for k in key), strict=True))
        x = g["score"].astype(float).to_numpy()
        mid = (float(g["low"].iloc[0]) + float(g["high"].iloc[0])) / 2
        types = [predicted_type(float(v), mid) for v in x]
        modal = max(set(types), key=types.count)
        sd = float(np.std(x)) if len(x) > 1 else float("nan")
        ci = (
            float(stats.t.ppf(0.975, len(x) - 1) * np.std(x, ddof=1) / np.sqrt(len(x)))
            if len(x) > 1
            else float("nan")
        )
        label = lab.get((values["character"], values["scale"], values["dimension"]), (float("nan"), ""))
        confs = [c for rid in g["run_id"] for c in conf.get((str(rid), values["dimension"]), [])]
        rows.append(
            {
                **values,
                "mean": float(np.mean(x)),
                "sd": sd,
                "ci95": ci,
                "runs": len(x),
                "low": float(g["low"].iloc[0]),
                "high": float(g["high"].iloc[0]),
                "type_agreement": types.count(modal) / len(types),
                "label_score": label[0],
                "label_type": label[1],
                "label_agreement": (
                    sum(t == label[1] for t in types) / len(types) if label[1] in ("H", "L") else float("nan")
                ),
                "item_confidence": float(np.mean(confs)) if confs else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def _first_source(labels: pd.DataFrame | None) -> dict[tuple[str, str, str], tuple[float, str]]:
    if labels is None or labels.empty:
        return {}
    out: dict[tuple[str, str, str], tuple[float, str]] = {}
    for r in labels.itertuples(index=False):
        key = (str(r.character), str(r.scale), str(r.dimension))
        score = num(r.score)
        out.setdefault(key, (score if score is not None else float("nan"), str(r.type)))
    return out


def profile_figures(
    profiles: pd.DataFrame, scales: Mapping[str, Scale], labels: pd.DataFrame | None = None
) -> list[Figure]:
    """Per character and configuration: the measured mean ± SD over runs in the labels'
    units, the label of every label source beside it (a label with a type only is drawn
    as ▲ high / ▼ low at a quarter from the edge), the midpoint dashed."""
    figs: list[Figure] = []
    if profiles.empty:
        return figs
    for key, g in profiles.groupby(["character", *CONFIG], sort=False):
        char = str(key[0])
        config = dict(zip(CONFIG, (str(k) for k in key[1:]), strict=True))
        scale = scales[config["scale"]]
        dims, names = _dim_names(scale)
        by_dim = g.set_index("dimension")
        lo, hi = float(g["low"].iloc[0]), float(g["high"].iloc[0])
        measured = [by_dim.loc[d] if d in by_dim.index else None for d in dims]
        data: list[dict[str, Any]] = [
            {
                "type": "scatter",
                "mode": "markers",
                "name": "measured (mean ± SD over runs)",
                "x": names,
                "y": [num(m["mean"]) if m is not None else None for m in measured],
                "error_y": {
                    "type": "data",
                    "array": [num(m["sd"]) or 0 if m is not None else 0 for m in measured],
                },
                "marker": {"size": 11, "color": PLOTLY_COLORS[0]},
                "customdata": dims,
                "hovertemplate": "%{x}: %{y:.2f} ± %{error_y.array:.2f}<extra>measured</extra>",
            }
        ]
        data += _label_traces(labels, char, config["scale"], dims, names, lo, hi)
        layout = _layout(
            f"{char} — {config_label(config)}",
            yaxis={"range": [lo - 0.02 * (hi - lo), hi + 0.02 * (hi - lo)], "title": {"text": "label units"}},
            shapes=[_hline((lo + hi) / 2)],
            legend={"orientation": "h", "y": -0.25},
        )
        figs.append(Figure("profile", f"profile {char}", {"data": data, "layout": layout}, config, char))
    return figs


def _hline(y: float) -> dict[str, Any]:
    return {
        "type": "line",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "y0": y,
        "y1": y,
        "line": {"dash": "dash", "color": "grey", "width": 1},
    }


def _label_traces(
    labels: pd.DataFrame | None,
    char: str,
    scale_id: str,
    dims: list[str],
    names: list[str],
    lo: float,
    hi: float,
) -> list[dict[str, Any]]:
    if labels is None or labels.empty:
        return []
    sel = labels[(labels["character"] == char) & (labels["scale"] == scale_id)]
    sources = sel["source"] if "source" in sel.columns else pd.Series("labels", index=sel.index)
    traces = []
    for k, (source, g) in enumerate(sel.groupby(sources, sort=False)):
        rows = {str(r.dimension): r for r in g.itertuples(index=False)}
        ys, symbols, texts = [], [], []
        for d in dims:
            r = rows.get(d)
            score = num(r.score) if r is not None else None
            kind = str(r.type) if r is not None else ""
            if score is None and kind in ("H", "L"):
                score = hi - (hi - lo) / 4 if kind == "H" else lo + (hi - lo) / 4
                symbols.append("triangle-up" if kind == "H" else "triangle-down")
            else:
                symbols.append("diamond")
            ys.append(score)
            texts.append(
                f"label {kind or '—'}" + (f" ({num(r.score):.2f})" if r is not None and num(r.score) else "")
            )
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": f"label ({source})",
                "x": names,
                "y": ys,
                "text": texts,
                "marker": {
                    "size": 10,
                    "symbol": symbols,
                    "color": PLOTLY_COLORS[(k + 1) % 8],
                    "opacity": 0.85,
                },
                "hovertemplate": "%{x}: %{text}<extra>" + str(source) + "</extra>",
            }
        )
    return traces


# -- the figures of the papers, one configuration each ---------------------------------


def _by_config_and_character(frame: pd.DataFrame) -> Iterable[tuple[dict[str, str], str, pd.DataFrame]]:
    for key, g in frame.groupby([*CONFIG, "character"], sort=False):
        yield dict(zip(CONFIG, (str(k) for k in key[:4]), strict=True)), str(key[4]), g


def temperature_figures(scores: pd.DataFrame, scales: Mapping[str, Scale]) -> list[Figure]:
    """Dimension scores per temperature, mean ± SD over trials (RealBehavior Fig. 2)."""
    figs: list[Figure] = []
    for config, char, g in _by_config_and_character(scores.dropna(subset=["score"])):
        scale = scales[config["scale"]]
        dims, names = _dim_names(scale)
        data = []
        for t, gt in g.groupby("temperature"):
            by = gt.groupby("dimension")["score"]
            mean, sd = by.mean(), by.std(ddof=0)
            data.append(
                {
                    "type": "bar",
                    "name": f"T={num(t) or 0:g}",
                    "x": names,
                    "y": [num(mean.get(d)) for d in dims],
                    "error_y": {"type": "data", "array": [num(sd.get(d)) or 0 for d in dims]},
                }
            )
        lo = min(scale.score_bounds(d)[0] for d in dims)
        hi = max(scale.score_bounds(d)[1] for d in dims)
        layout = _layout(
            f"{char} — {config_label(config)}: mean ± SD over trials",
            barmode="group",
            yaxis={"range": [lo, hi]},
        )
        figs.append(
            Figure("temperature", f"temperature {char}", {"data": data, "layout": layout}, config, char)
        )
    return figs


def item_figures(
    items: pd.DataFrame, records: Sequence[RunRecord], scales: Mapping[str, Scale]
) -> list[Figure]:
    """Item values after reverse keying (item methods), or the assessor's batch ratings
    (expert rating), counted per value and dimension (RealBehavior Fig. 3)."""
    figs: list[Figure] = []
    if items.empty:
        return figs
    keyed = keyed_items(items[[item_level(str(m)) for m in items["method"]]], scales)
    ratings: dict[tuple[str, ...], list[tuple[str, float]]] = {}
    for rec in records:
        key = (rec.scale, rec.method, rec.rpa_model, rec.assessor_model, rec.character)
        for r in rec.dimension_ratings:
            if r["score"] is not None:
                ratings.setdefault(key, []).append((r["dimension"], float(r["score"])))
    seen = items.drop_duplicates([*CONFIG, "character"])
    for row in seen.to_dict("records"):
        config = config_of(row)
        char = str(row["character"])
        scale = scales[config["scale"]]
        dims, names = _dim_names(scale)
        if item_level(config["method"]):
            sel = keyed[
                np.logical_and.reduce([keyed[c] == config[c] for c in CONFIG]) & (keyed["character"] == char)
            ]
            values = [(str(d), float(v)) for d, v in zip(sel["dimension"], sel["score"], strict=True)]
            what = "item scores after reverse keying"
        else:
            values = ratings.get((*config.values(), char), [])
            what = "assessor batch ratings"
        if not values:
            continue
        data = [
            {"type": "histogram", "name": name, "x": [v for dd, v in values if dd == d], "xbins": {"size": 1}}
            for d, name in zip(dims, names, strict=True)
            if any(dd == d for dd, _ in values)
        ]
        layout = _layout(
            f"{char} — {config_label(config)}: {what}",
            barmode="group",
            xaxis={"title": {"text": "value"}, "range": [scale.range[0] - 0.5, scale.range[1] + 0.5]},
            yaxis={"title": {"text": "count"}},
        )
        figs.append(Figure("items", f"items {char}", {"data": data, "layout": layout}, config, char))
    return figs


def pca_figures(scores: pd.DataFrame, scales: Mapping[str, Scale]) -> list[Figure]:
    """The characters' mean profiles (label units) on their first two principal
    components, one map per configuration (InCharacter Fig. 3)."""
    figs: list[Figure] = []
    conv = in_label_units(scores, scales)
    if conv.empty:
        return figs
    for key, g in conv.groupby(list(CONFIG), sort=False):
        config = dict(zip(CONFIG, (str(k) for k in key), strict=True))
        profiles = g.pivot_table(
            index="character", columns="dimension", values="score", aggfunc="mean"
        ).dropna()
        if len(profiles) < 3:
            continue  # two points are always on a line: no map to read
        x = profiles.to_numpy() - profiles.to_numpy().mean(axis=0)
        _, sv, vt = np.linalg.svd(x, full_matrices=False)
        coords = x @ vt[:2].T if vt.shape[0] >= 2 else np.c_[x @ vt[:1].T, np.zeros(len(x))]
        explained = [*(sv**2 / max(float((sv**2).sum()), 1e-12))[:2].tolist(), 0.0]
        data = [
            {
                "type": "scatter",
                "mode": "markers+text",
                "x": [num(v) for v in coords[:, 0]],
                "y": [num(v) for v in coords[:, 1]],
                "text": [str(c) for c in profiles.index],
                "textposition": "top center",
                "textfont": {"size": 9},
            }
        ]
        layout = _layout(
            f"PCA of profiles — {config_label(config)}",
            xaxis={"title": {"text": f"PC1 ({explained[0]:.0%})"}},
            yaxis={"title": {"text": f"PC2 ({explained[1]:.0%})"}},
            height=420,
        )
        figs.append(Figure("pca", "PCA", {"data": data, "layout": layout}, config))
    return figs


FAITHFULNESS_COLUMNS = ("TrC", "InC_RB", "InC_alpha", "InC_omega", "human_alpha")


def faithfulness_figures(
    items: pd.DataFrame,
    scores: pd.DataFrame,
    scales: Mapping[str, Scale],
    tables: Mapping[str, pd.DataFrame] | None = None,
) -> list[Figure]:
    """TrC and InC per dimension beside the human reference α (RealBehavior Table 2), per
    character and configuration (item methods only: expert rating has no item values).

    ``tables`` (the experiment's ``faithfulness <character> <scale> <method> <rpa> <assessor>``
    tables, one per character and configuration) are reused: computing them is the slow
    part of a report."""
    figs: list[Figure] = []
    if items.empty:
        return figs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for config, char, g in _by_config_and_character(items):
            if not item_level(config["method"]):
                continue
            mask = np.logical_and.reduce([scores[c] == config[c] for c in CONFIG]) & (
                scores["character"] == char
            )
            key = (char, config["scale"], config["method"], config["rpa_model"], config["assessor_model"])
            name = "faithfulness " + " ".join(key)
            if tables is not None and name in tables:
                table = tables[name].set_index("dimension")
            else:
                table = faithfulness_table(g, scores[mask], scales[config["scale"]])
            cols = [c for c in FAITHFULNESS_COLUMNS if c in table.columns]
            z = [[num(v) for v in row] for row in table[cols].astype(float).to_numpy()]
            data = [
                {
                    "type": "heatmap",
                    "z": z,
                    "x": cols,
                    "y": [str(d) for d in table.index],
                    "zmin": -1,
                    "zmax": 1,
                    "colorscale": "RdYlGn",
                    "text": [["—" if v is None else f"{v:.2f}" for v in row] for row in z],
                    "texttemplate": "%{text}",
                    "hovertemplate": "%{y} %{x}: %{text}<extra></extra>",
                }
            ]
            layout = _layout(f"Faithfulness — {char} — {config_label(config)}", margin={"l": 140, "t": 40})
            figs.append(
                Figure("faithfulness", f"faithfulness {char}", {"data": data, "layout": layout}, config, char)
            )
    return figs


def alignment_figures(alignment: pd.DataFrame | None) -> list[Figure]:
    """Accuracy per dimension, full-profile accuracy and MAE per label source (InCharacter Table 3)."""
    figs: list[Figure] = []
    if alignment is None or alignment.empty:
        return figs
    metrics = [m for m in ("acc_dim", "acc_full", "mae") if m in alignment.columns]
    for key, g in alignment.groupby(list(CONFIG), sort=False):
        config = dict(zip(CONFIG, (str(k) for k in key), strict=True))
        sources = g["labels"] if "labels" in g.columns else pd.Series("labels", index=g.index)
        data = [
            {"type": "bar", "name": str(src), "x": metrics, "y": [num(r[m]) for m in metrics]}
            for src, (_, r) in zip(sources, g.iterrows(), strict=True)
        ]
        layout = _layout(
            f"Alignment with the labels — {config_label(config)}", barmode="group", yaxis={"range": [0, 1]}
        )
        figs.append(Figure("alignment", "alignment", {"data": data, "layout": layout}, config))
    return figs


def norm_figures(tables: Mapping[str, pd.DataFrame], scales: Mapping[str, Scale]) -> list[Figure]:
    """Each character's percentile against the scale's human norms, per configuration."""
    figs: list[Figure] = []
    for name, t in tables.items():
        if not name.startswith("norms ") or t.empty:
            continue
        scale_id = name.removeprefix("norms ")
        for key, g in t.assign(scale=scale_id).groupby(list(CONFIG), sort=False):
            config = dict(zip(CONFIG, (str(k) for k in key), strict=True))
            dims, names = _dim_names(scales[scale_id])
            pivot = g.pivot_table(index="character", columns="dimension", values="percentile", aggfunc="mean")
            pivot = pivot.reindex(columns=[d for d in dims if d in pivot.columns])
            z = [[num(v) for v in row] for row in pivot.to_numpy()]
            data = [
                {
                    "type": "heatmap",
                    "z": z,
                    "x": [names[dims.index(d)] for d in pivot.columns],
                    "y": [str(c) for c in pivot.index],
                    "zmin": 0,
                    "zmax": 100,
                    "colorscale": "RdBu",
                    "hovertemplate": "%{y} %{x}: percentile %{z:.0f}<extra></extra>",
                }
            ]
            height = max(300, 22 * len(pivot) + 120)
            layout = _layout(
                f"Percentile against norms — {config_label(config)}", height=height, margin={"l": 140}
            )
            figs.append(Figure("norms", "norms", {"data": data, "layout": layout}, config))
    return figs


def agreement_tables(scores: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Agreement of assessor models rating the same transcripts, per (scale, method, RPA
    model): units are (character, temperature, trial, dimension)."""
    tables = {}
    for (scale_id, method, rpa), g in scores.groupby(["scale", "method", "rpa_model"]):
        if g["assessor_model"].nunique() < 2:
            continue
        units = g.pivot_table(
            index=["character", "temperature", "trial", "dimension"],
            columns="assessor_model",
            values="score",
            aggfunc="mean",
        )
        tables[f"assessor agreement {scale_id} {method} {rpa}"] = pd.DataFrame(
            [
                {
                    "scale": scale_id,
                    "method": method,
                    "rpa_model": rpa,
                    "assessors": units.shape[1],
                    "units": units.shape[0],
                    "krippendorff_alpha_interval": krippendorff_alpha(units.T.to_numpy(), "interval"),
                    "icc2": icc(units.dropna(), "ICC2"),
                    "icc3": icc(units.dropna(), "ICC3"),
                }
            ]
        )
    return tables


def agreement_figures(scores: pd.DataFrame) -> list[Figure]:
    """Each pair of assessor models' scores of the same transcripts, against each other."""
    figs: list[Figure] = []
    for (scale_id, method, rpa), g in scores.groupby(["scale", "method", "rpa_model"]):
        assessors = sorted(g["assessor_model"].unique())
        if len(assessors) < 2:
            continue
        units = g.pivot_table(
            index=["character", "temperature", "trial", "dimension"],
            columns="assessor_model",
            values="score",
            aggfunc="mean",
        )
        a, b = str(assessors[0]), str(assessors[1])
        data = [
            {
                "type": "scatter",
                "mode": "markers",
                "x": [num(v) for v in units[a]],
                "y": [num(v) for v in units[b]],
                "text": [" ".join(str(p) for p in ix) for ix in units.index],
                "hovertemplate": "%{text}: %{x} / %{y}<extra></extra>",
            }
        ]
        layout = _layout(
            f"Assessor agreement — {scale_id} · {method} · RPA {rpa}",
            xaxis={"title": {"text": a}},
            yaxis={"title": {"text": b}},
        )
        config = {"scale": str(scale_id), "method": str(method), "rpa_model": str(rpa), "assessor_model": "*"}
        figs.append(Figure("agreement", "assessor agreement", {"data": data, "layout": layout}, config))
    return figs


def crs_figure(crs: pd.DataFrame) -> Figure:
    """Criterion scores per dimension and subject (RealBehavior Fig. 5)."""
    data = [
        {
            "type": "bar",
            "name": str(subject),
            "x": [str(d) for d in g["dimension"]],
            "y": [num(v) for v in g["crs"]],
        }
        for subject, g in crs.groupby("subject", sort=False)
    ]
    layout = _layout(
        "Criterion scores of the behaviour test (RealBehavior Fig. 5)",
        barmode="group",
        yaxis={"range": [0, 1]},
    )
    return Figure("crs", "criterion scores", {"data": data, "layout": layout})


def crs_chart(crs: pd.DataFrame, path: Path) -> Path:
    """Criterion scores per dimension and subject as a PNG (the behaviour test's file)."""
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    crs.pivot_table(index="dimension", columns="subject", values="crs").plot.bar(ax=ax)
    ax.set_ylim(0, 1)
    ax.set_ylabel("CrS")
    ax.set_title("Criterion scores per dimension (RealBehavior Fig. 5)", fontsize=9)
    ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# -- sensitivity and drift (personascope.evaluation.sensitivity) ----------------------


def _by_config(table: pd.DataFrame | None) -> Iterable[tuple[dict[str, str], pd.DataFrame]]:
    if table is None or table.empty:
        return
    for key, g in table.groupby(list(CONFIG), sort=True):
        yield dict(zip(CONFIG, (str(k) for k in key), strict=True)), g


def sensitivity_figures(tables: Mapping[str, pd.DataFrame]) -> list[Figure]:
    """Per configuration: the shift each axis value causes (mean paired difference with
    its interval, per dimension); prompt against sampling variance; and each dimension's
    score against its position in a conversation, the isolated baseline dotted."""
    figs: list[Figure] = []
    for config, g in _by_config(tables.get("axis shifts")):
        data = []
        for (axis, value), gv in g.groupby(["axis", "value"], sort=True):
            data.append(
                {
                    "type": "bar",
                    "name": f"{axis}={value}",
                    "x": [str(d) for d in gv["dimension"]],
                    "y": [num(v) for v in gv["shift"]],
                    "error_y": {
                        "type": "data",
                        "symmetric": False,
                        "array": [num(h - m) or 0 for h, m in zip(gv["ci_high"], gv["shift"], strict=True)],
                        "arrayminus": [
                            num(m - lo) or 0 for lo, m in zip(gv["ci_low"], gv["shift"], strict=True)
                        ],
                    },
                }
            )
        layout = _layout(f"{config_label(config)}: score shift vs the default (95% CI)", barmode="group")
        figs.append(Figure("shift", "axis shifts", {"data": data, "layout": layout}, config))
    for name in ("prompt variance", "persona variance"):
        for config, g in _by_config(tables.get(name)):
            dims = [str(d) for d in g["dimension"]]
            data = [
                {"type": "bar", "name": name, "x": dims, "y": [num(v) for v in g[column]]}
                for name, column in (("due to the prompt", "var_prompt"), ("due to sampling", "var_sampling"))
            ]
            layout = _layout(f"{config_label(config)}: {name} (variance components)", barmode="group")
            figs.append(Figure("prompt", name, {"data": data, "layout": layout}, config))
    for config, g in _by_config(tables.get("drift by round")):
        data = []
        for i, (dim, gd) in enumerate(g.groupby("dimension", sort=True)):
            color = PLOTLY_COLORS[i % len(PLOTLY_COLORS)]
            x = [num(v) for v in gd["position"]]
            data.append({"type": "scatter", "mode": "lines+markers", "name": str(dim), "x": x,
                         "y": [num(v) for v in gd["score"]], "line": {"color": color}})  # fmt: skip
            if gd["baseline"].notna().any():
                base = num(gd["baseline"].mean())
                data.append({"type": "scatter", "mode": "lines", "name": f"{dim} isolated", "x": x,
                             "y": [base] * len(x), "line": {"color": color, "dash": "dot"}})  # fmt: skip
        layout = _layout(
            f"{config_label(config)}: score by position in the conversation (dotted: isolated items)",
            xaxis={"title": {"text": "conversation position (turn)"}},
        )
        figs.append(Figure("drift", "drift", {"data": data, "layout": layout}, config))
    return figs


# -- the report ----------------------------------------------------------------------


def read_validity(path: str | Path | None) -> pd.DataFrame | None:
    """A validity study's summary (columns :data:`VALIDITY_COLUMNS`), or ``None`` when
    there is none (the page then says *not measured*)."""
    if path is None or not Path(path).is_file():
        return None
    table = pd.read_csv(path)
    missing = [c for c in VALIDITY_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(path, ", ".join(missing), "validity summary: missing column(s)")
    return table


def build_report(
    scores: pd.DataFrame,
    items: pd.DataFrame,
    records: list[RunRecord],
    labels: pd.DataFrame | None = None,
    crs: pd.DataFrame | None = None,
    validity: pd.DataFrame | None = None,
) -> Report:
    """Every table and figure of an experiment (``labels``: character, scale, dimension,
    score, type [, source]; ``crs``: criterion scores of the behaviour test; ``validity``:
    a validity study's summary — all optional)."""
    report = Report(validity=validity, labels=labels)
    if scores.empty:
        report.notes.append("The experiment has no results yet.")
        return report
    sensitivity = sensitivity_tables(records)
    scores, items, n_variant = baseline_runs(scores, items, records)
    if n_variant:
        report.notes.append(
            f"{n_variant} run(s) vary an experiment axis (item or option order, question style, persona, "
            "conversation): the tables and figures below use the default runs only; the sensitivity "
            "tables (axis shifts, prompt variance, drift) compare the variants with them."
        )
    scales = {str(s): load_scale(str(s)) for s in scores["scale"].unique()}
    report.tables.update(experiment_tables(scores, items, scales, labels, crs))
    report.tables.update(agreement_tables(scores))
    profiles = profile_table(scores, scales, labels, records)
    if not profiles.empty:
        report.tables["profiles"] = profiles
    report.figures += profile_figures(profiles, scales, labels)
    report.figures += temperature_figures(scores, scales)
    report.figures += item_figures(items, records, scales)
    report.figures += pca_figures(scores, scales)
    report.figures += faithfulness_figures(items, scores, scales, report.tables)
    report.figures += alignment_figures(report.tables.get("alignment"))
    report.figures += norm_figures(report.tables, scales)
    report.figures += agreement_figures(scores)
    if crs is not None and not crs.empty:
        report.figures.append(crs_figure(crs))
    report.tables.update(sensitivity)
    report.figures += sensitivity_figures(sensitivity)
    return report


def baseline_runs(
    scores: pd.DataFrame, items: pd.DataFrame, records: Sequence[RunRecord]
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Scores and items of the runs whose axes all hold their defaults, and how many runs
    were left out: a variant would otherwise count as one more trial of its configuration."""
    varied = {r.run_id for r in records if variant_of(r.provenance.parameters)}
    if not varied:
        return scores, items, 0
    keep_items = items[~items["run_id"].isin(varied)] if "run_id" in items.columns else items
    return scores[~scores["run_id"].isin(varied)], keep_items, len(varied)


def experiment_report(
    experiment_dir: str | Path,
    labels: pd.DataFrame | None = None,
    validity: str | Path | None = None,
    records: list[RunRecord] | None = None,
) -> Report:
    """The report of an experiment directory: scores, items, records, any behaviour test
    (``behavior/crs.csv``) and validity study (``validity``, default
    ``<dir>/validity/summary.csv``)."""
    exp = Path(experiment_dir)
    if not results.has_results(exp):
        raise InputError(exp, results.RESULTS_FILE, "no results in this directory (run an experiment first)")
    crs_file = exp / "behavior" / "crs.csv"
    crs = pd.read_csv(crs_file) if crs_file.exists() else None
    scores = results.load(exp)
    report = build_report(
        scores,
        results.load_items(exp),
        records if records is not None else results.run_records(exp),
        labels,
        crs,
        read_validity(validity if validity is not None else exp / VALIDITY_FILE),
    )
    # Beside the scores, how valid each configuration was measured to be (or that it never was).
    report.notes += validity_notes(score_summary(scores), exp)
    return report
