"""The persona-recovery validity study: design, personas, recovery, known groups."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from langchain_core.messages import BaseMessage

from personascope.agents.fakes import FakeChatModel
from personascope.agents.oracle import AGREE, DISAGREE, OracleRPA, build_oracle_rpa
from personascope.evaluation.recovery import graded_design, recovery_table, two_level_design
from personascope.graphs.validity import ValiditySpec, design, run_validity, write_personas
from personascope.memories.characters import load_character
from personascope.scales import load_scale

from graph_fakes import er_assessor, oc_assessor

SCALE = "ipip-bfm-50"


def test_two_level_design_is_balanced_and_orthogonal() -> None:
    for dims, n in ((5, 8), (7, 8), (5, 16), (30, 32)):
        d = two_level_design(dims, n)
        assert d.shape == (n, dims)
        assert (d.sum(axis=0) == 0).all()  # every dimension high for half the personas
        assert (d.T @ d == n * np.eye(dims)).all()  # no dimension confounded with another
    with pytest.raises(ValueError, match="power of two"):
        two_level_design(5, 6)


def test_graded_design_uses_every_level_equally() -> None:
    d = graded_design(5, 10)
    for j in range(5):
        assert sorted(d[:, j].tolist()) == sorted([1, 2, 3, 4, 5] * 2)
    assert abs(np.corrcoef(d.T)[np.triu_indices(5, 1)]).max() < 0.5  # no two dimensions confounded


def test_personas_are_profiles_with_assigned_levels(tmp_path: Path) -> None:
    scale = load_scale(SCALE)
    files = write_personas(ValiditySpec(scale=SCALE), scale, tmp_path)
    assert len(files) == 8
    plan = design(ValiditySpec(scale=SCALE), scale)
    for pid, path in files.items():
        c = load_character(path)
        assigned = plan[plan["persona"] == pid].set_index("dimension")["level"]
        for dim, label in c.labels[SCALE].items():
            assert label.type == ("H" if assigned[dim] == 5 else "L")
        ext = "talkative" if assigned["extraversion"] == 5 else "silent"
        assert f"extremely {ext}" in c.description


def test_oracle_answers_from_the_labels() -> None:
    holmes = load_character("sherlock-holmes")  # labelled L on extraversion
    scale = load_scale(SCALE)
    oracle = OracleRPA(holmes)
    e_plus = next(i for i in scale.items_of("extraversion") if i.key == "+")
    e_minus = next(i for i in scale.items_of("extraversion") if i.key == "-")
    assert oracle.answer_for(e_plus.question("en") or "") == DISAGREE
    assert oracle.answer_for(e_minus.question("en") or "") == AGREE
    assert oracle.answer_for(f'Do you think that the statement "{e_plus.text}" applies to you?') == DISAGREE


def _agreement_assessor(yes: int = 5, no: int = 1) -> FakeChatModel:
    """OC that reads the oracle's answers literally."""

    def reply(messages: list[BaseMessage]) -> str:
        user = str(messages[-1].content)
        blocks = re.split(r"^Sample (\S+):", user, flags=re.M)[1:]
        choices = [
            {"id": i, "choice": yes if "Yes, absolutely" in b else no}
            for i, b in zip(blocks[::2], blocks[1::2], strict=True)
        ]
        return json.dumps({"choices": choices})

    return FakeChatModel(default=reply)


def test_acquiescence_cancels_on_balanced_keys(tmp_path: Path) -> None:
    """OC that agrees (4) with everything: reverse-keyed items turn it into 2, so a
    balanced dimension lands on the midpoint, which counts as a miss, never as a side."""
    spec = ValiditySpec(scale=SCALE, methods=["oc"], rpa_models=["fake:oracle"], assessor_models=["fake:oc"])
    _, table = asyncio.run(run_validity(spec, tmp_path, rpa=build_oracle_rpa, assessor=oc_assessor(4)))
    ext = table[table["dimension"] == "extraversion"].iloc[0]  # 5 + and 5 − items
    assert ext["hl_accuracy"] == 0.0 and ext["bias"] == 0.0


def test_a_faithful_assessor_recovers_every_persona(tmp_path: Path) -> None:
    spec = ValiditySpec(scale=SCALE, methods=["oc"], rpa_models=["fake:oracle"], assessor_models=["fake:oc"])
    outcomes, table = asyncio.run(
        run_validity(spec, tmp_path, rpa=build_oracle_rpa, assessor=_agreement_assessor())
    )
    assert [o.status for o in outcomes] == ["ran"] * 8
    pooled = table[table["dimension"] == "(all)"].iloc[0]
    assert pooled["hl_accuracy"] == 1.0 and pooled["pearson"] == pytest.approx(1.0)
    assert pooled["bias"] == pytest.approx(0.0)
    summary = pd.read_csv(tmp_path / "validity" / "summary.csv")
    assert {"scale", "method", "rpa_model", "assessor_model", "dimension", "r", "spearman", "hl_accuracy",
            "bias"} <= set(summary.columns)  # fmt: skip
    assert (summary[summary["dimension"] != "(all)"]["hl_accuracy"] == 1.0).all()


def test_a_biased_assessor_is_exposed(tmp_path: Path) -> None:
    """An expert rater that says 4 whatever it reads (the embedded default's failure):
    half the sides wrong, biased high, no correlation."""
    spec = ValiditySpec(
        scale=SCALE, methods=["er_batch"], rpa_models=["fake:oracle"], assessor_models=["fake:er"]
    )
    _, table = asyncio.run(
        run_validity(spec, tmp_path, rpa=build_oracle_rpa, assessor=er_assessor(lambda m: 4))
    )
    pooled = table[table["dimension"] == "(all)"].iloc[0]
    assert pooled["hl_accuracy"] == 0.5
    assert pooled["bias"] == pytest.approx(0.5)  # 4 on 1..5 is +0.5 on [-1, 1]
    assert np.isnan(pooled["pearson"])


def test_recovery_by_hand_matches_an_independent_loop() -> None:
    rng = np.random.default_rng(3)
    assigned = np.repeat([1.0, -1.0], 6)
    measured = np.clip(assigned * 0.4 + rng.normal(0, 0.4, 12), -1, 1)
    df = pd.DataFrame({"scale": "s", "method": "m", "persona": range(12), "dimension": "E",
                       "assigned": assigned, "measured": measured})  # fmt: skip
    row = recovery_table(df, n_boot=300).iloc[0]
    # independent: the textbook formulas
    a, m = assigned - assigned.mean(), measured - measured.mean()
    assert row["pearson"] == pytest.approx((a @ m) / np.sqrt((a @ a) * (m @ m)))
    assert row["hl_accuracy"] == pytest.approx(
        np.mean([(x > 0) == (y > 0) for x, y in zip(assigned, measured, strict=True)])
    )
    assert row["bias"] == pytest.approx(measured.mean())
    assert row["pearson_lo"] <= row["pearson"] <= row["pearson_hi"]


def test_delta_is_the_shift_between_the_extreme_levels_as_a_share_of_the_range() -> None:
    """Graded levels: Δ compares only the highest and lowest assigned levels (medians),
    as Serapio-García et al. compare level 9 with level 1; here on a 1-5 scale read back
    from [-1, 1], against statistics.median on the raw scores."""
    import statistics

    raw = {1: [1.5, 2.0, 1.0], 3: [3.0, 3.5, 2.5], 5: [4.0, 4.5, 3.0]}  # level -> scores on 1..5
    rows = [(level, x) for level, xs in raw.items() for x in xs]
    df = pd.DataFrame({"scale": "s", "method": "m", "persona": range(len(rows)), "dimension": "E",
                       "assigned": [(lv - 3) / 2 for lv, _ in rows],
                       "measured": [(x - 3) / 2 for _, x in rows]})  # fmt: skip
    row = recovery_table(df, n_boot=200).iloc[0]
    expected = (statistics.median(raw[5]) - statistics.median(raw[1])) / (5 - 1)  # (4 - 1.5) / 4
    assert row["delta"] == pytest.approx(expected) == pytest.approx(0.625)
    assert row["delta_lo"] <= row["delta"] <= row["delta_hi"]
    flat = df.assign(assigned=0.0)
    assert np.isnan(recovery_table(flat, n_boot=50).iloc[0]["delta"])
