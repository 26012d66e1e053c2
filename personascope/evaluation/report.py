"""Reports: figures (PNG) and one self-contained HTML page from an experiment's results.

Figures: per-character radar charts; dimension scores with error bars across
temperatures (RealBehavior Fig. 2); item score distributions (RB Fig. 3); a PCA map
of all profiles (InCharacter Fig. 3); faithfulness heatmaps (RB Table 2). Tables:
every table of :mod:`personascope.evaluation.tables` (scores, alignment, consistency,
faithfulness, external and behavioural consistency, norms) and assessor agreement.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: files only
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from personascope import results
from personascope.errors import InputError
from personascope.evaluation.reliability import icc, krippendorff_alpha
from personascope.evaluation.tables import experiment_tables
from personascope.evaluation.tables import item_level as _item_level
from personascope.records import RunRecord
from personascope.scales import Scale, load_scale
from personascope.scales.scoring import keyed_value


@dataclass
class Report:
    """What a report contains: figures (name → PNG path) and tables (name → DataFrame)."""

    figures: dict[str, Path] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _normalised(scores: pd.DataFrame, scales: dict[Any, Scale]) -> pd.Series:
    lo = [scales[s].score_bounds(d)[0] for s, d in zip(scores["scale"], scores["dimension"], strict=True)]
    hi = [scales[s].score_bounds(d)[1] for s, d in zip(scores["scale"], scores["dimension"], strict=True)]
    norm = (scores["score"].astype(float).to_numpy() - np.array(lo)) / (np.array(hi) - np.array(lo))
    return pd.Series(norm, index=scores.index)


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def radar_charts(scores: pd.DataFrame, scales: dict[Any, Scale], out: Path) -> dict[str, Path]:
    figs = {}
    df = scores.assign(norm=_normalised(scores, scales))
    for (char, scale_id), g in df.groupby(["character", "scale"]):
        dims = [d.id for d in scales[scale_id].dimensions]
        angles = np.linspace(0, 2 * np.pi, len(dims), endpoint=False).tolist()
        fig = plt.figure(figsize=(5, 5))
        ax = fig.add_subplot(projection="polar")
        for method, gm in g.groupby("method"):
            values = [gm.loc[gm["dimension"] == d, "norm"].mean() for d in dims]
            closed = [*values, values[0]]
            ax.plot([*angles, angles[0]], closed, label=str(method))
            ax.fill([*angles, angles[0]], closed, alpha=0.15)
        ax.set_xticks(angles)
        ax.set_xticklabels([scales[scale_id].dimension_map[d].name for d in dims], fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(f"{char} — {scale_id}", fontsize=10)
        ax.legend(loc="lower right", fontsize=7)
        figs[f"radar_{char}_{scale_id}"] = _save(fig, out / f"radar_{_slug(char)}_{scale_id}.png")
    return figs


def temperature_bars(scores: pd.DataFrame, scales: dict[Any, Scale], out: Path) -> dict[str, Path]:
    figs = {}
    for (char, scale_id, method), g in scores.groupby(["character", "scale", "method"]):
        dims = [d.id for d in scales[scale_id].dimensions]
        temps = sorted(g["temperature"].unique())
        fig, ax = plt.subplots(figsize=(7, 3.5))
        width = 0.8 / max(1, len(temps))
        for k, t in enumerate(temps):
            gt = g[g["temperature"] == t]
            means = [gt.loc[gt["dimension"] == d, "score"].astype(float).mean() for d in dims]
            sds = [gt.loc[gt["dimension"] == d, "score"].astype(float).std(ddof=0) for d in dims]
            ax.bar(
                np.arange(len(dims)) + k * width,
                means,
                width,
                yerr=np.nan_to_num(sds),
                capsize=3,
                label=f"T={t:g}",
            )
        ax.set_xticks(np.arange(len(dims)) + width * (len(temps) - 1) / 2)
        ax.set_xticklabels([scales[scale_id].dimension_map[d].name for d in dims], fontsize=8)
        lo, hi = scales[scale_id].score_bounds(dims[0])
        ax.set_ylim(lo, hi)
        ax.axhline((lo + hi) / 2, color="grey", lw=0.8, ls="--")
        ax.set_title(f"{char} — {scale_id} — {method}: mean ± SD over trials", fontsize=9)
        ax.legend(fontsize=7)
        figs[f"bars_{char}_{scale_id}_{method}"] = _save(
            fig, out / f"bars_{_slug(char)}_{scale_id}_{method}.png"
        )
    return figs


def item_distributions(
    items: pd.DataFrame, records: list[RunRecord], scales: dict[Any, Scale], out: Path
) -> dict[str, Path]:
    figs = {}
    for (char, scale_id, method), g in items.groupby(["character", "scale", "method"]):
        scale = scales[scale_id]
        dims = [d.id for d in scale.dimensions]
        if _item_level(str(method)):
            low, high = scale.range
            items_by_id = scale.item_map
            keyed = [
                keyed_value(items_by_id[i], float(v), low, high)
                for i, v in zip(g["item_id"], g["value"], strict=True)
                if v is not None and np.isfinite(v) and i in items_by_id
            ]
            g = g.assign(keyed=np.nan)
            mask = [
                v is not None and np.isfinite(v) and i in items_by_id
                for i, v in zip(g["item_id"], g["value"], strict=True)
            ]
            g.loc[mask, "keyed"] = keyed
            data = [g.loc[g["dimension"] == d, "keyed"].dropna().astype(float).to_numpy() for d in dims]
            what = "item scores after reverse keying"
        else:
            ratings = [
                r
                for rec in records
                if rec.character == char and rec.scale == scale_id and rec.method == method
                for r in rec.dimension_ratings
            ]
            data = [
                np.array(
                    [r["score"] for r in ratings if r["dimension"] == d and r["score"] is not None],
                    dtype=float,
                )
                for d in dims
            ]
            what = "assessor batch ratings"
        if not any(len(x) for x in data):
            continue
        fig, ax = plt.subplots(figsize=(7, 3.5))
        bins = np.arange(scale.range[0] - 0.5, scale.range[1] + 1.5, 1.0).tolist()
        shown = [(scale.dimension_map[d].name, x) for d, x in zip(dims, data, strict=True) if len(x)]
        ax.hist([x for _, x in shown], bins=bins, label=[n for n, _ in shown])  # grouped bars
        ax.set_xlabel("value")
        ax.set_ylabel("count")
        ax.set_title(f"{char} — {scale_id} — {method}: {what}", fontsize=9)
        ax.legend(fontsize=7)
        figs[f"items_{char}_{scale_id}_{method}"] = _save(
            fig, out / f"items_{_slug(char)}_{scale_id}_{method}.png"
        )
    return figs


def pca_map(scores: pd.DataFrame, scales: dict[Any, Scale], out: Path) -> dict[str, Path]:
    figs = {}
    df = scores.assign(norm=_normalised(scores, scales))
    for scale_id, g in df.groupby("scale"):
        profiles = g.pivot_table(
            index=["character", "method", "rpa_model"], columns="dimension", values="norm", aggfunc="mean"
        ).dropna()
        if len(profiles) < 2:
            continue
        x = profiles.to_numpy() - profiles.to_numpy().mean(axis=0)
        _, sv, vt = np.linalg.svd(x, full_matrices=False)
        coords = x @ vt[:2].T if vt.shape[0] >= 2 else np.c_[x @ vt[:1].T, np.zeros(len(x))]
        explained = (sv**2 / max((sv**2).sum(), 1e-12))[:2]
        fig, ax = plt.subplots(figsize=(6, 5))
        ax.scatter(coords[:, 0], coords[:, 1])
        for (char, method, _), (cx, cy) in zip(profiles.index, coords, strict=True):
            ax.annotate(f"{char} ({method})", (cx, cy), fontsize=7)
        ax.set_xlabel(f"PC1 ({explained[0]:.0%})")
        ax.set_ylabel(f"PC2 ({explained[1] if len(explained) > 1 else 0:.0%})")
        ax.set_title(f"PCA of profiles — {scale_id}", fontsize=10)
        figs[f"pca_{scale_id}"] = _save(fig, out / f"pca_{scale_id}.png")
    return figs


def faithfulness_heatmaps(tables: dict[str, pd.DataFrame], out: Path) -> dict[str, Path]:
    figs = {}
    for name, t in tables.items():
        cols = [c for c in t.columns if c not in ("runs", "items")]
        values = t[cols].astype(float).to_numpy()
        fig, ax = plt.subplots(figsize=(1.2 * len(cols) + 2, 0.5 * len(t) + 1.5))
        im = ax.imshow(values, vmin=-1, vmax=1, cmap="RdYlGn", aspect="auto")
        ax.set_xticks(range(len(cols)))
        ax.set_xticklabels(cols, fontsize=8, rotation=30)
        ax.set_yticks(range(len(t)))
        ax.set_yticklabels(t.index, fontsize=8)
        for i in range(values.shape[0]):
            for j in range(values.shape[1]):
                v = float(values[i, j])
                ax.text(j, i, "—" if not np.isfinite(v) else f"{v:.2f}", ha="center", va="center", fontsize=7)
        fig.colorbar(im, ax=ax)
        ax.set_title(f"Faithfulness — {name}", fontsize=9)
        figs[f"faithfulness_{name}"] = _save(fig, out / f"faithfulness_{_slug(name)}.png")
    return figs


def _slug(text: Any) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in Path(str(text)).stem)


def build_report(
    scores: pd.DataFrame,
    items: pd.DataFrame,
    records: list[RunRecord],
    out_dir: Path,
    labels: pd.DataFrame | None = None,
    crs: pd.DataFrame | None = None,
) -> Report:
    """Compute every table and figure of an experiment (``labels``: character, scale,
    dimension, score, type; ``crs``: criterion scores of the behaviour test — both optional)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report = Report()
    if scores.empty:
        report.notes.append("The experiment has no results yet.")
        return report
    scales = {s: load_scale(s) for s in scores["scale"].unique()}
    report.tables.update(experiment_tables(scores, items, scales, labels, crs))
    for (scale_id, method), g in scores.groupby(["scale", "method"]):
        if g["assessor_model"].nunique() < 2:
            continue
        # Same transcripts (same RPA, temperature, trial) rated by several assessor models.
        units = g.pivot_table(
            index=["character", "rpa_model", "temperature", "trial", "dimension"],
            columns="assessor_model",
            values="score",
            aggfunc="mean",
        )
        report.tables[f"assessor agreement {scale_id} {method}"] = pd.DataFrame(
            [
                {
                    "assessors": units.shape[1],
                    "units": units.shape[0],
                    "krippendorff_alpha_interval": krippendorff_alpha(units.T.to_numpy(), "interval"),
                    "icc2": icc(units.dropna(), "ICC2"),
                    "icc3": icc(units.dropna(), "ICC3"),
                }
            ]
        )
    report.figures.update(radar_charts(scores, scales, out_dir))
    report.figures.update(temperature_bars(scores, scales, out_dir))
    report.figures.update(item_distributions(items, records, scales, out_dir))
    report.figures.update(pca_map(scores, scales, out_dir))
    faith = {
        k.removeprefix("faithfulness "): t.set_index("dimension")
        for k, t in report.tables.items()
        if k.startswith("faithfulness ")
    }
    report.figures.update(faithfulness_heatmaps(faith, out_dir))
    return report


def experiment_report(
    experiment_dir: str | Path, out_dir: Path, labels: pd.DataFrame | None = None
) -> Report:
    """The report of an experiment directory (scores, items, records and any behaviour test)."""
    exp = Path(experiment_dir)
    if not results.has_results(exp):
        raise InputError(exp, results.RESULTS_FILE, "no results in this directory (run an experiment first)")
    crs_file = exp / "behavior" / "crs.csv"
    crs = pd.read_csv(crs_file) if crs_file.exists() else None
    return build_report(
        results.load(exp), results.load_items(exp), results.run_records(exp), out_dir, labels, crs
    )


def crs_chart(crs: pd.DataFrame, path: Path) -> Path:
    """Criterion scores per dimension and subject (RealBehavior Fig. 5)."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    crs.pivot_table(index="dimension", columns="subject", values="crs").plot.bar(ax=ax)
    ax.set_ylim(0, 1)
    ax.set_ylabel("CrS")
    ax.set_title("Criterion scores per dimension (RealBehavior Fig. 5)", fontsize=9)
    ax.legend(fontsize=6)
    return _save(fig, path)


def write_html(report: Report, path: Path, title: str) -> Path:
    """One self-contained page: figures inlined as base64 PNG, tables as HTML."""
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:"
        "collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px}img{max-width:100%}"
        "</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    parts += [f"<p>{html.escape(n)}</p>" for n in report.notes]
    for name, table in report.tables.items():
        parts.append(f"<h2>{html.escape(name)}</h2>")
        parts.append(table.to_html(index=False, float_format=lambda x: f"{x:.3f}", na_rep="—"))
    parts.append("<h2>Figures</h2>")
    for name, fig in report.figures.items():
        data = base64.b64encode(fig.read_bytes()).decode()
        parts.append(
            f"<figure id='{html.escape(name)}'><img alt='{html.escape(name)}' "
            f"src='data:image/png;base64,{data}'><figcaption>{html.escape(name)}</figcaption></figure>"
        )
    parts.append("</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
