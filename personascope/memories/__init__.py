"""What characters remember: character profiles, labels and the Chroma memory store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from personascope._lazy import lazy_getattr

if TYPE_CHECKING:
    from personascope.memories.characters import (
        Character,
        Label,
        builtin_character_ids,
        list_characters,
        load_character,
        load_character_file,
    )
    from personascope.memories.labels import labels_frame
    from personascope.memories.store import MemoryStore

_EXPORTS = {
    "Character": "personascope.memories.characters",
    "Label": "personascope.memories.characters",
    "load_character": "personascope.memories.characters",
    "load_character_file": "personascope.memories.characters",
    "list_characters": "personascope.memories.characters",
    "builtin_character_ids": "personascope.memories.characters",
    "MemoryStore": "personascope.memories.store",
    "labels_frame": "personascope.memories.labels",
}
__all__ = [
    "Character",
    "Label",
    "MemoryStore",
    "builtin_character_ids",
    "labels_frame",
    "list_characters",
    "load_character",
    "load_character_file",
]
__getattr__ = lazy_getattr("personascope.memories", _EXPORTS)
