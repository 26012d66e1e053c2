"""Human labels of characters as a table: from a labels file or the shipped profiles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from personascope.errors import InputError
from personascope.memories.characters import load_character
from personascope.scales.loader import read_data_file

LABEL_COLUMNS = ["character", "scale", "dimension", "score", "type"]


def _file_rows(labels_file: str | Path) -> list[dict[str, Any]]:
    data = read_data_file(Path(labels_file))
    if isinstance(data, dict) and "annotation" in data:  # InCharacter characters_labels.json
        data = data["annotation"]
    if not isinstance(data, dict):
        raise InputError(
            labels_file, "(top level)", "expected {character: {scale: {dimension: {type, score}}}}"
        )
    rows: list[dict[str, Any]] = []
    for char, scales in data.items():
        for scale, dims in (scales or {}).items():
            for dim, lab in (dims or {}).items():
                if not isinstance(lab, dict) or lab.get("type") not in ("H", "L", "X"):
                    raise InputError(labels_file, f"{char}.{scale}.{dim}.type", "expected H, L or X")
                score = lab.get("score")
                value = float(score) if isinstance(score, int | float) else float("nan")
                rows.append(
                    {"character": char, "scale": scale, "dimension": dim, "type": lab["type"], "score": value}
                )
    return rows


def labels_frame(characters: list[str], labels_file: str | Path | None = None) -> pd.DataFrame:
    """Rows (character, scale, dimension, score, type): from ``labels_file`` (InCharacter's
    ``characters_labels.json`` or our YAML), else from the characters' profiles."""
    if labels_file:
        return pd.DataFrame(_file_rows(labels_file), columns=LABEL_COLUMNS)
    rows = [
        {
            "character": char,
            "scale": scale,
            "dimension": dim,
            "type": lab.type,
            "score": float("nan") if lab.score is None else lab.score,
        }
        for char in characters
        for scale, dims in load_character(char).labels.items()
        for dim, lab in dims.items()
    ]
    return pd.DataFrame(rows, columns=LABEL_COLUMNS)
