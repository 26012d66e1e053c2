"""How valid is the configuration that produced these scores? Said next to them.

A configuration is (scale, method, RPA model, assessor model). Its validity is the pooled
persona recovery of a validity study (``personascope validate``), looked up, first
found first, in:

1. the experiment's own ``<dir>/validity/summary.csv``;
2. the user's index of studies run on this machine (``$PERSONASCOPE_CACHE/validity/index.csv``,
   appended by every ``validate``);
3. the measurements shipped with personascope (``personascope/evaluation/data/validity.csv``:
   the studies behind the README's table, with the date and machine they ran on).

A study whose personas were played by ``rpa:oracle`` validates the assessor and method
only; it is reported as such for any RPA model.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd

#: Below this pooled H/L accuracy a configuration is called not valid enough to interpret.
THRESHOLD = 0.8
ORACLE = "rpa:oracle"
SUMMARY = Path("validity") / "summary.csv"
_KEYS = ["scale", "method", "rpa_model", "assessor_model"]


def user_index() -> Path:
    """Where ``validate`` records every study's pooled rows on this machine."""
    root = os.environ.get("PERSONASCOPE_CACHE") or Path.home() / ".cache" / "personascope"
    return Path(root) / "validity" / "index.csv"


def shipped() -> pd.DataFrame:
    """The measurements that ship with the package (may be empty)."""
    with resources.as_file(resources.files("personascope.evaluation") / "data" / "validity.csv") as path:
        return pd.read_csv(path) if path.exists() else pd.DataFrame()


def record_study(summary: pd.DataFrame, source: str) -> None:
    """Add a study's pooled rows to the user's index (one row per configuration, newest wins)."""
    pooled = summary[summary["dimension"] == "(all)"].assign(source=source)
    if pooled.empty:
        return
    path = user_index()
    path.parent.mkdir(parents=True, exist_ok=True)
    old = pd.read_csv(path) if path.exists() else pd.DataFrame()
    merged = pd.concat([old, pooled], ignore_index=True).drop_duplicates(_KEYS, keep="last")
    tmp = path.with_suffix(".tmp")
    merged.to_csv(tmp, index=False)
    tmp.replace(path)


@dataclass(frozen=True)
class Validity:
    """The pooled recovery that covers a configuration, and where it comes from."""

    hl_accuracy: float
    hl_lo: float
    hl_hi: float
    r: float
    n: int
    source: str
    assessor_only: bool

    @property
    def passes(self) -> bool:
        return self.hl_accuracy >= THRESHOLD


def _tables(experiment_dir: str | Path | None) -> Iterable[tuple[pd.DataFrame, str]]:
    if experiment_dir is not None and (Path(experiment_dir) / SUMMARY).exists():
        yield pd.read_csv(Path(experiment_dir) / SUMMARY), f"study in {Path(experiment_dir) / 'validity'}"
    if user_index().exists():
        yield pd.read_csv(user_index()), "a study run on this machine"
    table = shipped()
    if not table.empty:
        yield table, "measured for personascope (README, validity)"


def lookup(
    scale: str, method: str, rpa_model: str, assessor_model: str, experiment_dir: str | Path | None = None
) -> Validity | None:
    """The validity of a configuration: its own study first, else an oracle study of its
    assessor and method (``assessor_only``), else ``None`` (never measured)."""
    for table, where in _tables(experiment_dir):
        if table.empty or not set(_KEYS) <= set(table.columns):
            continue
        pooled = table[(table.get("dimension", "(all)") == "(all)")]
        for rpa, assessor_only in ((rpa_model, False), (ORACLE, True)):
            hit = pooled[
                (pooled["scale"] == scale)
                & (pooled["method"] == method)
                & (pooled["rpa_model"] == rpa)
                & (pooled["assessor_model"] == assessor_model)
            ]
            if not hit.empty:
                row = hit.iloc[-1]
                source = (
                    str(row["source"]) if "source" in hit.columns and pd.notna(row.get("source")) else where
                )
                r = row["r"] if "r" in hit.columns else row.get("pearson", float("nan"))
                return Validity(
                    hl_accuracy=float(row["hl_accuracy"]),
                    hl_lo=float(row.get("hl_accuracy_lo", float("nan"))),
                    hl_hi=float(row.get("hl_accuracy_hi", float("nan"))),
                    r=float(r),
                    n=int(row.get("n", 0)),
                    source=source,
                    assessor_only=assessor_only,
                )
    return None


def note(
    scale: str, method: str, rpa_model: str, assessor_model: str, experiment_dir: str | Path | None = None
) -> str:
    """One line for a user reading these scores.

    >>> note("nope", "er_batch", "x", "y").startswith("validity: never measured")
    True
    """
    found = lookup(scale, method, rpa_model, assessor_model, experiment_dir)
    config = f"{method} with assessor {assessor_model} and RPA {rpa_model} on {scale}"
    if found is None:
        return (
            f"validity: never measured for {config} — these scores are not validated; run "
            f"`personascope validate --scale {scale} --method {method} --rpa {rpa_model} "
            f"--assessor {assessor_model}`"
        )
    what = "this configuration"
    if found.assessor_only:
        what = "the assessor on unambiguous answers (rpa:oracle)"
    ci = "" if pd.isna(found.hl_lo) else f" [{found.hl_lo:.2f}, {found.hl_hi:.2f}]"
    verdict = (
        "passes" if found.passes else f"BELOW the {THRESHOLD:.0%} threshold: do not interpret these scores"
    )
    if found.assessor_only and rpa_model != ORACLE:
        verdict += f"; the RPA {rpa_model} itself is not validated"
    return (
        f"validity of {what}: persona recovery H/L accuracy {found.hl_accuracy:.2f}{ci}, r {found.r:.2f} "
        f"over {found.n} personas ({found.source}) — {verdict}"
    )
