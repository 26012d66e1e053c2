"""Answers files: a mapping ``{item_id: value or null}``, optionally under ``answers:``."""

from __future__ import annotations

from pathlib import Path

from personascope.errors import InputError
from personascope.scales.loader import read_data_file


def read_answers(path: str | Path) -> dict[str, float | None]:
    """Read an answers file; raise :class:`InputError` naming the bad entry."""
    data = read_data_file(Path(path))
    if isinstance(data, dict) and isinstance(data.get("answers"), dict):
        data = data["answers"]
    if not isinstance(data, dict) or not data:
        raise InputError(path, "answers", "expected a non-empty mapping of item id to answer")
    answers: dict[str, float | None] = {}
    for key, value in data.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise InputError(path, f"answers[{key}]", f"expected a number or null, got {value!r}")
        answers[str(key)] = None if value is None else float(value)
    return answers
