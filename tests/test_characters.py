"""Character profiles: shipped characters, validation, importers."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from personascope.cli import main
from personascope.errors import InputError
from personascope.memories.characters import (
    builtin_character_ids,
    list_characters,
    load_character,
)
from personascope.memories.importers import import_chatharuhi, import_incharacter

from conftest import FIXTURES


def test_shipped_characters() -> None:
    chars = list_characters()
    assert len(chars) >= 8
    assert {
        "sherlock-holmes",
        "john-watson",
        "elizabeth-bennet",
        "fitzwilliam-darcy",
        "ebenezer-scrooge",
        "captain-ahab",
        "jay-gatsby",
        "alice",
    } <= set(builtin_character_ids())
    for c in chars:
        assert len(c.memories) >= 30, c.id
        assert c.description and c.experimenter and c.source
        assert len(set(c.memories)) == len(c.memories)
        assert c.labels["ipip-bfm-50"]  # labels validated against the built-in scale
    # contrasting personalities, useful for tests downstream
    ext = {c.id: c.labels["ipip-bfm-50"]["extraversion"].type for c in chars}
    assert ext["sherlock-holmes"] == "L" and ext["jay-gatsby"] == "H"


def test_all_names_longest_first() -> None:
    holmes = load_character("sherlock-holmes")
    names = holmes.all_names
    assert names[0] == "Mr. Sherlock Holmes" and names.index("Sherlock Holmes") < names.index("Holmes")


VALID: dict[str, Any] = {
    "id": "tiny",
    "name": "Tiny Tim",
    "aliases": ["Tim"],
    "experimenter": "Bob Cratchit",
    "description": "You are Tiny Tim.",
    "memories": ["God bless us, every one!"],
    "labels": {"ipip-bfm-50": {"agreeableness": {"type": "H"}}},
}


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def f(d: dict[str, Any]) -> None:
        if value is None:
            d.pop(key)
        else:
            d[key] = value

    return f


BAD: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    ("missing id", _set("id", None), "id", "required field is missing"),
    ("missing description", _set("description", None), "description", "required"),
    ("empty description", _set("description", "   "), "description", "at least 1 character"),
    ("missing experimenter", _set("experimenter", None), "experimenter", "required"),
    ("bad id", _set("id", "!bad"), "id", "pattern"),
    ("aliases not a list", _set("aliases", "Tim"), "aliases", "valid list"),
    ("empty memory", _set("memories", ["ok", " "]), "memories[1]", "empty memory"),
    ("duplicate memory", _set("memories", ["same", "same"]), "memories[1]", "duplicate"),
    (
        "bad label type",
        _set("labels", {"ipip-bfm-50": {"agreeableness": {"type": "M"}}}),
        "labels.ipip-bfm-50.agreeableness.type",
        "'H', 'L' or 'X'",
    ),
    (
        "unknown label dimension",
        _set("labels", {"ipip-bfm-50": {"charm": {"type": "H"}}}),
        "labels.ipip-bfm-50.charm",
        "not a dimension of ipip-bfm-50",
    ),
    ("unknown field", _set("personality", "nice"), "personality", "unknown field"),
    ("missing memory file", _set("memories_file", "nope.txt"), "memories_file", "does not exist"),
    ("memory file not a string", _set("memories_file", 3), "memories_file", "relative path"),
]


@pytest.mark.parametrize(("name", "mutate", "field", "expected"), BAD, ids=[b[0] for b in BAD])
def test_malformed_profiles(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    mutate: Callable[[dict[str, Any]], None],
    field: str,
    expected: str,
) -> None:
    data = copy.deepcopy(VALID)
    mutate(data)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError) as info:
        load_character(path)
    assert info.value.field == field and expected in info.value.detail, str(info.value)
    assert str(path) in str(info.value)
    assert main(["characters", "validate", str(path)]) == 2
    assert capsys.readouterr().err.strip() == f"error: {info.value}"


def test_memories_file_txt_and_jsonl(tmp_path: Path) -> None:
    (tmp_path / "m.txt").write_text("first scene\nstill first\n\nsecond scene\n")
    (tmp_path / "m.jsonl").write_text('{"text": "third"}\n"fourth"\n')
    data = {**VALID, "memories_file": "m.txt"}
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(data))
    assert load_character(tmp_path / "a.yaml").memories == [
        "God bless us, every one!",
        "first scene\nstill first",
        "second scene",
    ]
    data = {**VALID, "memories": [], "memories_file": "m.jsonl"}
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(data))
    assert load_character(tmp_path / "b.yaml").memories == ["third", "fourth"]
    (tmp_path / "m.jsonl").write_text('{"text": "ok"}\n{broken\n')
    with pytest.raises(InputError, match=r"m\.jsonl: line 2: invalid JSON"):
        load_character(tmp_path / "b.yaml")


def test_unknown_character() -> None:
    with pytest.raises(InputError, match="not a shipped character"):
        load_character("moriarty")


def test_import_chatharuhi_folder_and_jsonl() -> None:
    holmes = import_chatharuhi(FIXTURES / "haruhi/holmes", name="Sherlock Holmes", experimenter="Watson")
    assert holmes.description == "You are Sherlock Holmes, a consulting detective."
    assert len(holmes.memories) == 2 and "violin" in holmes.memories[0]
    scrooge = import_chatharuhi(FIXTURES / "haruhi/scrooge.jsonl", experimenter="Bob")
    assert scrooge.id == "scrooge" and scrooge.description == "You are Ebenezer Scrooge, a miser."
    assert scrooge.memories == ["Scrooge: Bah! Humbug!", "Scrooge: Are there no prisons?"]
    with pytest.raises(InputError, match=r"system_prompt\.txt"):
        import_chatharuhi(FIXTURES / "haruhi")


def test_import_incharacter(reference: Path) -> None:
    chars = import_incharacter(
        reference / "incharacter/characters.json",
        reference / "incharacter/characters_labels.json",
        haruhi_root=FIXTURES / "haruhi",
    )
    assert len(chars) == 32
    by_id = {c.id: c for c in chars}
    hermione = by_id["Hermione-en"]
    assert hermione.experimenter == "Harry" and "Hermione Granger" in hermione.aliases
    assert hermione.labels["BFI"]["Extraversion"].type == "H"
    assert hermione.labels["BFI"]["Extraversion"].score == 4.0
    assert by_id["raidenShogun-zh"].language == "zh"
    pdb = import_incharacter(
        reference / "incharacter/characters.json",
        reference / "incharacter/characters_labels.json",
        label_source="pdb",
    )
    assert pdb[0].labels["BFI"] != hermione.labels["BFI"]
    with pytest.raises(InputError, match="missing label source"):
        import_incharacter(
            reference / "incharacter/characters.json",
            reference / "incharacter/characters_labels.json",
            label_source="nope",
        )
