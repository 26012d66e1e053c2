"""InCharacter and PsychoBench questionnaire files import unchanged."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from personascope.scales import load_scale, load_scales_from_dir, load_scales_from_file
from personascope.scales.schema import ScoringMode

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
    s = scale.score({i.id: 7 for i in scale.items})
    expected = ((7 * 7 + 6 * 1) / 13 - 1) / 6 * 100
    assert math.isclose(s.as_dict()["E/I"] or 0, expected)


def test_incharacter_fixture_fillers_and_poles() -> None:
    scale = load_scale(FIXTURES / "incharacter_mini.json")
    assert [i.id for i in scale.items] == ["1", "2", "3", "4"]
    assert [f.id for f in scale.fillers] == ["5"]
    assert scale.scoring is ScoringMode.PERCENT
    assert {i.id: i.key for i in scale.items} == {"1": "+", "2": "-", "3": "-", "4": "+"}
    # fillers are accepted in answers and ignored
    s = scale.score({"1": 7, "2": 1, "3": 1, "4": 7, "5": 3})
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
    s = epq.score({"1": 1, "2": 0, "3": 0})
    assert s.as_dict() == {"Extraversion": 2.0, "Neuroticism": 0.0}
    assert math.isclose(s.dimensions["Extraversion"].norms[0].z, (2 - 1.2) / 0.6)
    assert likert.range == (1, 5) and likert.scoring is ScoringMode.AVG
    assert likert.score({"1": 5, "2": 1}).as_dict() == {"Openness": 5.0}


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
