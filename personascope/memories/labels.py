"""Human labels of characters as a table: from a labels file or the shipped profiles.

Columns: ``source``, ``scale``, ``character``, ``dimension``, ``score``, ``type``, ``skip``.
``skip`` marks the pairs left out of every alignment metric: an ``X`` label, or, for
InCharacter's labels file on BFI and 16Personalities, a PDb type of ``X``
(:func:`~personascope.evaluation.alignment.incharacter_labels`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pandas as pd

from personascope.errors import InputError
from personascope.evaluation.alignment import PDB_SCALES, incharacter_labels
from personascope.memories.characters import load_character
from personascope.scales.loader import read_data_file

LABEL_COLUMNS = ["source", "scale", "character", "dimension", "score", "type", "skip"]
LabelsSource = Literal["annotation", "pdb", "both"]


def _is_incharacter(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("annotation"), dict)


def _incharacter_rows(data: dict[str, Any], source: LabelsSource) -> pd.DataFrame:
    scales = sorted({s for scales in data["annotation"].values() for s in (scales or {})})
    parts = []
    for scale in scales:
        # InCharacter reports BFI and 16Personalities against both label sources.
        sources = ["annotation", "pdb"] if source == "both" and scale in PDB_SCALES else [source]
        for src in sources:
            if src == "both":
                src = "annotation"
            if src == "pdb" and scale not in PDB_SCALES:
                continue
            parts.append(incharacter_labels(data, scale, src).assign(source=src))  # type: ignore[arg-type]
    return (
        pd.concat(parts, ignore_index=True)[LABEL_COLUMNS] if parts else pd.DataFrame(columns=LABEL_COLUMNS)
    )


def _plain_rows(data: Any, labels_file: str | Path) -> list[dict[str, Any]]:
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
                rows.append({"source": "file", "scale": scale, "character": char, "dimension": dim,
                             "score": value, "type": lab["type"], "skip": lab["type"] == "X"})  # fmt: skip
    return rows


def labels_frame(
    characters: list[str], labels_file: str | Path | None = None, source: LabelsSource = "both"
) -> pd.DataFrame:
    """Labels from ``labels_file`` (InCharacter's ``characters_labels.json`` — ``source``
    chooses its annotation or PDb labels, or both for BFI/16Personalities — or our
    ``{character: {scale: {dimension: {type, score}}}}`` YAML), else from the profiles."""
    if labels_file:
        data = read_data_file(Path(labels_file))
        if _is_incharacter(data):
            return _incharacter_rows(data, source)
        return pd.DataFrame(_plain_rows(data, labels_file), columns=LABEL_COLUMNS)
    rows = [
        {"source": "profile", "scale": scale, "character": char, "dimension": dim,
         "score": float("nan") if lab.score is None else lab.score, "type": lab.type, "skip": lab.type == "X"}
        for char in characters
        for scale, dims in load_character(char).labels.items()
        for dim, lab in dims.items()
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=LABEL_COLUMNS)
