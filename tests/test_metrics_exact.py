"""Issue 14: the InCharacter and RealBehavior numbers, exactly.

Each metric is checked three ways: a value derived by hand, a straightforward loop
re-implementation written here from the papers' definitions (independent of the
pandas code under test), and, where the authors published code (InCharacter), its
algorithm's output on the authors' own label file (read from ../shared; skipped when
absent; nothing of it is copied into the project).
"""

from __future__ import annotations

import itertools
import json
import math
import warnings
from collections import Counter
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from personascope.evaluation import (
    BIG_FIVE_CONSTRUCTS,
    CONSTRUCT_MAP,
    REALBEHAVIOR_HUMAN_ALPHA,
    ReliabilityWarning,
    alignment_by_run,
    behavioral_consistency_table,
    consistency_table,
    cronbach_alpha,
    dimension_bounds,
    dimension_info,
    dimension_midpoint,
    external_consistency_table,
    faithfulness_table,
    incharacter_labels,
    internal_consistency,
    majority_vote,
    measured_alignment,
    repeat_alpha,
    scores_in_label_units,
    std_dim,
    std_item,
    std_score,
    test_retest_by_subject,
    test_retest_consistency,
    to_label_units,
)
from personascope.scales import load_scale

BOUNDS = {"BFI": (1.0, 5.0), "16Personalities": (0.0, 100.0)}


# --------------------------------------------------------------------------- InCharacter


def _loop_alignment(
    preds: dict[str, dict[str, list[float]]],
    labels: dict[str, dict[str, dict[str, Any]]],
    skip_labels: dict[str, dict[str, dict[str, Any]]],
    low: float,
    high: float,
) -> dict[str, float]:
    """InCharacter's measured alignment re-derived as plain loops: per repeat, skip a
    dimension whose skip-deciding type is X, pool the rest over characters and
    dimensions, count a character for Acc_full only if something of it was scored;
    then average each metric over the repeats."""
    mid, span = (low + high) / 2, high - low
    repeats = len(next(iter(next(iter(preds.values())).values())))
    per_repeat = []
    for r in range(repeats):
        n = correct = 0
        abs_sum = sq_sum = 0.0
        full_n = full_correct = 0
        for char, dims in labels.items():
            any_scored, all_right = False, True
            for dim, lab in dims.items():
                if skip_labels[char][dim]["type"] == "X":
                    continue
                any_scored = True
                p = preds[char][dim][r]
                n += 1
                if ("H" if p > mid else "L") == lab["type"]:
                    correct += 1
                else:
                    all_right = False
                abs_sum += abs(p - lab["score"]) / span
                sq_sum += ((p - lab["score"]) / span) ** 2
            if any_scored:
                full_n += 1
                full_correct += all_right
        per_repeat.append(
            {"acc_dim": correct / n, "acc_full": full_correct / full_n, "mae": abs_sum / n, "mse": sq_sum / n}
        )
    return {k: sum(m[k] for m in per_repeat) / repeats for k in per_repeat[0]}


def _labels(reference: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((reference / "incharacter/characters_labels.json").read_text())
    return data


# InCharacter's algorithm on its 32 characters, PDb scores as predictions of the annotation
# labels. Skipping by the annotation's own X (calculate_measured_alignment handed the
# compared labels as labels_pdb) gives issue 14's MAE 0.179 / 0.159; with the skip rule
# run_experiments.py applies to BFI and 16P (PDb type X), 0.204 / 0.170. personascope
# before issue 14 (X kept in MAE/MSE) gave 0.206 / 0.171.
EXPECTED = {
    ("BFI", "annotation"): {"acc_dim": 0.8905, "acc_full": 0.6562, "mae": 0.1793, "mse": 0.0575},
    ("16Personalities", "annotation"): {"acc_dim": 0.8983, "acc_full": 0.6875, "mae": 0.1585, "mse": 0.0523},
    ("BFI", None): {"acc_dim": 0.7707, "acc_full": 0.3438, "mae": 0.2040, "mse": 0.0689},
    ("16Personalities", None): {"acc_dim": 0.8512, "acc_full": 0.6250, "mae": 0.1700, "mse": 0.0583},
}


@pytest.mark.parametrize(("scale", "skip_by"), list(EXPECTED))
def test_incharacter_32_characters_reproduced(
    reference: Path, scale: str, skip_by: Literal["annotation"] | None
) -> None:
    data = _labels(reference)
    low, high = BOUNDS[scale]
    pred = incharacter_labels(data, scale, "pdb")[["character", "dimension", "score"]]
    labels = incharacter_labels(data, scale, "annotation", skip_by=skip_by)
    out = measured_alignment(pred, labels, low=low, high=high)
    decider = data[skip_by or "pdb"]
    loop = _loop_alignment(
        {c: {d: [v["score"]] for d, v in s[scale].items()} for c, s in data["pdb"].items()},
        {c: s[scale] for c, s in data["annotation"].items()},
        {c: s[scale] for c, s in decider.items()},
        low,
        high,
    )
    for metric, value in EXPECTED[(scale, skip_by)].items():
        got = float(out[metric])  # type: ignore[literal-required]
        assert math.isclose(got, loop[metric], abs_tol=1e-12), metric
        assert round(got, 4) == value, metric
    assert out["n_characters"] == 32


def test_incharacter_labels_skip_rule(reference: Path) -> None:
    data = _labels(reference)
    for scale in ("BFI", "16Personalities"):
        pdb_x = {(c, d) for c, s in data["pdb"].items() for d, v in s[scale].items() if v["type"] == "X"}
        sources: tuple[Literal["annotation", "pdb"], ...] = ("annotation", "pdb")
        for source in sources:
            frame = incharacter_labels(data, scale, source)
            assert len(frame) == 32 * len(next(iter(data[source].values()))[scale])
            skipped = frame[frame["skip"]]
            assert set(zip(skipped["character"], skipped["dimension"], strict=True)) == pdb_x
    # other scales: annotation only, skipped by their own X
    eis = incharacter_labels(data, "EIS", "annotation")
    assert (eis["skip"] == (eis["type"] == "X")).all()
    with pytest.raises(ValueError, match="PDb labels only"):
        incharacter_labels(data, "EIS", "pdb")


def test_x_is_skipped_for_every_metric_by_hand() -> None:
    labels = pd.DataFrame(
        {
            "character": ["a", "a", "b"],
            "dimension": ["E", "N", "E"],
            "score": [4.0, 3.0, 2.0],
            "type": ["H", "X", "L"],
        }
    )
    pred = pd.DataFrame(
        {"character": ["a", "a", "b"], "dimension": ["E", "N", "E"], "score": [4.5, 1.0, 2.5]}
    )
    out = measured_alignment(pred, labels, low=1, high=5)
    # N (X) would add |1 - 3| / 4 = .5; without it MAE = (.5 + .5) / 2 / 4 = .125, MSE = .015625
    assert out["mae"] == 0.125 and out["mse"] == 0.015625 and out["n_dim"] == 2


def test_acc_full_leaves_out_a_character_whose_dimensions_are_all_x() -> None:
    labels = pd.DataFrame(
        {
            "character": ["a", "a", "b", "b"],
            "dimension": ["E", "N", "E", "N"],
            "score": [4.0, 2.0, 3.0, 3.0],
            "type": ["H", "L", "X", "X"],
        }
    )
    pred = pd.DataFrame(
        {"character": ["a", "a", "b", "b"], "dimension": ["E", "N"] * 2, "score": [4, 4, 1, 1]}
    )
    out = measured_alignment(pred, labels, low=1, high=5)
    # a: E right, N wrong -> not fully right; b: all X -> not counted (was "fully right" before)
    assert out["acc_full"] == 0.0 and out["n_characters"] == 1


def test_annotation_x_kept_by_the_pdb_rule_counts_as_a_miss() -> None:
    data = {
        "annotation": {"a": {"BFI": {"E": {"score": 3.0, "type": "X"}, "N": {"score": 2.0, "type": "L"}}}},
        "pdb": {"a": {"BFI": {"E": {"score": 4.0, "type": "H"}, "N": {"score": 1.5, "type": "L"}}}},
    }
    labels = incharacter_labels(data, "BFI")
    pred = pd.DataFrame({"character": "a", "dimension": ["E", "N"], "score": [4.0, 1.5]})
    out = measured_alignment(pred, labels, low=1, high=5)
    # E: annotation X, PDb H -> scored; no prediction equals X. N right. (|1| + |.5|) / 2 / 4
    assert out["acc_dim"] == 0.5 and out["acc_full"] == 0.0 and out["mae"] == 0.1875


def _runs_frame(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for method, model, assessor, temp, trial, char in itertools.product(
        ("oc", "er"), ("m1", "m2"), ("g1", "g2"), (0.0, 0.7), range(3), ("a", "b", "c")
    ):
        for dim in ("E", "N"):
            rows.append(
                {
                    "scale": "BFI",
                    "method": method,
                    "rpa_model": model,
                    "assessor_model": assessor,
                    "temperature": temp,
                    "trial": trial,
                    "character": char,
                    "dimension": dim,
                    "score": float(rng.uniform(1, 5)),
                }
            )
    return pd.DataFrame(rows)


def test_alignment_by_run_never_pools() -> None:
    rng = np.random.default_rng(7)
    pred = _runs_frame(rng)
    labels = pd.DataFrame(
        {
            "scale": "BFI",
            "character": ["a", "a", "b", "b", "c", "c"],
            "dimension": ["E", "N"] * 3,
            "score": [4.0, 2.0, 3.0, 1.5, 2.0, 4.5],
            "type": ["H", "L", "X", "L", "L", "H"],
        }
    )
    table = alignment_by_run(pred, labels, {"BFI": (1, 5)})
    assert len(table) == 2 * 2 * 2  # methods x RPA models x assessors: never merged
    assert (table["n_repeats"] == 6).all()  # 2 temperatures x 3 trials
    lab: dict[str, dict[str, dict[str, Any]]] = {}
    for r in labels.itertuples():
        lab.setdefault(str(r.character), {})[str(r.dimension)] = {"score": r.score, "type": r.type}
    for row in table.itertuples():
        g = pred[
            (pred["method"] == row.method)
            & (pred["rpa_model"] == row.rpa_model)
            & (pred["assessor_model"] == row.assessor_model)
        ].sort_values(["temperature", "trial"])
        preds = {
            str(c): {str(d): gd["score"].tolist() for d, gd in gc.groupby("dimension")}
            for c, gc in g.groupby("character")
        }
        loop = _loop_alignment(preds, lab, lab, 1, 5)
        for m in ("acc_dim", "acc_full", "mae", "mse"):
            assert math.isclose(getattr(row, m), loop[m], abs_tol=1e-12)


def test_alignment_by_run_refuses_ambiguous_runs() -> None:
    pred = pd.DataFrame(
        {"scale": "BFI", "trial": [0, 0], "character": "a", "dimension": "E", "score": [2.0, 4.0]}
    )
    labels = pd.DataFrame(
        {"scale": "BFI", "character": ["a"], "dimension": ["E"], "score": [4.0], "type": ["H"]}
    )
    with pytest.raises(ValueError, match="several scores"):
        alignment_by_run(pred, labels, {"BFI": (1, 5)})


# ------------------------------------------------------------------ units of summed scales


def test_label_units_per_dimension() -> None:
    # GSE: 10 items answered 3 -> sum 30 -> item mean 3 (the label's units), not 30 vs 3.33
    assert to_label_units(30.0, n_items=10, mode="SUM") == 3.0
    assert to_label_units(3.2, n_items=8, mode="AVG") == 3.2
    assert to_label_units(62.5, n_items=13, mode="PERCENT") == 62.5
    # EPQ-R: 23 / 32 / 24 / 21 items of 0-1; each dimension has its own midpoint
    mids = {n: dimension_midpoint(n_items=n, low=0, high=1, mode="SUM") for n in (23, 32, 24, 21)}
    assert mids == {23: 11.5, 32: 16.0, 24: 12.0, 21: 10.5}
    assert dimension_bounds(n_items=21, low=0, high=1, mode="SUM") == (0.0, 21.0)
    for n in (23, 32, 24, 21):
        assert dimension_midpoint(n_items=n, low=0, high=1, mode="SUM", units="label") == 0.5
    with pytest.raises(ValueError, match="n_items"):
        to_label_units(3.0, n_items=0, mode="SUM")


def test_scores_in_label_units_from_a_built_in_scale() -> None:
    neo = load_scale("ipip-neo-120")
    info = dimension_info([neo])
    assert set(info["n_items"]) == {24}
    scores = pd.DataFrame(
        {"scale": "ipip-neo-120", "dimension": ["neuroticism", "openness"], "score": [24.0, 96.0]}
    )
    out = scores_in_label_units(scores, info)
    assert out["score"].tolist() == [1.0, 4.0] and out["score_scale"].tolist() == [24.0, 96.0]
    assert (out["low"] == 1).all() and (out["high"] == 5).all()


# --------------------------------------------------------------- Std_item, Std_dim, Std_score


def _loop_std(values: list[float]) -> float:
    m = sum(values) / len(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / len(values))


def test_std_metrics_against_a_loop() -> None:
    rng = np.random.default_rng(3)
    rows = [
        {"dimension": d, "item": f"{d}{i}", "repeat": r, "score": float(rng.integers(1, 6))}
        for d in ("E", "N")
        for i in range(4)
        for r in range(3)
    ]
    items = pd.DataFrame(rows)
    # Std_item: per item, SD over repeats; mean over items; / span (InCharacter item_consistency)
    by_item: dict[str, list[float]] = {}
    for row in rows:
        by_item.setdefault(str(row["item"]), []).append(float(row["score"]))
    expect_item = sum(_loop_std(v) for v in by_item.values()) / len(by_item) / 4
    assert math.isclose(std_item(items, span=4), expect_item)
    # Std_dim: per dimension and repeat, SD of its items; mean over repeats, then dimensions
    per_dim = []
    for d in ("E", "N"):
        per_rep = [
            _loop_std([float(x["score"]) for x in rows if x["dimension"] == d and x["repeat"] == r])
            for r in range(3)
        ]
        per_dim.append(sum(per_rep) / 3)
    assert math.isclose(std_dim(items, span=4), sum(per_dim) / 2 / 4)
    # Std_score: dimension score = item mean per repeat; SD over repeats; mean over dimensions
    dims = items.groupby(["dimension", "repeat"])["score"].mean().reset_index()
    expect_score = (
        sum(_loop_std([float(v) for v in dims.loc[dims["dimension"] == d, "score"]]) for d in ("E", "N"))
        / 2
        / 4
    )
    assert math.isclose(std_score(dims, span=4), expect_score)


def test_std_score_for_an_er_method_by_hand() -> None:
    # ER rates dimensions directly: 16P percentages 40, 60 over two repeats (SD 10), 50, 50 (SD 0)
    er = pd.DataFrame(
        {"dimension": ["E/I", "E/I", "S/N", "S/N"], "repeat": [0, 1, 0, 1], "score": [40.0, 60.0, 50.0, 50.0]}
    )
    assert std_score(er, span=100) == 0.05
    with pytest.warns(ReliabilityWarning, match="2 repeats"):
        assert math.isnan(std_score(er[er["repeat"] == 0], span=100))


def test_consistency_table_per_configuration() -> None:
    items = pd.DataFrame(
        {
            "scale": "BFI",
            "method": "oc",
            "rpa_model": "m",
            "assessor_model": "g",
            "character": ["a"] * 4 + ["b"] * 4,
            "temperature": 0.0,
            "trial": [0, 0, 1, 1] * 2,
            "dimension": "E",
            "item": ["i", "j"] * 4,
            "score": [1.0, 3.0, 3.0, 3.0, 2.0, 2.0, 2.0, 2.0],
        }
    )
    dims = (
        items.groupby(
            [
                "scale",
                "method",
                "rpa_model",
                "assessor_model",
                "character",
                "temperature",
                "trial",
                "dimension",
            ]
        )["score"]
        .mean()
        .reset_index()
    )
    table = consistency_table(
        item_scores=items, dimension_scores=dims, item_span={"BFI": 4}, score_span={"BFI": 4}
    )
    # character a: Std_item (1 + 0) / 2 / 4, Std_dim (1 + 0) / 2 / 4, Std_score .5 / 4; b: all 0
    row = table.iloc[0]
    assert len(table) == 1 and row["n_subjects"] == 2
    assert row["std_item"] == 0.0625 and row["std_dim"] == 0.0625 and row["std_score"] == 0.0625


# ------------------------------------------------------------------------ assessor agreement


def test_assessor_agreement_counts_a_difference_below_one() -> None:
    from personascope.evaluation import assessor_agreement

    p = np.array([1.0, 2.0, 4.0, 5.0, 3.5, 2.25])
    h = np.array([1.0, 3.0, 2.0, 5.0, 3.0, 3.0])
    loop = sum(abs(a - b) < 1 for a, b in zip(p, h, strict=True)) / len(p)
    assert assessor_agreement(p, h)["accuracy"] == loop == 4 / 6


# ------------------------------------------------------------------------------ RealBehavior


def _long(subjects: dict[str, np.ndarray]) -> pd.DataFrame:
    """subject -> items x repeats matrix, as the long responses frame."""
    rows = [
        {"subject": s, "repeat": r, "item": f"q{i}", "value": float(m[i, r])}
        for s, m in subjects.items()
        for i in range(m.shape[0])
        for r in range(m.shape[1])
    ]
    return pd.DataFrame(rows)


def test_trc_two_perfect_subjects_is_one_not_the_pooled_number() -> None:
    a = np.array([[1, 1], [2, 2], [3, 3], [5, 5]], dtype=float)
    b = np.array([[5, 5], [4, 4], [1, 1], [2, 2]], dtype=float)
    responses = _long({"model-a|0.7": a, "model-b|0.7": b})
    assert test_retest_consistency(responses) == 1.0
    # the old pooled matrix (every run of both subjects as one set of repeats) says much less
    pooled = np.c_[a, b]
    pairs = [np.corrcoef(pooled[:, u], pooled[:, v])[0, 1] for u, v in itertools.combinations(range(4), 2)]
    assert float(np.mean(pairs)) < 0.5


def test_trc_against_a_loop() -> None:
    rng = np.random.default_rng(11)
    subjects = {f"s{k}": rng.integers(1, 6, size=(12, 4)).astype(float) for k in range(5)}
    expected = []
    for m in subjects.values():
        rs = []
        for u in range(m.shape[1]):
            for v in range(u + 1, m.shape[1]):
                rs.append(stats.pearsonr(m[:, u], m[:, v]).statistic)
        expected.append(sum(rs) / len(rs))
    responses = _long(subjects)
    assert np.allclose(test_retest_by_subject(responses).to_numpy(), expected)
    assert math.isclose(test_retest_consistency(responses), float(np.mean(expected)))


def test_trc_leaves_out_an_undefined_subject_with_a_warning() -> None:
    ok = np.array([[1, 1], [2, 3], [3, 2], [4, 4]], dtype=float)
    constant = np.array([[3, 1], [3, 2], [3, 3], [3, 4]], dtype=float)
    with pytest.warns(ReliabilityWarning, match="1 of 2 subject"):
        assert round(test_retest_consistency(_long({"ok": ok, "flat": constant})), 6) == 0.8


def _loop_vote(values: list[float]) -> float:
    counts = Counter(values)
    top = max(counts.values())
    tied = [v for v, c in counts.items() if c == top]
    return sum(tied) / len(tied)


def test_majority_vote_and_inc_against_a_loop() -> None:
    rng = np.random.default_rng(5)
    subjects = {f"s{k}": rng.integers(1, 6, size=(6, 5)).astype(float) for k in range(8)}
    votes = majority_vote(_long(subjects))
    matrix = np.array([[_loop_vote(list(m[i])) for i in range(m.shape[0])] for m in subjects.values()])
    assert np.allclose(votes.pivot(index="subject", columns="item", values="value").to_numpy(), matrix)
    # Cronbach's alpha across the subjects (respondents) of the voted answers, by the formula
    k = matrix.shape[1]
    alpha = k / (k - 1) * (1 - matrix.var(axis=0, ddof=1).sum() / matrix.sum(axis=1).var(ddof=1))
    assert math.isclose(internal_consistency(_long(subjects)), alpha)


def test_inc_by_hand_and_alpha_over_repeats_is_separate() -> None:
    # votes: a -> (1, 2), b -> (2, 3), c -> (4, 4); alpha = 2 (1 - (7/3 + 1) / (19/3)) = 18/19
    df = pd.DataFrame(
        {
            "subject": list("aaabbbccc") * 2,
            "repeat": [0, 1, 2] * 6,
            "item": ["i"] * 9 + ["j"] * 9,
            "value": [1, 1, 5, 2, 2, 1, 4, 4, 4, 2, 2, 2, 3, 3, 5, 4, 4, 1],
        }
    )
    assert math.isclose(internal_consistency(df), 18 / 19)
    per_agent = repeat_alpha(df)
    assert list(per_agent.index) == ["a", "b", "c"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReliabilityWarning)
        a = df[df["subject"] == "a"].pivot(index="repeat", columns="item", values="value")
        assert math.isclose(per_agent["a"], cronbach_alpha(a))


def test_exc_for_every_covered_pair_keyed_by_subject() -> None:
    rng = np.random.default_rng(9)
    rows = []
    # the same characters and temperatures under two models: 8 distinct subjects
    for model, char, temp in itertools.product(("m1", "m2"), ("x", "y"), (0.0, 1.0)):
        n = float(rng.uniform(24, 120))
        rows.append(
            {
                "rpa_model": model,
                "character": char,
                "temperature": temp,
                "method": "sr",
                "scale": "ipip-neo-120",
                "dimension": "neuroticism",
                "score": n,
            }
        )
        rows.append(
            {
                "rpa_model": model,
                "character": char,
                "temperature": temp,
                "method": "sr",
                "scale": "ipip-bfm-50",
                "dimension": "emotional_stability",
                "score": 60 - n / 3 + float(rng.normal(0, 2)),
            }
        )
        rows.append(
            {
                "rpa_model": model,
                "character": char,
                "temperature": temp,
                "method": "sr",
                "scale": "BFI",
                "dimension": "Neuroticism",
                "score": n / 24 + float(rng.normal(0, 0.3)),
            }
        )
    df = pd.DataFrame(rows)
    table = external_consistency_table(df)
    pairs = {(r.scale_a, r.scale_b) for r in table.itertuples()}
    assert pairs == {("BFI", "ipip-bfm-50"), ("BFI", "ipip-neo-120"), ("ipip-bfm-50", "ipip-neo-120")}
    assert (table["subjects"] == 8).all()
    for r in table.to_dict("records"):
        a = df[df["scale"] == r["scale_a"]].set_index(["character", "rpa_model", "temperature"])["score"]
        b = df[df["scale"] == r["scale_b"]].set_index(["character", "rpa_model", "temperature"])["score"]
        sign = -1.0 if r["reversed"] else 1.0
        assert math.isclose(r["ExC"], stats.pearsonr(a, sign * b.loc[a.index]).statistic)
        assert r["reversed"] == ("ipip-bfm-50" in (r["scale_a"], r["scale_b"]))
    assert (table["ExC"] > 0.5).all()


def test_exc_refuses_colliding_subjects() -> None:
    df = pd.DataFrame(
        {"character": ["x", "x"], "scale": "BFI", "dimension": "Neuroticism", "score": [1.0, 2.0]}
    )
    with pytest.raises(ValueError, match="several scores"):
        external_consistency_table(df)


def test_construct_map_covers_the_built_in_scales() -> None:
    for scale_id in ("ipip-neo-120", "ipip-bfm-50", "ipip-bfm-100"):
        dims = {d.id for d in load_scale(scale_id).dimensions}
        assert {m[scale_id][0] for m in BIG_FIVE_CONSTRUCTS.values()} == dims
    assert ("ipip-neo-120", "ipip-bfm-50") in CONSTRUCT_MAP and ("BFI", "ipip-neo-120") in CONSTRUCT_MAP


def test_bc_per_scale_and_method_against_a_loop() -> None:
    crs = pd.DataFrame({"subject": list("abcd"), "dimension": "extraversion", "crs": [0.9, 0.1, 0.5, 0.6]})
    rows = []
    for scale, method, scores in (
        ("ipip-bfm-50", "sr", [45.0, 12.0, 30.0, 28.0]),
        ("ipip-neo-120", "sr", [100.0, 40.0, 90.0, 60.0]),
        ("ipip-neo-120", "oc", [80.0, 90.0, 70.0, 60.0]),
    ):
        rows += [
            {"scale": scale, "method": method, "subject": s, "dimension": "extraversion", "score": v}
            for s, v in zip("abcd", scores, strict=True)
        ]
    df = pd.DataFrame(rows)
    table = behavioral_consistency_table(df, crs)
    assert len(table) == 3
    for r in table.to_dict("records"):
        g = df[(df["scale"] == r["scale"]) & (df["method"] == r["method"])]
        assert math.isclose(r["BC"], stats.pearsonr(g["score"], crs["crs"]).statistic)


def test_realbehavior_human_alpha_for_neo() -> None:
    assert REALBEHAVIOR_HUMAN_ALPHA["ipip-neo-120"] == {
        "extraversion": 0.89,
        "agreeableness": 0.85,
        "conscientiousness": 0.90,
        "neuroticism": 0.90,
        "openness": 0.82,
    }


def test_faithfulness_trc_is_per_subject() -> None:
    scale = load_scale("ipip-bfm-50")
    dim_items = [i for i in scale.items if i.dimension == "extraversion"]
    base = np.array([((k * 7) % 5) + 1 for k in range(len(dim_items))], dtype=float)
    rows = []
    # two models, each perfectly reproducible over 3 trials, but answering differently
    for model, shift in (("m1", 0.0), ("m2", 1.0)):
        answers = base if shift == 0 else 6 - base
        for trial in range(3):
            for item, value in zip(dim_items, answers, strict=True):
                rows.append(
                    {
                        "run_id": f"{model}-{trial}",
                        "rpa_model": model,
                        "assessor_model": "g",
                        "temperature": 0.0,
                        "trial": trial,
                        "item_id": item.id,
                        "dimension": item.dimension,
                        "value": value,
                    }
                )
    items = pd.DataFrame(rows)
    scores = pd.DataFrame(
        columns=["dimension", "score", "rpa_model", "assessor_model", "temperature", "trial"]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReliabilityWarning)
        table = faithfulness_table(items, scores, scale)
    assert table.loc["extraversion", "TrC"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "name",
    [
        "personascope.evaluation.consistency",
        "personascope.evaluation.units",
        "personascope.evaluation.faithfulness",
    ],
)
def test_new_modules_doctests(name: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
