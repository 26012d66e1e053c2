"""InCharacter alignment metrics on the reference labels (pdb as predictions of annotation)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from personascope.evaluation.alignment import (
    assessor_agreement,
    measured_alignment,
    personality_consistency,
)


def _frames(reference: Path, scale: str, chars: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    data = json.loads((reference / "incharacter/characters_labels.json").read_text())
    rows = {"annotation": [], "pdb": []}  # type: dict[str, list[dict[str, object]]]
    for source in rows:
        for char, scales in data[source].items():
            if chars and char not in chars:
                continue
            for dim, v in scales[scale].items():
                rows[source].append(
                    {"character": char, "dimension": dim, "score": v["score"], "type": v["type"]}
                )
    return pd.DataFrame(rows["pdb"]), pd.DataFrame(rows["annotation"])


def test_bfi_two_characters_by_hand(reference: Path) -> None:
    pred, labels = _frames(reference, "BFI", ["Hermione-en", "Sheldon-en"])
    out = measured_alignment(pred, labels, low=1, high=5)
    # Hermione: E, C, N scored (A, O are X) and all right; Sheldon: E, A, C, N right (O is X).
    assert out["n_dim"] == 7 and out["acc_dim"] == 1.0 and out["acc_full"] == 1.0
    # X pairs are skipped for MAE too: |pred - label| over the 7 scored pairs sums to 2.422
    # (3-decimal values: Hermione .391 .069 .099; Sheldon .982 .667 .107 .107), / 7 / span 4
    assert abs(out["mae"] - 2.422 / 7 / 4) < 1e-4


def test_16p_two_characters_by_hand(reference: Path) -> None:
    pred, labels = _frames(reference, "16Personalities", ["Hermione-en", "Sheldon-en"])
    out = measured_alignment(pred, labels, low=0, high=100)
    # Sheldon's S/N: label L (5.556), pdb 56.736 > 50 -> H: the only miss.
    assert out["n_dim"] == 8 and out["acc_dim"] == 7 / 8 and out["acc_full"] == 0.5
    assert abs(out["mae"] - 107.163 / 8 / 100) < 1e-4
    per_char = out["per_character"]
    assert bool(per_char.loc["Sheldon-en", "full_correct"]) is False


def test_all_32_characters_run(reference: Path) -> None:
    for scale, (low, high) in {"BFI": (1, 5), "16Personalities": (0, 100)}.items():
        pred, labels = _frames(reference, scale)
        out = measured_alignment(pred, labels, low=low, high=high)
        assert out["n_characters"] == 32
        assert 0.5 < out["acc_dim"] <= 1.0
        assert 0 <= out["mae"] < 0.5


def test_labels_must_be_valid() -> None:
    labels = pd.DataFrame([{"character": "a", "dimension": "E", "score": 3, "type": "Q"}])
    with pytest.raises(ValueError, match=r"labels\.type"):
        measured_alignment(labels, labels, low=1, high=5)


def test_assessor_agreement_against_scipy() -> None:
    p = np.array([1, 2, 3, 4, 5, 3, 2, np.nan])
    h = np.array([1, 3, 3, 2, 5, 4, 2, 4])
    out = assessor_agreement(p, h)
    # |diff| < 1 is correct (InCharacter Table 1): items 0, 2, 4, 6 -> 4 of the 7 complete pairs
    assert math.isclose(out["accuracy"], 4 / 7)
    ok = ~np.isnan(p)
    assert abs(out["pearson"] - stats.pearsonr(p[ok], h[ok])[0]) < 1e-12
    assert abs(out["spearman"] - stats.spearmanr(p[ok], h[ok])[0]) < 1e-12
    assert abs(out["kendall"] - stats.kendalltau(p[ok], h[ok])[0]) < 1e-12


def test_personality_consistency_by_hand() -> None:
    rows = []
    # dimension D, items a, b; trial 0: a=1, b=3 ; trial 1: a=3, b=3
    for trial, (a, b) in enumerate([(1, 3), (3, 3)]):
        rows += [
            {"dimension": "D", "item": "a", "trial": trial, "score": a},
            {"dimension": "D", "item": "b", "trial": trial, "score": b},
        ]
    out = personality_consistency(pd.DataFrame(rows), low=1, high=5)
    # std_item: a -> pop sd(1,3)=1, b -> 0 ; mean .5 / 4
    assert math.isclose(out["std_item"], 0.5 / 4)
    # std_dim: trial0 sd(1,3)=1, trial1 sd(3,3)=0 ; mean .5 / 4
    assert math.isclose(out["std_dim"], 0.5 / 4)
    # std_score: dim means 2, 3 -> pop sd .5 ; / 4
    assert math.isclose(out["std_score"], 0.5 / 4)


def test_labels_for_unknown_dimensions_warn() -> None:
    from personascope.evaluation.reliability import ReliabilityWarning

    labels = pd.DataFrame(
        [
            {"character": "a", "dimension": "E", "score": 4.0, "type": "H"},
            {"character": "a", "dimension": "Charm", "score": 5.0, "type": "H"},
        ]
    )
    pred = pd.DataFrame([{"character": "a", "dimension": "E", "score": 4.5}])
    with pytest.warns(ReliabilityWarning, match=r"1 label\(s\) have no prediction.*Charm"):
        out = measured_alignment(pred, labels, low=1, high=5)
    assert out["n_dim"] == 1 and out["acc_dim"] == 1.0
