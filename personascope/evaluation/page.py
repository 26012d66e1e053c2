"""One self-contained, interactive HTML page of an experiment: what people read.

The page holds an overview (runs, methods, models, failures, the validity of each
configuration), per character the measured profile beside the labels with each
dimension's confidence, a run viewer (every item's question, retrieved memories,
answer, the assessor's analysis and score, flags and failures, filterable, every score
linked to the items behind it), the figures of :mod:`personascope.evaluation.report`
as Plotly charts, and every table.

Self-contained: no network at view time. Plotly's ``plotly.min.js`` (from the
``plotly`` package) and the page's data are embedded gzip-compressed and base64
encoded, and inflated by the browser's ``DecompressionStream``: the raw library alone
is 4.8 MB, compressed 1.9 MB, which is what keeps a 32-character experiment under
5 MB. Texts that repeat (a question asked in every run, a memory retrieved for many
questions, an answer shared by two methods through the cache) are stored once.
"""

from __future__ import annotations

import base64
import functools
import gzip
import importlib.util
import json
import re
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from personascope import __version__
from personascope.errors import ConfigurationError
from personascope.evaluation.report import (
    CONFIG,
    VALIDITY_COLUMNS,
    Report,
    config_label,
    experiment_report,
    item_confidences,
    num,
)
from personascope.records import RunRecord
from personascope.safeio import TRUNCATION_NOTE
from personascope.scales import load_scale

ASSETS = Path(__file__).with_name("html")
_TRUNCATED = re.compile(
    re.escape(TRUNCATION_NOTE.split("{")[0].lstrip("\n")).replace(r"\ ", " ")
    + r"\d+ characters, limit \d+\]\s*$"
)


@functools.cache
def plotly_js() -> bytes:
    """The text of ``plotly.min.js`` from the installed ``plotly`` package (found, not
    imported: the package's Python side is not needed)."""
    spec = importlib.util.find_spec("plotly")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for loc in locations:
        path = Path(loc) / "package_data" / "plotly.min.js"
        if path.is_file():
            return path.read_bytes()
    raise ConfigurationError(
        "the report page needs plotly.min.js from the 'plotly' package: pip install plotly "
        "(scripts/setup.sh installs it)"
    )


@functools.cache
def _packed_plotly() -> str:
    return _pack(plotly_js())


def _pack(data: bytes) -> str:
    # mtime=0: the same input gives the same page, byte for byte.
    return base64.b64encode(gzip.compress(data, compresslevel=9, mtime=0)).decode("ascii")


class _Strings:
    """Texts stored once in the page, referred to by index."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self._index: dict[str, int] = {}

    def __call__(self, text: str | None) -> int | None:
        if text is None:
            return None
        found = self._index.get(text)
        if found is None:
            found = self._index[text] = len(self.texts)
            self.texts.append(text)
        return found


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, str | bool) or x is None:
        return x
    if isinstance(x, int | float):
        return num(x) if isinstance(x, float) else x
    try:
        return num(x) if not isinstance(x, str) and float(x) == float(x) else None
    except (TypeError, ValueError):
        return str(x)


def _table(frame: pd.DataFrame) -> dict[str, Any]:
    rows = frame.astype(object).where(frame.notna(), None).to_numpy().tolist()
    return {"columns": [str(c) for c in frame.columns], "rows": _jsonable(rows)}


def _batches(rec: RunRecord, s: _Strings) -> list[dict[str, Any]]:
    """Every assessor call of a run (OC batch, expert rating of a batch, self-report)."""
    out: list[dict[str, Any]] = []
    for o in rec.assessor_outputs:
        output = dict(o.get("output") or {})
        choices = output.pop("choices", None)
        analysis = o.get("analysis") or output.pop("analysis", None)
        out.append(
            {
                "kind": o.get("kind"),
                "dim": o.get("dimension"),
                "ids": list(o.get("item_ids") or o.get("ids") or []),
                "score": num(o.get("score")),
                "analysis": s(str(analysis)) if analysis else None,
                "error": s(o.get("error")),
                "attempts": o.get("attempts"),
                "choices": {str(c.get("id")): c.get("choice") for c in choices if isinstance(c, dict)}
                if isinstance(choices, list)
                else None,
                "other": s(json.dumps(_jsonable(output), ensure_ascii=False)) if output else None,
                "parsed": o.get("parsed"),
                "fallback": o.get("fallback_to_oc"),
            }
        )
    if rec.dimension_ratings and not any(b["kind"] == "er" for b in out):
        # Older records kept expert ratings in dimension_ratings only.
        out += [
            {
                "kind": "er",
                "dim": r["dimension"],
                "ids": list(r["item_ids"]),
                "score": num(r["score"]),
                "analysis": s(r["analysis"]),
                "error": s(r["error"]),
                "attempts": r["attempts"],
            }
            for r in rec.dimension_ratings
        ]
    return out


def _run(i: int, rec: RunRecord, cfg: int, s: _Strings) -> dict[str, Any]:
    questions = {q["item_id"]: q for q in rec.questions}
    confidence = item_confidences(rec)
    flags: dict[str, list[str]] = {f["item_id"]: list(f["signals"]) for f in rec.flags}
    distributions = getattr(rec, "item_distributions", None) or {}
    items = []
    for a in rec.transcript:
        q = questions.get(a["item_id"])
        answer = a.get("answer")
        truncated = bool(answer and _TRUNCATED.search(answer[-120:]))
        items.append(
            {
                "id": a["item_id"],
                "d": a["dimension"],
                "st": s(q["statement"]) if q else None,
                "key": q["key"] if q else None,
                "q": s(a["question"]),
                "a": s(answer),
                "m": [s(m) for m in a["memories"]] if "memories" in a else None,
                "e": s(a.get("error")),
                "ek": a.get("error_kind"),
                "sec": num(a.get("seconds")),
                "v": num(rec.item_values.get(a["item_id"])),
                "c": confidence.get(a["item_id"]),
                "dist": _jsonable(distributions.get(a["item_id"])),
                "fl": flags.get(a["item_id"], []),
                "tr": truncated,
            }
        )
    failures = [
        {
            "stage": f["stage"],
            "item": f["item_id"],
            "dim": f["dimension"],
            "kind": f["kind"],
            "reason": s(f["reason"]),
        }
        for f in rec.failures
    ]
    kinds = Counter(f["kind"] for f in rec.failures)
    scores = {
        d: {k: _jsonable(v.get(k)) for k in ("score", "item_mean", "type", "n_items", "n_failed", "prorated")}
        for d, v in rec.scores.items()
    }
    return {
        "i": i,
        "id": rec.run_id,
        "character": rec.character,
        "scale": rec.scale,
        "method": rec.method,
        "rpa": rec.rpa_model,
        "assessor": rec.assessor_model,
        "interviewer": rec.interviewer_model,
        "cfg": cfg,
        "T": rec.temperature,
        "trial": rec.trial,
        "status": rec.status,
        "finished": rec.finished_at,
        "timings": _jsonable(rec.timings),
        "usage": _jsonable(rec.usage),
        "params": _jsonable(rec.provenance.parameters),
        "version": rec.provenance.personascope_version,
        "scores": scores,
        "items": items,
        "batches": _batches(rec, s),
        "failures": failures,
        "counts": {
            "failures": len(rec.failures),
            # An answer flagged as injection is also a failure of kind injection when not
            # scored: count items, not both records of one item.
            "injection": len(flags.keys() | _failed(rec, "injection")),
            "no_evidence": kinds.get("no_evidence", 0),
            "truncated": sum(1 for it in items if it["tr"]),
        },
    }


def _failed(rec: RunRecord, kind: str) -> set[str]:
    return {f["item_id"] for f in rec.failures if f["kind"] == kind}


def _overview(records: Sequence[RunRecord], runs: list[dict[str, Any]], s: _Strings) -> dict[str, Any]:
    failures: Counter[tuple[str, str]] = Counter()
    examples: dict[tuple[str, str], str] = {}
    for rec in records:
        for f in rec.failures:
            key = (f["stage"], f["kind"] or "—")
            failures[key] += 1
            examples.setdefault(key, f["reason"] or "")

    def values(attr: str) -> list[Any]:
        return sorted({getattr(r, attr) for r in records})

    return {
        "runs": len(records),
        "status": dict(Counter(r.status for r in records)),
        "characters": values("character"),
        "scales": values("scale"),
        "methods": values("method"),
        "rpa_models": values("rpa_model"),
        "assessor_models": values("assessor_model"),
        "interviewer_models": values("interviewer_model"),
        "temperatures": values("temperature"),
        "trials": values("trial"),
        "items": sum(len(r.transcript) for r in records),
        "failures": [
            {"stage": k[0], "kind": k[1], "count": n, "example": s(examples[k])}
            for k, n in failures.most_common()
        ],
        "flags": {k: sum(r["counts"][k] for r in runs) for k in ("injection", "no_evidence", "truncated")},
        "versions": sorted({r.provenance.personascope_version for r in records}),
    }


def _validity(report: Report, configs: list[dict[str, str]]) -> dict[str, Any]:
    """Per configuration of this experiment, the validity study's rows for it."""
    if report.validity is None:
        return {"measured": False, "configs": []}
    v = report.validity
    per_config = []
    for i, c in enumerate(configs):
        mask = pd.Series(True, index=v.index)
        for col in CONFIG:
            mask &= v[col].astype(str) == c[col]
        rows = v.loc[mask, list(VALIDITY_COLUMNS[4:])]
        per_config.append({"cfg": i, "table": _table(rows) if len(rows) else None})
    return {"measured": True, "configs": per_config, "all": _table(v)}


def page_data(report: Report, records: Sequence[RunRecord], title: str, live: bool = False) -> dict[str, Any]:
    """Everything the page shows, as JSON-ready data (see the module docstring)."""
    s = _Strings()
    keys = sorted({(r.scale, r.method, r.rpa_model, r.assessor_model) for r in records})
    configs = [dict(zip(CONFIG, k, strict=True)) for k in keys]
    for c in configs:
        c["label"] = config_label(c)
    cfg_index = {k: i for i, k in enumerate(keys)}
    runs = [
        _run(i, rec, cfg_index[(rec.scale, rec.method, rec.rpa_model, rec.assessor_model)], s)
        for i, rec in enumerate(records)
    ]
    scales = {}
    for scale_id in sorted({r.scale for r in records}):
        scale = load_scale(scale_id)
        scales[scale_id] = {
            "name": scale.name,
            "dims": [[d.id, d.name] for d in scale.dimensions],
            "range": list(scale.range),
        }
    profiles = report.tables.get("profiles", pd.DataFrame())
    profile_rows = []
    for row in profiles.to_dict("records"):
        profile_rows.append(
            {
                "cfg": cfg_index.get(tuple(str(row[c]) for c in CONFIG)),  # type: ignore[arg-type]
                **{
                    k: _jsonable(row[k])
                    for k in (
                        "character",
                        "dimension",
                        "mean",
                        "sd",
                        "ci95",
                        "runs",
                        "low",
                        "high",
                        "type_agreement",
                        "label_score",
                        "label_type",
                        "label_agreement",
                        "item_confidence",
                    )
                },
            }
        )
    figures = []
    for f in report.figures:
        cfg = cfg_index.get(tuple(f.config[c] for c in CONFIG)) if f.config else None  # type: ignore[arg-type]
        figures.append(
            {
                "kind": f.kind,
                "title": f.title,
                "cfg": cfg,
                "config": f.config,
                "character": f.character,
                "spec": _jsonable(f.spec),
            }
        )
    tables = [{"name": name, **_table(t)} for name, t in report.tables.items() if name != "profiles"]
    return {
        "title": title,
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "version": __version__,
        "live": live,
        "notes": report.notes,
        "configs": configs,
        "scales": scales,
        "runs": runs,
        "profiles": profile_rows,
        "figures": figures,
        "tables": tables,
        "overview": _overview(records, runs, s),
        "validity": _validity(report, configs),
        "labels": report.labels is not None and not report.labels.empty,
        "strings": s.texts,
    }


def render_page(data: dict[str, Any]) -> str:
    """The HTML of :func:`page_data`: template, style, script, Plotly and the data inline."""
    template = (ASSETS / "page.html").read_text(encoding="utf-8")
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    parts = {
        "title": _escape(str(data["title"])),
        "css": (ASSETS / "page.css").read_text(encoding="utf-8"),
        "js": (ASSETS / "page.js").read_text(encoding="utf-8"),
        "plotly": _packed_plotly(),
        "data": _pack(payload),
    }
    # One pass over the template: an inlined asset is never searched for placeholders.
    return re.sub(r"\{\{(\w+)\}\}", lambda m: parts[m.group(1)], template)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def experiment_page(
    experiment_dir: str | Path,
    labels: pd.DataFrame | None = None,
    *,
    validity: str | Path | None = None,
    title: str | None = None,
    live: bool = False,
) -> tuple[str, Report]:
    """The page of an experiment directory, and the report it shows."""
    from personascope import results

    exp = Path(experiment_dir)
    records = results.run_records(exp) if results.has_results(exp) else []
    report = experiment_report(exp, labels, validity=validity, records=records)
    name = title or f"personascope report — {exp.resolve().name}"
    return render_page(page_data(report, records, name, live=live)), report


def write_page(html: str, path: str | Path) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out
