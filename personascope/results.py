"""The results store: one record per run, with full provenance, in SQLite.

A run is one (character, scale, method, RPA model, assessor model, temperature,
trial). Its record holds the personascope version, model specs and parameters,
prompt template hashes, timings, token counts, every raw answer and assessor
output, every failure with its reason, and the scores.

>>> import personascope.results as results   # doctest: +SKIP
>>> df = results.load("runs/my-experiment")  # one row per run and dimension
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

RESULTS_FILE = "results.sqlite"
_LOCK = threading.Lock()

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    character TEXT NOT NULL,
    scale TEXT NOT NULL,
    method TEXT NOT NULL,
    rpa_model TEXT NOT NULL,
    assessor_model TEXT NOT NULL,
    temperature REAL NOT NULL,
    trial INTEGER NOT NULL,
    status TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    record TEXT NOT NULL
)
"""


def run_id(
    character: str,
    scale: str,
    method: str,
    rpa_model: str,
    assessor_model: str,
    temperature: float,
    trial: int,
) -> str:
    """Stable id of a run; also the LangGraph thread id of its checkpoints."""
    key = json.dumps([character, scale, method, rpa_model, assessor_model, float(temperature), int(trial)])
    slug = f"{character}|{scale}|{method}|t{temperature:g}|{trial}"
    return f"{slug}|{hashlib.sha256(key.encode()).hexdigest()[:12]}"


@contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(_SCHEMA)
        yield conn
        conn.commit()
    finally:
        conn.close()


def write_record(experiment_dir: str | Path, record: dict[str, Any]) -> None:
    """Insert or replace a run's record (idempotent: a re-run writes the same row)."""
    path = Path(experiment_dir) / RESULTS_FILE
    with _LOCK, _connect(path) as conn:
        conn.execute(
            "INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                record["run_id"],
                record["character"],
                record["scale"],
                record["method"],
                record["rpa_model"],
                record["assessor_model"],
                float(record["temperature"]),
                int(record["trial"]),
                record["status"],
                record["finished_at"],
                json.dumps(record, ensure_ascii=False, default=str),
            ),
        )


def load_records(experiment_dir: str | Path) -> list[dict[str, Any]]:
    """Every run record of an experiment, ordered by run id."""
    path = Path(experiment_dir) / RESULTS_FILE
    if not path.exists():
        return []
    with _connect(path) as conn:
        rows = conn.execute("SELECT record FROM runs ORDER BY run_id").fetchall()
    return [json.loads(r[0]) for r in rows]


def load(experiment_dir: str | Path) -> pd.DataFrame:
    """Scores as a DataFrame: one row per run and dimension."""
    rows = []
    for rec in load_records(experiment_dir):
        for dim, s in (rec.get("scores") or {}).items():
            rows.append(
                {
                    "run_id": rec["run_id"],
                    "character": rec["character"],
                    "scale": rec["scale"],
                    "method": rec["method"],
                    "rpa_model": rec["rpa_model"],
                    "assessor_model": rec["assessor_model"],
                    "temperature": rec["temperature"],
                    "trial": rec["trial"],
                    "dimension": dim,
                    "score": s.get("score"),
                    "item_mean": s.get("item_mean"),
                    "type": s.get("type"),
                    "n_items": s.get("n_items"),
                    "n_failed": s.get("n_failed", 0),
                    "status": rec["status"],
                }
            )
    columns = [
        "run_id",
        "character",
        "scale",
        "method",
        "rpa_model",
        "assessor_model",
        "temperature",
        "trial",
        "dimension",
        "score",
        "item_mean",
        "type",
        "n_items",
        "n_failed",
        "status",
    ]
    return pd.DataFrame(rows, columns=columns)


def load_items(experiment_dir: str | Path) -> pd.DataFrame:
    """Item level: one row per run and item with the answer, its value and any failure."""
    rows = []
    for rec in load_records(experiment_dir):
        values = rec.get("item_values") or {}
        for a in rec.get("transcript") or []:
            rows.append(
                {
                    "run_id": rec["run_id"],
                    "character": rec["character"],
                    "scale": rec["scale"],
                    "method": rec["method"],
                    "temperature": rec["temperature"],
                    "trial": rec["trial"],
                    "item_id": a["item_id"],
                    "dimension": a["dimension"],
                    "question": a["question"],
                    "answer": a["answer"],
                    "error": a["error"],
                    "value": values.get(a["item_id"]),
                }
            )
    return pd.DataFrame(rows)


def export(experiment_dir: str | Path, out: str | Path, fmt: str = "csv") -> Path:
    """Export scores (csv, parquet) or full records (jsonl)."""
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "jsonl":
        with target.open("w", encoding="utf-8") as fh:
            for rec in load_records(experiment_dir):
                fh.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
    elif fmt == "csv":
        load(experiment_dir).to_csv(target, index=False)
    elif fmt == "parquet":
        load(experiment_dir).to_parquet(target, index=False)
    else:
        raise ValueError(f"fmt: expected csv, parquet or jsonl, got {fmt!r}")
    return target
