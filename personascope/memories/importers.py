"""Importers: ChatHaruhi character folders / JSONL, and InCharacter's character data.

* ChatHaruhi (Li et al., 2023) stores a character as a folder with
  ``system_prompt.txt`` and ``texts/*.txt`` (one dialogue or scene chunk per file),
  or as a JSONL file whose rows hold ``text`` plus embedding columns; the row whose
  embedding column says ``"system_prompt"`` is the system prompt, rows saying
  ``"config"`` are skipped.
* InCharacter (Wang et al., ACL 2024) ships ``characters.json`` (aliases, agent
  names, the in-universe "experimenter") and ``characters_labels.json`` (human
  labels per scale and dimension, from ``annotation`` or ``pdb``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import personascope.safeio as safeio
from personascope.errors import InputError
from personascope.memories.characters import Character, character_from_data


def _read_json(path: Path) -> Any:
    return safeio.read_data_file(path)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def import_chatharuhi(
    path: str | Path,
    *,
    id: str | None = None,
    name: str | None = None,
    experimenter: str = "the interviewer",
    aliases: list[str] | None = None,
    language: str = "en",
) -> Character:
    """A character from a ChatHaruhi folder or JSONL file."""
    p = Path(path)
    system_prompt = ""
    memories: list[str] = []
    if p.is_dir():
        sp = p / "system_prompt.txt"
        if not sp.is_file():
            raise InputError(p, "system_prompt.txt", "missing (expected a ChatHaruhi character folder)")
        system_prompt = safeio.read_text_bounded(sp).strip()
        texts = p / "texts"
        if texts.is_dir():
            memories = [safeio.read_text_bounded(f).strip() for f in sorted(texts.glob("*.txt"))]
    elif p.is_file() and p.suffix == ".jsonl":
        for n, row in safeio.read_jsonl(p):
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                raise InputError(p, f"line {n}", "expected an object with a 'text' string")
            markers = {v for k, v in row.items() if k != "text" and isinstance(v, str)}
            if "system_prompt" in markers:
                system_prompt = row["text"].strip()
            elif "config" not in markers:
                memories.append(row["text"].strip())
    else:
        raise InputError(p, "(path)", "expected a ChatHaruhi folder or a .jsonl file")
    if not system_prompt:
        raise InputError(
            p,
            "system_prompt",
            "no system prompt found (expected system_prompt.txt or a JSONL row marked 'system_prompt')",
        )
    cid = id or p.stem
    data = {
        "id": cid,
        "name": name or cid,
        "aliases": aliases or [],
        "language": language,
        "experimenter": experimenter,
        "description": system_prompt,
        "memories": list(dict.fromkeys(m for m in memories if m)),
        "source": f"ChatHaruhi import of {p.name}",
    }
    return character_from_data(data, p)


def import_incharacter(
    characters_json: str | Path,
    labels_json: str | Path,
    *,
    label_source: str = "annotation",
    haruhi_root: str | Path | None = None,
) -> list[Character]:
    """InCharacter's 32 characters with aliases, experimenters and human labels.

    Descriptions and memories come from ``haruhi_root/<ChatHaruhi agent name>``
    (a ChatHaruhi folder or ``.jsonl``) when given and present; otherwise the
    profile carries a one-line description and no memories, which is enough for
    evaluating labels against an external RPA.
    """
    cpath, lpath = Path(characters_json), Path(labels_json)
    chars = _read_json(cpath)
    labels_all = _read_json(lpath)
    if not isinstance(chars, dict):
        raise InputError(cpath, "(top level)", "expected an object keyed by character code")
    if not isinstance(labels_all, dict) or label_source not in labels_all:
        raise InputError(
            lpath,
            label_source,
            f"missing label source (expected one of "
            f"{sorted(labels_all) if isinstance(labels_all, dict) else []})",
        )
    labels_src = labels_all[label_source]
    out: list[Character] = []
    for code, info in chars.items():
        if not isinstance(info, dict) or not info.get("alias"):
            raise InputError(cpath, f"{code}.alias", "expected a non-empty list of names")
        aliases = [str(a) for a in info["alias"]]
        name = aliases[0] if all(ord(ch) < 128 for ch in aliases[0]) or len(aliases) == 1 else aliases[1]
        language = code.rsplit("-", 1)[-1] if "-" in code else "en"
        # InCharacter writes score "X" where annotators gave no score: keep it missing.
        labels = {
            scale: {dim: {"type": v["type"], "score": _number(v.get("score"))} for dim, v in dims.items()}
            for scale, dims in (labels_src.get(code) or {}).items()
        }
        description = f"You are {name}."
        memories: list[str] = []
        agent = (info.get("agent") or {}).get("ChatHaruhi")
        if haruhi_root is not None and agent:
            for candidate in (Path(haruhi_root) / agent, Path(haruhi_root) / f"{agent}.jsonl"):
                if candidate.exists():
                    imported = import_chatharuhi(candidate, id=code)
                    description, memories = imported.description, list(imported.memories)
                    break
        data = {
            "id": code,
            "name": name,
            "aliases": aliases,
            "language": language,
            "experimenter": info.get("experimenter") or "the interviewer",
            "description": description,
            "memories": memories,
            "labels": labels,
            "labels_source": f"InCharacter characters_labels.json ({label_source})",
            "source": "InCharacter characters.json",
        }
        out.append(character_from_data(data, cpath))
    return out
