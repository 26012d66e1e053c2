"""Scores come with the measured validity of the configuration that produced them."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from personascope.evaluation import honesty
from personascope.scales import load_scale, score_scale
from personascope.scales.scoring import option_distribution

ROW = {
    "scale": "ipip-bfm-50",
    "method": "oc_item",
    "rpa_model": "local:smollm2",
    "assessor_model": "local",
    "dimension": "(all)",
    "n": 8,
    "r": 0.91,
    "hl_accuracy": 0.95,
    "hl_accuracy_lo": 0.9,
    "hl_accuracy_hi": 1.0,
}


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSONASCOPE_CACHE", str(tmp_path / "cache"))


def test_never_measured_says_so_and_how_to_measure() -> None:
    line = honesty.note("ipip-bfm-50", "er_all", "local:smollm2", "nobody")
    assert line.startswith("validity: never measured") and "personascope validate" in line


def test_the_experiments_own_study_comes_first(tmp_path: Path) -> None:
    (tmp_path / "exp" / "validity").mkdir(parents=True)
    pd.DataFrame([ROW, {**ROW, "dimension": "extraversion"}]).to_csv(
        tmp_path / "exp" / "validity" / "summary.csv"
    )
    line = honesty.note("ipip-bfm-50", "oc_item", "local:smollm2", "local", tmp_path / "exp")
    assert "H/L accuracy 0.95 [0.90, 1.00]" in line and "passes" in line


def test_a_low_recovery_is_a_warning_and_oracle_studies_cover_the_assessor() -> None:
    honesty.record_study(pd.DataFrame([{**ROW, "rpa_model": "rpa:oracle", "hl_accuracy": 0.55}]), "test")
    line = honesty.note("ipip-bfm-50", "oc_item", "local:qwen", "local")
    assert "the assessor on unambiguous answers" in line and "BELOW the 80% threshold" in line
    # the configuration's own study wins over the oracle one
    honesty.record_study(pd.DataFrame([{**ROW, "rpa_model": "local:qwen"}]), "test")
    assert "validity of this configuration" in honesty.note("ipip-bfm-50", "oc_item", "local:qwen", "local")


def test_score_sd_propagates_item_variances_by_hand() -> None:
    """Ten E items each 50/50 between 4 and 5: Var = .25 each; the SUM's SD is √(10 · .25)."""
    scale = load_scale("ipip-bfm-50")
    items = scale.items_of("extraversion")
    half = option_distribution({1: 0, 2: 0, 3: 0, 4: 0.5, 5: 0.5})
    answers = {i.id: 4.5 for i in items}
    out = score_scale(scale, answers, options_only=False, distributions={i.id: half for i in items})
    ext = out.dimensions["extraversion"]
    assert ext.score_sd == pytest.approx(math.sqrt(10 * 0.25))
    assert ext.confidence == pytest.approx(1 - math.log(2) / math.log(5))
    assert out.dimensions["agreeableness"].score_sd is None  # no answers, no claim
