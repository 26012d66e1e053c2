"""The report page's content: every item with its memories, answer and assessment; flags
and failures; profiles with their confidence; figures never pooled; validity; size."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from personascope import results
from personascope.cli import main
from personascope.errors import InputError
from personascope.evaluation.page import experiment_page
from personascope.evaluation.report import profile_table
from personascope.memories.labels import labels_frame
from personascope.records import RunRecord
from personascope.scales import load_scale

from report_fakes import SCALE, labels_file, page_payload, write_experiment


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[RunRecord]]:
    exp = tmp_path_factory.mktemp("small")
    return exp, write_experiment(exp, n_characters=3)


@pytest.fixture(scope="module")
def small_page(small: tuple[Path, list[RunRecord]], tmp_path_factory: pytest.TempPathFactory) -> dict:  # type: ignore[type-arg]
    exp, _ = small
    labels = labels_frame(
        ["character-00"], str(labels_file(tmp_path_factory.mktemp("l") / "l.yaml", 3)), "both"
    )
    html, _ = experiment_page(exp, labels)
    return page_payload(html)


def test_every_item_has_question_memories_answer_and_assessment(
    small: tuple[Path, list[RunRecord]],
    small_page: dict,  # type: ignore[type-arg]
) -> None:
    _, records = small
    data = small_page
    text = data["strings"]
    assert len(data["runs"]) == len(records) == 3 * 2 * 2 * 2
    by_id = {rec.run_id: rec for rec in records}
    for run in data["runs"]:
        rec = by_id[run["id"]]
        assert len(run["items"]) == 100
        for item, answer in zip(run["items"], rec.transcript, strict=True):
            assert text[item["q"]] == answer["question"] and text[item["a"]] == answer["answer"]
            assert [text[m] for m in item["m"]] == answer["memories"]
        if rec.method == "er_batch":
            # each ER batch: its items, the assessor's analysis and score
            assert [(b["ids"], text[b["analysis"]], b["score"]) for b in run["batches"]] == [
                (r["item_ids"], r["analysis"], r["score"]) for r in rec.dimension_ratings
            ]
        else:
            choices = {i: c for b in run["batches"] for i, c in b["choices"].items()}
            assert choices == {
                i: int(v)
                for o in rec.assessor_outputs
                for i, v in ((c["id"], c["choice"]) for c in o["output"]["choices"])  # type: ignore[index]
            }
            assert [it["v"] for it in run["items"]] == [
                rec.item_values.get(a["item_id"]) for a in rec.transcript
            ]


def test_flags_and_failures_are_counted_per_run(small_page: dict) -> None:  # type: ignore[type-arg]
    by = {(r["character"], r["method"], r["T"], r["trial"]): r for r in small_page["runs"]}
    first = by[("character-00", "oc", 0.0, 0)]  # the fakes: truncation, injection and no evidence
    assert first["counts"] == {"failures": 2, "injection": 1, "no_evidence": 1, "truncated": 1}
    assert [it["id"] for it in first["items"] if it["tr"]] == ["E8"]
    assert [it["fl"] for it in first["items"] if it["fl"]] == [["ignore previous instructions"]]
    reasons = {f["kind"]: small_page["strings"][f["reason"]] for f in first["failures"]}
    assert reasons["no_evidence"] == "assessor chose 'x' (refusal or no evidence)"
    assert by[("character-01", "oc", 0.0, 0)]["counts"] == {
        "failures": 0,
        "injection": 0,
        "no_evidence": 0,
        "truncated": 0,
    }
    overview = small_page["overview"]
    assert overview["runs"] == 24 and overview["flags"] == {"injection": 8, "no_evidence": 4, "truncated": 8}
    assert {(f["stage"], f["kind"]): f["count"] for f in overview["failures"]} == {
        ("answer", "injection"): 8,
        ("assessment", "no_evidence"): 4,
    }


def test_texts_are_stored_once(small_page: dict) -> None:  # type: ignore[type-arg]
    strings = small_page["strings"]
    assert len(strings) == len(set(strings))
    # 100 questions asked in 24 runs; answers shared by the two methods (as the cache shares them)
    answers = {it["a"] for r in small_page["runs"] for it in r["items"]}
    # character-00's injection answer is one text in all four (temperature, trial) pairs
    assert len(answers) == 3 * 2 * 2 * 100 - 3


def test_profile_confidence_by_hand() -> None:
    # ipip-bfm-50: 10 items per dimension, options 1-5, SUM: 30 and 40 are item means 3.0 and 4.0
    base = {"character": "a", "scale": "ipip-bfm-50", "method": "oc", "rpa_model": "r", "assessor_model": "s"}
    scores = pd.DataFrame(
        [
            {**base, "run_id": f"run{k}", "dimension": "extraversion", "score": s, "n_items": 10}
            for k, s in enumerate([30.0, 40.0])
        ]
    )
    labels = pd.DataFrame(
        [
            {
                "source": "x",
                "scale": "ipip-bfm-50",
                "character": "a",
                "dimension": "extraversion",
                "score": 4.2,
                "type": "H",
            }
        ]
    )
    row = profile_table(scores, {"ipip-bfm-50": load_scale("ipip-bfm-50")}, labels).iloc[0]
    assert row["mean"] == 3.5 and row["sd"] == 0.5 and row["runs"] == 2
    # t(0.975, df=1) = 12.7062; SD (ddof 1) = 0.70711; / sqrt(2): 6.3531
    assert row["ci95"] == pytest.approx(12.7062 * 0.70711 / np.sqrt(2), rel=1e-4)
    assert row["type_agreement"] == 0.5  # 3.0 is not above the midpoint 3 (L), 4.0 is (H)
    assert row["label_agreement"] == 0.5 and row["label_type"] == "H" and row["label_score"] == 4.2


def test_profiles_carry_labels_and_link_to_their_runs(small_page: dict) -> None:  # type: ignore[type-arg]
    rows = [p for p in small_page["profiles"] if p["character"] == "character-00"]
    assert len(rows) == 2 * 5 and all(p["label_type"] in ("H", "L") and p["runs"] == 4 for p in rows)
    fig = next(
        f for f in small_page["figures"] if f["kind"] == "profile" and f["character"] == "character-00"
    )
    names = [t["name"] for t in fig["spec"]["data"]]
    assert names[0].startswith("measured") and names[1].startswith("label")


def test_figures_never_pool_rpa_models(tmp_path: Path) -> None:
    records = write_experiment(tmp_path, n_characters=3, methods=("oc",), temperatures=(0.0,))
    for rec in records:  # a second RPA model, scoring one point higher everywhere
        other = rec.model_copy(deep=True)
        other.rpa_model = "fake:other"
        other.run_id += "-other"
        for s in other.scores.values():
            s["score"] += 10
        results.write_record(tmp_path, other)
    data = page_payload(experiment_page(tmp_path)[0])
    assert len(data["configs"]) == 2
    scores = results.load(tmp_path)
    for fig in (f for f in data["figures"] if f["kind"] == "temperature"):
        c, char = fig["config"], fig["character"]
        sel = scores[(scores["rpa_model"] == c["rpa_model"]) & (scores["character"] == char)]
        expected = sel.groupby("dimension")["score"].mean()
        dims = [d.id for d in load_scale(SCALE).dimensions]
        assert fig["spec"]["data"][0]["y"] == pytest.approx([expected[d] for d in dims])
    assert sum(f["kind"] == "pca" for f in data["figures"]) == 2


def test_validity_shown_per_configuration_or_not_measured(small: tuple[Path, list[RunRecord]]) -> None:
    exp, _ = small
    assert page_payload(experiment_page(exp)[0])["validity"] == {"measured": False, "configs": []}
    (exp / "validity").mkdir()
    summary = exp / "validity" / "summary.csv"
    pd.DataFrame(
        [
            {"scale": SCALE, "method": "oc", "rpa_model": "fake:rpa", "assessor_model": "fake:assessor",
             "dimension": "extraversion", "r": 0.81, "spearman": 0.79, "hl_accuracy": 0.9, "bias": -0.12},
        ]
    ).to_csv(summary, index=False)  # fmt: skip
    try:
        validity = page_payload(experiment_page(exp)[0])["validity"]
        assert validity["measured"]
        by_cfg = {c["cfg"]: c["table"] for c in validity["configs"]}
        er, oc = by_cfg[0], by_cfg[1]  # configurations sort by method: er_batch, oc
        assert er is None  # this configuration was not part of the study: "not measured"
        assert oc["columns"] == ["dimension", "r", "spearman", "hl_accuracy", "bias"]
        assert oc["rows"] == [["extraversion", 0.81, 0.79, 0.9, -0.12]]
        pd.DataFrame([{"scale": SCALE, "r": 1}]).to_csv(summary, index=False)
        with pytest.raises(InputError, match="validity summary"):
            experiment_page(exp)
    finally:
        summary.unlink()


def test_32_characters_fit_in_5_mb(tmp_path: Path) -> None:
    """32 characters x 2 methods x 2 temperatures x 2 trials of a 100-item scale: 256
    runs, 25,600 answers with 4 memories each, every ER analysis."""
    write_experiment(tmp_path / "exp")
    out = tmp_path / "page.html"
    labels = labels_file(tmp_path / "labels.yaml")
    assert main(["report", str(tmp_path / "exp"), "--out", str(out), "--labels", str(labels)]) == 0
    html = out.read_text()
    size = len(html.encode())
    assert 2_000_000 < size < 5_000_000, size
    data = page_payload(html)
    assert len(data["runs"]) == 256 and len(data["overview"]["characters"]) == 32
    # self-contained: nothing to fetch, and the page forbids fetching anything
    assert not re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    assert "default-src 'none'" in html


def test_item_confidence_from_item_distributions(tmp_path: Path) -> None:
    (rec,) = write_experiment(tmp_path, n_characters=1, methods=("oc",), temperatures=(0.0,), trials=1)
    e_items = [q["item_id"] for q in rec.questions if q["dimension"] == "extraversion"]
    dist: dict[str, Any] = {"values": [1.0, 2.0, 3.0, 4.0, 5.0], "expected": 3.0, "variance": 0.2,
                            "probabilities": [0.0, 0.1, 0.8, 0.1, 0.0], "entropy": 0.64,
                            "coverage": 0.95, "source": "logprobs"}  # fmt: skip
    rec.item_distributions = {
        i: {**dist, "confidence": 0.6 if n % 2 else 0.8}  # type: ignore[typeddict-item]
        for n, i in enumerate(e_items)
    }
    results.write_record(tmp_path, rec)
    data = page_payload(experiment_page(tmp_path)[0])
    (row,) = [p for p in data["profiles"] if p["dimension"] == "extraversion"]
    assert row["item_confidence"] == pytest.approx(0.7)  # mean over the dimension's items
    item = data["runs"][0]["items"][0]
    assert item["c"] == 0.8 and item["dist"]["probabilities"] == [0.0, 0.1, 0.8, 0.1, 0.0]
