"""External / behavioural consistency and norm placement."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from personascope.evaluation.reliability import ReliabilityWarning
from personascope.evaluation.validity import (
    CONSTRUCT_MAP,
    behavioral_consistency,
    external_consistency,
    norm_table,
)
from personascope.scales import load_scale


def test_external_consistency_with_reversed_pole() -> None:
    rng = np.random.default_rng(3)
    subjects = [f"s{i}" for i in range(12)]
    es = pd.Series(rng.normal(size=12), index=subjects)
    neuro = pd.Series(-es.to_numpy() * 2 + rng.normal(scale=0.3, size=12), index=subjects)
    r = external_consistency(es, neuro, reverse=True)
    assert abs(r - stats.pearsonr(es, -neuro)[0]) < 1e-12 and r > 0.9
    assert ("emotional_stability", "neuroticism", True) in CONSTRUCT_MAP[("ipip-bfm-50", "ipip-neo-120")]


def test_mismatched_subjects_warn_and_too_few_is_nan() -> None:
    a = pd.Series([1.0, 2.0, 3.0, 4.0], index=list("abcd"))
    b = pd.Series([2.0, 4.0, 5.0, 9.0], index=list("abce"))
    with pytest.warns(ReliabilityWarning, match="not in both inputs"):
        r = external_consistency(a, b)
    assert abs(r - stats.pearsonr([1, 2, 3], [2, 4, 5])[0]) < 1e-12
    with pytest.warns(ReliabilityWarning, match="at least 3 shared"):
        assert math.isnan(behavioral_consistency(a.iloc[:2], b.iloc[:2]))
    with pytest.warns(ReliabilityWarning, match="constant"):
        assert math.isnan(behavioral_consistency(a, pd.Series(1.0, index=a.index)))


def test_behavioral_consistency_is_pearson() -> None:
    scale = pd.Series([10.0, 20.0, 30.0, 40.0])
    crs = pd.Series([0.1, 0.35, 0.4, 0.9])
    assert abs(behavioral_consistency(scale, crs) - stats.pearsonr(scale, crs)[0]) < 1e-12


def test_norm_table_hand_derived() -> None:
    scale = load_scale("ipip-bfm-100")
    table = norm_table(pd.Series({"extraversion": 77.09}), scale)
    row = table.iloc[0]
    # ESCS extraversion norm: mean 63.45, sd 13.64 -> z = (77.09 - 63.45) / 13.64 = 1.0
    assert math.isclose(row["z"], 1.0) and math.isclose(row["T"], 60.0)
    assert math.isclose(row["percentile"], 100 * stats.norm.cdf(1.0))
    neo = load_scale("ipip-neo-120")
    both = norm_table(pd.Series({"neuroticism": 72.0}), neo, population="female")
    assert len(both) == 4 and set(both["population"].str.split(",").str[0]) == {"female"}
