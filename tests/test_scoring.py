"""Scoring against hand-computed examples."""

from __future__ import annotations

import math
from typing import Any

import pytest
from scipy.stats import norm as normal

from personascope.scales import ScoringError, classify_type, load_scale, reverse_key, score_scale
from personascope.scales.schema import Scale
from personascope.scales.scoring import convert_score


def make_scale(scoring: str = "AVG", rng: tuple[int, int] = (1, 5), **extra: Any) -> Scale:
    """Two dimensions: X = items a(+), b(-), c(+); Y = items d(-), e(+)."""
    low, high = rng
    data: dict[str, Any] = {
        "id": "toy",
        "name": "Toy",
        "scoring": scoring,
        "range": list(rng),
        "response_options": [{"value": v, "label": str(v)} for v in range(low, high + 1)],
        "dimensions": [{"id": "X", "name": "X"}, {"id": "Y", "name": "Y"}],
        "items": [
            {"id": "a", "text": "a", "dimension": "X", "key": "+"},
            {"id": "b", "text": "b", "dimension": "X", "key": "-"},
            {"id": "c", "text": "c", "dimension": "X", "key": "+"},
            {"id": "d", "text": "d", "dimension": "Y", "key": "-"},
            {"id": "e", "text": "e", "dimension": "Y", "key": "+"},
        ],
    }
    data.update(extra)
    return Scale.model_validate(data)


def test_reverse_key() -> None:
    assert [reverse_key(x, 1, 5) for x in (1, 2, 3, 4, 5)] == [5, 4, 3, 2, 1]
    assert [reverse_key(x, 0, 3) for x in (0, 1, 3)] == [3, 2, 0]
    assert reverse_key(2, 1, 7) == 6


def test_avg_with_reverse_keys() -> None:
    # X: a=5, b=2 -> 4, c=3  => mean (5+4+3)/3 = 4.0 ; Y: d=1 -> 5, e=4 => 4.5
    s = score_scale(make_scale("AVG"), {"a": 5, "b": 2, "c": 3, "d": 1, "e": 4})
    assert s.as_dict() == {"X": 4.0, "Y": 4.5}
    assert s.dimensions["X"].type == "H"


def test_sum_with_reverse_keys() -> None:
    s = score_scale(make_scale("SUM"), {"a": 5, "b": 2, "c": 3, "d": 1, "e": 4})
    assert s.as_dict() == {"X": 12.0, "Y": 9.0}
    # SUM bounds for X are 3..15, midpoint 9: 12 is H; Y bounds 2..10, midpoint 6: 9 is H.
    assert s.dimensions["X"].item_mean == 4.0


def test_sum_and_avg_differ_by_item_count() -> None:
    answers = {"a": 1, "b": 5, "c": 1, "d": 5, "e": 1}
    assert score_scale(make_scale("AVG"), answers).as_dict() == {"X": 1.0, "Y": 1.0}
    assert score_scale(make_scale("SUM"), answers).as_dict() == {"X": 3.0, "Y": 2.0}


def test_zero_valued_options() -> None:
    # EPQ-R style 0/1 answers: reverse of 0 is 1.
    s = score_scale(make_scale("SUM", rng=(0, 1)), {"a": 1, "b": 0, "c": 0, "d": 0, "e": 0})
    assert s.as_dict() == {"X": 2.0, "Y": 1.0}
    s = score_scale(make_scale("AVG", rng=(0, 4)), {"a": 0, "b": 4, "c": 0, "d": 4, "e": 0})
    assert s.as_dict() == {"X": 0.0, "Y": 0.0}
    assert s.dimensions["X"].type == "L"


def test_percent_mode_16p_style() -> None:
    # 1..7 options. X: a=7, b=1 -> 7, c=4 => mean 6 => (6-1)/6*100 = 83.333...
    s = score_scale(make_scale("PERCENT", rng=(1, 7)), {"a": 7, "b": 1, "c": 4, "d": 4, "e": 4})
    assert math.isclose(s.as_dict()["X"] or 0, 500 / 6)
    assert s.as_dict()["Y"] == 50.0
    assert s.dimensions["Y"].type == "X"
    assert s.dimensions["X"].type == "H"


def test_missing_answers_stay_missing() -> None:
    scale = make_scale("SUM")
    # One of three X items missing (1/3 > 0.2) => X missing; never a midpoint.
    s = score_scale(scale, {"a": 5, "b": None, "d": 1, "e": 4})
    x = s.dimensions["X"]
    assert x.score is None and x.type is None
    assert x.missing == ["b", "c"] and x.n_answered == 1
    assert s.dimensions["Y"].score == 9.0


def test_missing_tolerated_is_prorated_for_sum_and_mean_for_avg() -> None:
    answers = {"a": 5, "b": 2, "c": None, "d": 1, "e": 4}
    s = score_scale(make_scale("SUM"), answers, max_missing=0.34)
    # Answered keyed X: 5, 4 -> mean 4.5, prorated to 3 items = 13.5
    assert s.dimensions["X"].score == 13.5 and s.dimensions["X"].prorated
    s = score_scale(make_scale("AVG"), answers, max_missing=0.34)
    assert s.dimensions["X"].score == 4.5 and not s.dimensions["X"].prorated


def test_all_missing() -> None:
    s = score_scale(make_scale("AVG"), {})
    assert s.as_dict() == {"X": None, "Y": None}


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"zz": 3}, "not an item"),
        ({"a": 6}, "outside the scale range"),
        ({"a": 0}, "outside the scale range"),
        ({"a": "3"}, "expected a number"),
        ({"a": True}, "expected a number"),
        ({"a": float("nan")}, "expected a number"),
    ],
)
def test_bad_answers(answers: dict[str, Any], message: str) -> None:
    with pytest.raises(ScoringError, match=message):
        score_scale(make_scale(), answers)


def test_classify_type_band() -> None:
    assert classify_type(3.0, 1, 5) == "X"
    assert classify_type(3.01, 1, 5) == "H"
    assert classify_type(2.99, 1, 5) == "L"
    # band 0.1 of span 4 = 0.4 either side of 3
    assert classify_type(3.4, 1, 5, band=0.1) == "X"
    assert classify_type(3.41, 1, 5, band=0.1) == "H"
    assert classify_type(2.59, 1, 5, band=0.1) == "L"
    with pytest.raises(ValueError, match="band"):
        classify_type(3, 1, 5, band=0.5)


def test_norm_scores_hand_computed() -> None:
    norms = [
        {
            "dimension": "X",
            "population": "P",
            "mean": 3.0,
            "sd": 0.5,
            "n": 100,
            "metric": "AVG",
            "source": "test",
        },
        {"dimension": "X", "population": "Q", "mean": 9.0, "sd": 2.0, "metric": "SUM", "source": "test"},
    ]
    s = score_scale(make_scale("AVG", norms=norms), {"a": 5, "b": 2, "c": 3, "d": 3, "e": 3})
    p, q = s.dimensions["X"].norms
    # AVG 4.0 vs mean 3, sd .5: z = 2, T = 70
    assert (p.z, p.t) == (2.0, 70.0)
    assert math.isclose(p.percentile, 100 * normal.cdf(2.0))
    assert math.isclose(p.percentile, 97.72498680518208)
    # converted to SUM: 12 vs 9, sd 2 -> z = 1.5
    assert math.isclose(q.z, 1.5) and math.isclose(q.t, 65.0)


def test_convert_score_roundtrip() -> None:
    from personascope.scales.schema import ScoringMode as M

    for src in M:
        for dst in M:
            x = convert_score(3.5, M.AVG, src, n_items=8, low=1, high=5)
            y = convert_score(x, src, dst, n_items=8, low=1, high=5)
            assert math.isclose(convert_score(y, dst, M.AVG, n_items=8, low=1, high=5), 3.5)


def test_builtin_neo_scoring_and_norms() -> None:
    neo = load_scale("ipip-neo-120")
    # Everybody answers 3 (neutral) => each domain sums to 24 * 3 = 72 regardless of keys.
    s = score_scale(neo, {i.id: 3 for i in neo.items})
    assert set(s.as_dict().values()) == {72.0}
    # Answer 5 to every item: plus-keyed items give 5, minus-keyed give 1.
    s5 = score_scale(neo, {i.id: 5 for i in neo.items})
    plus = sum(1 for i in neo.items_of("neuroticism") if i.key == "+")
    assert plus == 17  # Johnson 2014: 17 + / 7 - for N in the 120-item version
    assert s5.as_dict()["neuroticism"] == plus * 5 + (24 - plus) * 1
    first_norm = s.dimensions["neuroticism"].norms[0]
    assert first_norm.population.startswith("male, age <=20")
    assert math.isclose(first_norm.z, (72 - 67.84) / 15.83)
