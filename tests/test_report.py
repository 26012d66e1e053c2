"""Evaluation report from a small experiment with fake models: every table and figure."""

from __future__ import annotations

import asyncio
import random
import re
import zlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest
from langchain_core.messages import BaseMessage

from personascope import results
from personascope.agents.fakes import FakeChatModel
from personascope.cli import main
from personascope.graphs.runner import ExperimentSpec, run_experiment
from personascope.memories.characters import load_character
from personascope.scales import load_scale

from report_fakes import page_payload

SCALE = "ipip-bfm-100"
PROFILES = {  # experimenter -> trait levels (1..5) per dimension
    "Dr. Watson": {
        "extraversion": 1.6,
        "agreeableness": 2.0,
        "conscientiousness": 4.6,
        "emotional_stability": 4.2,
        "intellect": 4.8,
    },
    "Nick Carraway": {
        "extraversion": 4.6,
        "agreeableness": 4.0,
        "conscientiousness": 2.4,
        "emotional_stability": 2.2,
        "intellect": 3.8,
    },
    "the Cheshire Cat": {
        "extraversion": 4.0,
        "agreeableness": 4.2,
        "conscientiousness": 2.8,
        "emotional_stability": 3.0,
        "intellect": 4.4,
    },
}


class TraitRPA:
    """Answers 'level N' consistent with a character's trait (+ noise), keyed like the item."""

    def __init__(self, deterministic: bool = False) -> None:
        scale = load_scale(SCALE)
        self.items = {i.question("en"): i for i in scale.items}
        self.rng = random.Random(7)
        self.deterministic = deterministic

    async def areply(self, messages: Sequence[BaseMessage]) -> str:
        msg = messages[-1]
        experimenter = next(e for e in PROFILES if re.sub(r"[^A-Za-z0-9_-]+", "_", e).strip("_") == msg.name)
        item = self.items[str(msg.content)]
        # deterministic: the same question always gets the same answer (like a cached model)
        rng = (
            random.Random(zlib.crc32(f"{experimenter}{item.id}".encode())) if self.deterministic else self.rng
        )
        level = min(5, max(1, round(PROFILES[experimenter][item.dimension] + rng.gauss(0, 0.7))))
        agree = level if item.key == "+" else 6 - level
        return f"Honestly, level {agree}."


def _assessor() -> FakeChatModel:
    def reply(messages: list[BaseMessage]) -> str:
        user = str(messages[-1].content)
        ids = re.findall(r"^Sample (\S+):", user, flags=re.M)
        levels = [int(x) for x in re.findall(r"level (\d)", user)]
        if "choices" in str(messages[0].content):
            return (
                '{"choices": ['
                + ",".join(f'{{"id": "{i}", "choice": {lv}}}' for i, lv in zip(ids, levels, strict=True))
                + "]}"
            )
        return f'{{"analysis": "ok", "score": {round(sum(levels) / len(levels))}}}'

    return FakeChatModel(default=reply)


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    exp = tmp_path_factory.mktemp("exp")
    spec = ExperimentSpec(
        characters=["sherlock-holmes", "jay-gatsby", "alice"],
        scales=[SCALE],
        methods=["oc", "er_batch"],
        temperatures=[0.0, 0.5],
        trials=2,
        concurrency=4,
        run_concurrency=8,
    )
    trait = TraitRPA()  # one agent for every character: it tells them apart by the experimenter
    outcomes = asyncio.run(
        run_experiment(
            spec,
            exp,
            rpa=lambda request: trait,
            assessor=_assessor(),
            rpa_label="fake:trait",
            assessor_label="fake:assessor",
        )
    )
    assert all(o.status == "ran" for o in outcomes)
    return exp


@pytest.fixture
def labels_file(tmp_path: Path) -> Path:
    """The profiles' ipip-bfm-50 type labels, restated for ipip-bfm-100 (same constructs)."""
    import yaml

    chars = [load_character(c) for c in ("sherlock-holmes", "jay-gatsby")]
    rows = {
        c.id: {SCALE: {d: {"type": lab.type} for d, lab in c.labels["ipip-bfm-50"].items()}} for c in chars
    }
    path = tmp_path / "labels.yaml"
    path.write_text(yaml.safe_dump(rows))
    return path


def test_report_has_every_figure_and_table(experiment: Path, tmp_path: Path, labels_file: Path) -> None:
    out = tmp_path / "report.html"
    assert main(["report", str(experiment), "--out", str(out), "--labels", str(labels_file)]) == 0
    data = page_payload(out.read_text())
    kinds = Counter(f["kind"] for f in data["figures"])
    assert set(kinds) == {"profile", "temperature", "items", "pca", "faithfulness", "alignment", "norms"}
    assert kinds["profile"] == 6 and kinds["temperature"] == 6  # 3 characters x 2 configurations
    assert kinds["faithfulness"] == 3  # oc only: item level
    for fig in data["figures"]:  # every chart shows one configuration
        assert (
            fig["config"]["rpa_model"] == "fake:trait" and fig["config"]["assessor_model"] == "fake:assessor"
        )
        assert fig["spec"]["data"], fig["title"]
    names = {t["name"] for t in data["tables"]}
    assert {"scores", "alignment", "consistency (Std)", "norms ipip-bfm-100"} <= names
    assert len(data["runs"]) == 24 and not list((tmp_path).glob("*.png"))


def test_faithfulness_numbers_are_sane(experiment: Path) -> None:
    from personascope.evaluation.faithfulness import faithfulness_table

    items = results.load_items(experiment)
    scores = results.load(experiment)
    sel = (items["character"] == "sherlock-holmes") & (items["method"] == "oc")
    table = faithfulness_table(
        items[sel],
        scores[(scores["character"] == "sherlock-holmes") & (scores["method"] == "oc")],
        load_scale(SCALE),
    )
    assert list(table.index) == [d.id for d in load_scale(SCALE).dimensions]
    assert (table["runs"] == 4).all() and (table["items"] == 20).all()
    assert table["human_alpha"].tolist() == [0.91, 0.88, 0.88, 0.91, 0.90]
    assert table["InC_alpha"].notna().all()


def test_evaluate_writes_csv_and_alignment(
    experiment: Path, tmp_path: Path, labels_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["evaluate", str(experiment), "--out", str(tmp_path / "a")]) == 0
    assert not (tmp_path / "a" / "alignment.csv").exists()  # the profiles are labelled on ipip-bfm-50 only
    printed = " ".join(capsys.readouterr().out.split())
    assert "validity: never measured for oc with assessor fake:assessor" in printed
    assert (
        main(["evaluate", str(experiment), "--labels", str(labels_file), "--out", str(tmp_path / "b")]) == 0
    )
    assert (tmp_path / "b" / "report.html").stat().st_size > 100_000  # the page beside the tables
    csvs = {p.name for p in (tmp_path / "b").glob("*.csv")}
    assert {"scores.csv", "alignment.csv", "consistency_(Std).csv"} <= csvs
    align = pd.read_csv(tmp_path / "b" / "alignment.csv")
    # one row per configuration: never pooled over methods, RPA or assessor models
    assert sorted(align["method"]) == ["er_batch", "oc"] and (align["scale"] == SCALE).all()
    oc = align[align["method"] == "oc"].iloc[0]
    assert 0.5 <= oc["acc_dim"] <= 1.0 and oc["n_characters"] == 2 and oc["n_repeats"] == 4
    std = pd.read_csv(tmp_path / "b" / "consistency_(Std).csv")
    assert set(std["method"]) == {"oc", "er_batch"}
    assert std.loc[std["method"] == "er_batch", "std_score"].notna().all()  # Std_score for ER too


def test_assessor_agreement_table(tmp_path: Path) -> None:
    spec = ExperimentSpec(
        characters=["sherlock-holmes", "alice"],
        scales=[SCALE],
        methods=["er_batch"],
        assessor_models=["fake:a", "fake:b"],
        trials=2,
        concurrency=4,
    )
    # Same transcripts for both assessor labels, and one assessor playing both: perfect agreement.
    asyncio.run(
        run_experiment(spec, tmp_path, rpa=lambda request: TraitRPA(deterministic=True), assessor=_assessor())
    )
    from personascope.evaluation.report import build_report

    rep = build_report(results.load(tmp_path), results.load_items(tmp_path), results.run_records(tmp_path))
    (name,) = [n for n in rep.tables if n.startswith("assessor agreement ipip-bfm-100 er_batch ")]
    table = rep.tables[name]
    assert table.loc[0, "assessors"] == 2 and table.loc[0, "krippendorff_alpha_interval"] == pytest.approx(
        1.0
    )
    (fig,) = [f for f in rep.figures if f.kind == "agreement"]
    assert fig.spec["data"][0]["x"] == fig.spec["data"][0]["y"]  # one assessor playing both: the diagonal


def test_empty_experiment_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "r.html")]) == 2
    assert "no results in this directory" in capsys.readouterr().err
