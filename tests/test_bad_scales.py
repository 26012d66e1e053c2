"""Malformed scale files: one clear error naming file, field and expectation."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from personascope.cli import main
from personascope.errors import InputError
from personascope.scales import load_scale

VALID: dict[str, Any] = {
    "id": "mini",
    "name": "Mini",
    "scoring": "AVG",
    "range": [1, 5],
    "response_options": [{"value": v, "label": f"option {v}"} for v in range(1, 6)],
    "dimensions": [
        {"id": "E", "name": "Extraversion", "facets": {"E1": "Friendliness"}},
        {"id": "N", "name": "Neuroticism"},
    ],
    "items": [
        {"id": "1", "text": "Am the life of the party.", "dimension": "E", "key": "+", "facet": "E1"},
        {"id": "2", "text": "Keep in the background.", "dimension": "E", "key": "-"},
        {"id": "3", "text": "Worry about things.", "dimension": "N", "key": "+"},
    ],
    "norms": [
        {"dimension": "E", "population": "adults", "mean": 3.2, "sd": 0.8, "metric": "AVG", "source": "test"}
    ],
}

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    def mutate(d: dict[str, Any]) -> None:
        *head, last = path.split(".")
        target: Any = d
        for p in head:
            target = target[int(p)] if p.isdigit() else target[p]
        if value is _DELETE:
            del target[int(last) if last.isdigit() else last]
        else:
            target[int(last) if last.isdigit() else last] = value

    return mutate


_DELETE = object()

CASES: list[tuple[str, Mutation, str, str]] = [
    ("missing id", _set("id", _DELETE), "id", "required field is missing"),
    ("missing items", _set("items", _DELETE), "items", "required field is missing"),
    ("missing scoring", _set("scoring", _DELETE), "scoring", "required field is missing"),
    ("bad scoring mode", _set("scoring", "MEDIAN"), "scoring", "'AVG', 'SUM' or 'PERCENT'"),
    ("unknown key", _set("items.1.key", "minus"), "items[2].key", "'+' or '-'"),
    ("item in unknown dimension", _set("items.2.dimension", "O"), "items[3].dimension", "not a dimension"),
    ("item in two dimensions", _set("items.0.dimension", ["E", "N"]), "items[1].dimension", "valid string"),
    ("duplicate item id", _set("items.2.id", "1"), "items", "duplicate id(s) ['1']"),
    ("duplicate dimension id", _set("dimensions.1.id", "E"), "dimensions", "duplicate"),
    ("option outside range", _set("response_options.4.value", 7), "response_options", "outside range"),
    (
        "options not increasing",
        _set("response_options.0.value", 3),
        "response_options",
        "strictly increasing",
    ),
    ("inverted range", _set("range", [5, 1]), "range", "min < max"),
    (
        "norm for unknown dimension",
        _set("norms.0.dimension", "Q"),
        "norms[adults].dimension",
        "not a dimension",
    ),
    ("norm with zero sd", _set("norms.0.sd", 0), "norms[E].sd", "greater than 0"),
    (
        "dimension without items",
        _set("dimensions", [*VALID["dimensions"], {"id": "O", "name": "O"}]),
        "dimensions",
        "have no items",
    ),
    ("unknown field", _set("itemz", []), "itemz", "unknown field"),
    ("empty item text", _set("items.0.text", ""), "items[1].text", "at least 1 character"),
    ("unknown facet", _set("items.0.facet", "E9"), "items[1].facet", "not a facet"),
    ("bad id characters", _set("id", "my scale!"), "id", "pattern"),
    (
        "reference alpha > 1",
        _set("dimensions.1.reference_alpha", {"value": 1.5, "source": "x"}),
        "dimensions[N].reference_alpha.value",
        "less than or equal to 1",
    ),
]


@pytest.mark.parametrize(("name", "mutate", "field", "expected"), CASES, ids=[c[0] for c in CASES])
def test_malformed_scale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, mutate: Mutation, field: str, expected: str
) -> None:
    data = copy.deepcopy(VALID)
    mutate(data)
    path = tmp_path / "scale.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError) as info:
        load_scale(path)
    err = info.value
    assert err.source == str(path)
    assert err.field == field, str(err)
    assert expected in err.detail, str(err)
    # The CLI prints the same error as one line and exits non-zero.
    assert main(["scales", "validate", str(path)]) == 2
    out = capsys.readouterr()
    lines = out.err.strip().splitlines()
    assert lines == [f"error: {err}"]
    assert out.out == ""


def test_valid_fixture_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "scale.yaml"
    path.write_text(yaml.safe_dump(VALID))
    assert load_scale(path).id == "mini"
    assert main(["scales", "validate", str(path)]) == 0


@pytest.mark.parametrize(
    ("content", "suffix", "field", "expected"),
    [
        ("id: [unclosed", ".yaml", "line 1 column 14", "invalid YAML"),
        ('{"id": "x",}', ".json", "line 1 column 12", "invalid JSON"),
        ("- just\n- a list\n", ".yaml", "[0]", "expected a questionnaire object"),
        ("42", ".yaml", "(top level)", "expected a mapping"),
    ],
)
def test_unparseable_files(tmp_path: Path, content: str, suffix: str, field: str, expected: str) -> None:
    path = tmp_path / f"bad{suffix}"
    path.write_text(content)
    with pytest.raises(InputError) as info:
        load_scale(path)
    assert info.value.field == field and expected in info.value.detail, str(info.value)


def test_missing_file_and_unknown_id(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file does not exist"):
        load_scale(tmp_path / "nope.yaml")
    with pytest.raises(InputError, match="not a built-in scale"):
        load_scale("ipip-neo-999")


BAD_IMPORTS: list[tuple[str, Any, str, str]] = [
    (
        "incharacter bad category",
        {
            "name": "X",
            "range": [1, 5],
            "questions": {"1": {"origin_en": "a", "dimension": "D", "category": "sideways"}},
        },
        "questions[1].category",
        "expected 'positive', 'negative'",
    ),
    (
        "incharacter missing range",
        {"name": "X", "questions": {"1": {"origin_en": "a", "dimension": "D", "category": "positive"}}},
        "range",
        "required field is missing",
    ),
    (
        "psychobench item in two categories",
        [
            {
                "name": "P",
                "questions": {"1": "a", "2": "b"},
                "scale": 6,
                "reverse": [],
                "inner_setting": "numbers from 1 to 5",
                "categories": [
                    {"cat_name": "A", "cat_questions": [1, 2]},
                    {"cat_name": "B", "cat_questions": [2]},
                ],
            }
        ],
        "[P].questions[2]",
        "two dimensions",
    ),
    (
        "psychobench scale does not match range",
        [
            {
                "name": "P",
                "questions": {"1": "a"},
                "scale": 7,
                "reverse": [],
                "inner_setting": "numbers from 1 to 5",
                "categories": [{"cat_name": "A", "cat_questions": [1]}],
            }
        ],
        "[P].scale",
        "min + max = 6",
    ),
    (
        "psychobench unknown reverse id",
        [
            {
                "name": "P",
                "questions": {"1": "a"},
                "scale": 6,
                "reverse": [9],
                "inner_setting": "numbers from 1 to 5",
                "categories": [{"cat_name": "A", "cat_questions": [1]}],
            }
        ],
        "[P].reverse",
        "not question ids",
    ),
]


@pytest.mark.parametrize(("name", "data", "field", "expected"), BAD_IMPORTS, ids=[c[0] for c in BAD_IMPORTS])
def test_malformed_imports(tmp_path: Path, name: str, data: Any, field: str, expected: str) -> None:
    path = tmp_path / "q.json"
    path.write_text(json.dumps(data))
    from personascope.scales import load_scales_from_file

    with pytest.raises(InputError) as info:
        load_scales_from_file(path)
    assert info.value.field == field and expected in info.value.detail, str(info.value)
