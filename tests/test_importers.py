"""InCharacter and PsychoBench questionnaire files import unchanged."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from personascope.scales import load_scale, load_scales_from_dir, load_scales_from_file
from personascope.scales.schema import ScoringMode
from personascope.scales.scoring import score_scale

from conftest import FIXTURES


def test_incharacter_bfi_reference(reference: Path) -> None:
    path = reference / "incharacter/BFI.json"
    raw = json.loads(path.read_text())
    scale = load_scale(path)
    assert scale.id == "BFI" and scale.scoring is ScoringMode.AVG and scale.range == (1, 5)
    assert len(scale.items) == 44
    # Keys come from `category`, and agree with the top-level reverse list for BFI.
    assert sorted(int(i.id) for i in scale.items if i.key == "-") == sorted(raw["reverse"])
    for item in scale.items:
        q = raw["questions"][item.id]
        assert item.text == q["origin_en"] and item.dimension == q["dimension"]
        assert item.question("en") == q["rewritten_en"] and item.question("zh") == q["rewritten_zh"]
    ext = scale.dimension_map["Extraversion"]
    assert ext.poles is not None and (ext.poles.low, ext.poles.high) == ("introverted", "extroverted")
    assert ext.description.startswith("Extraversion")
    norm = scale.norms_of("Extraversion")[0]
    assert (norm.mean, norm.sd, norm.n, norm.metric) == (3.25, 0.9, 6076, ScoringMode.AVG)
    assert scale.response_options[0].label == "strongly disagree"


def test_incharacter_16p_reference(reference: Path) -> None:
    path = reference / "incharacter/16Personalities.json"
    raw = json.loads(path.read_text())
    scale = load_scale(path)
    assert scale.scoring is ScoringMode.PERCENT and scale.range == (1, 7)
    assert [d.id for d in scale.dimensions] == ["E/I", "S/N", "T/F", "P/J"]
    for item in scale.items:
        q = raw["questions"][item.id]
        assert item.key == ("+" if q["category"] == q["dimension"][0] else "-")
    pj = scale.dimension_map["P/J"]
    assert pj.poles is not None and pj.poles.high == "perceiving-oriented"
    # All-agree (7) on every item: E/I has 7 E-items (+) and 6 I-items (-):
    # keyed mean = (7*7 + 6*1)/13, percent = (mean-1)/6*100
    s = score_scale(scale, {i.id: 7 for i in scale.items})
    expected = ((7 * 7 + 6 * 1) / 13 - 1) / 6 * 100
    assert math.isclose(s.as_dict()["E/I"] or 0, expected)


def test_incharacter_fixture_fillers_and_poles() -> None:
    scale = load_scale(FIXTURES / "incharacter_mini.json")
    assert [i.id for i in scale.items] == ["1", "2", "3", "4"]
    assert [f.id for f in scale.fillers] == ["5"]
    assert scale.scoring is ScoringMode.PERCENT
    assert {i.id: i.key for i in scale.items} == {"1": "+", "2": "-", "3": "-", "4": "+"}
    # fillers are accepted in answers and ignored
    s = score_scale(scale, {"1": 7, "2": 1, "3": 1, "4": 7, "5": 3})
    assert s.as_dict() == {"E/I": 100.0, "P/J": 100.0}


def test_psychobench_fixture() -> None:
    epq, likert = load_scales_from_file(FIXTURES / "psychobench_mini.json")
    assert epq.id == "Mini-EPQ" and epq.range == (0, 1) and epq.scoring is ScoringMode.SUM
    assert {i.id: (i.dimension, i.key) for i in epq.items} == {
        "1": ("Extraversion", "+"),
        "2": ("Extraversion", "-"),
        "3": ("Neuroticism", "+"),
    }
    assert [f.id for f in epq.fillers] == ["4"]
    s = score_scale(epq, {"1": 1, "2": 0, "3": 0})
    assert s.as_dict() == {"Extraversion": 2.0, "Neuroticism": 0.0}
    assert math.isclose(s.dimensions["Extraversion"].norms[0].z, (2 - 1.2) / 0.6)
    assert likert.range == (1, 5) and likert.scoring is ScoringMode.AVG
    assert score_scale(likert, {"1": 5, "2": 1}).as_dict() == {"Openness": 5.0}


def test_folder_of_scales(tmp_path: Path, reference: Path) -> None:
    for name in ("BFI.json", "16Personalities.json"):
        shutil.copy(reference / "incharacter" / name, tmp_path / name)
    shutil.copy(FIXTURES / "psychobench_mini.json", tmp_path / "questionnaires.json")
    ids = [s.id for s in load_scales_from_dir(tmp_path)]
    assert ids == ["16Personalities", "BFI", "Mini-EPQ", "Mini-Likert"]


def test_psychobench_single_file_via_load_scale_is_rejected() -> None:
    from personascope.errors import InputError

    with pytest.raises(InputError, match="holds 2 scales"):
        load_scale(FIXTURES / "psychobench_mini.json")


def _lot_r_file(item9_listed: bool = True) -> dict[str, object]:
    """InCharacter's LOT-R layout (item texts replaced by placeholders): item 9 has no
    dimension although ``categories`` and ``reverse`` list it."""
    keyed = {"1": "positive", "3": "negative", "4": "positive", "7": "negative", "9": "negative"}
    keyed["10"] = "positive"
    questions = {
        str(i): {
            "origin_en": f"Statement {i}.",
            "rewritten_en": f"Question {i}?",
            "dimension": "Optimistic" if str(i) in keyed and i != 9 else None,
            "category": keyed.get(str(i), "positive"),
        }
        for i in range(1, 11)
    }
    listed = [1, 3, 4, 7, 9, 10] if item9_listed else [1, 3, 4, 7, 10]
    return {
        "name": "LOT-R",
        "compute_mode": "SUM",
        "range": [0, 4],
        "reverse": [3, 7, 9],
        "categories": [
            {
                "cat_name": "Optimistic",
                "cat_questions": listed,
                "crowd": [{"mean": 14.7, "std": 4, "n": 1288}],
            }
        ],
        "questions": questions,
    }


def test_lot_r_scores_item_9(tmp_path: Path) -> None:
    # Scheier, Carver & Bridges (1994): LOT-R scores items 1, 3, 4, 7, 9, 10 (3, 7, 9 reversed), 0-24.
    path = tmp_path / "LOT-R.json"
    path.write_text(json.dumps(_lot_r_file()))
    scale = load_scale(path)
    assert sorted((i.id for i in scale.items), key=int) == ["1", "3", "4", "7", "9", "10"]
    assert {i.id: i.key for i in scale.items}["9"] == "-"
    assert sorted((f.id for f in scale.fillers), key=int) == ["2", "5", "6", "8"]
    assert scale.score_bounds("Optimistic") == (0.0, 24.0)
    # all "strongly agree" (4): 1, 4, 10 give 4 each; 3, 7, 9 reversed give 0 each
    answers = {str(i): 4 for i in range(1, 11)}
    assert score_scale(scale, answers).as_dict() == {"Optimistic": 12.0}


def test_lot_r_correction_needs_the_files_own_category(tmp_path: Path) -> None:
    # A file whose categories do not list item 9 is left as it is (no re-keying by guesswork).
    path = tmp_path / "LOT-R.json"
    path.write_text(json.dumps(_lot_r_file(item9_listed=False)))
    scale = load_scale(path)
    assert "9" not in {i.id for i in scale.items} and "9" in {f.id for f in scale.fillers}
