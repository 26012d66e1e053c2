"""Chroma memory store with the real shipped embeddings (marked integration)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from personascope.memories.characters import Character, load_character
from personascope.memories.store import MemoryStore, collection_name, content_hash

pytestmark = pytest.mark.integration

FIXTURE = Character(
    id="fixture",
    name="Fixture",
    experimenter="Tester",
    description="A test character.",
    memories=[
        "I play the violin late at night when a problem troubles me.",
        "My brother works for the government and never leaves his club.",
        "I keep my tobacco in the toe of a Persian slipper.",
        "I once chased a criminal across the moor in thick fog.",
        "I detest large parties and crowded ballrooms.",
    ],
)


def _store() -> MemoryStore:
    # EphemeralClients share state within a process: a fresh namespace isolates each test.
    return MemoryStore.ephemeral(namespace=f"t{uuid.uuid4().hex[:8]}-")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Do you play a musical instrument?", "violin"),
        ("Tell me about your family.", "brother"),
        ("Where do you keep your smoking things?", "tobacco"),
        ("Do you enjoy going to balls and big social events?", "parties"),
    ],
)
def test_retrieval_finds_the_relevant_memory(query: str, expected: str) -> None:
    top = _store().retrieve(FIXTURE, query, k=1)
    assert len(top) == 1 and expected in top[0]


def test_k_and_char_budget() -> None:
    store = _store()
    assert len(store.retrieve(FIXTURE, "violin", k=3, max_chars=None)) == 3
    within = store.retrieve(FIXTURE, "violin", k=5, max_chars=120)
    assert sum(len(m) for m in within) <= 120 and len(within) >= 1
    assert store.retrieve(FIXTURE, "violin", k=1, max_chars=10) == [FIXTURE.memories[0][:10]]
    assert store.retrieve(FIXTURE, "violin", k=0) == []


def test_index_is_reused_and_rebuilt_on_change() -> None:
    store = _store()
    store.index(FIXTURE)
    store.index(FIXTURE)
    assert store.indexed == ["fixture"]
    changed = FIXTURE.model_copy(update={"memories": [*FIXTURE.memories, "A new memory of a dog."]})
    assert content_hash(changed.memories) != content_hash(FIXTURE.memories)
    store.index(changed)
    assert store.indexed == ["fixture", "fixture"]
    assert "dog" in store.retrieve(changed, "Do you have a pet dog?", k=1)[0]


SCRIPT = """
import sys
from personascope.memories.characters import load_character
from personascope.memories.store import MemoryStore
store = MemoryStore(path=sys.argv[1])
store.index(load_character("jay-gatsby"))
print("built" if store.indexed else "reused")
"""


def test_collections_are_reused_across_processes(tmp_path: Path) -> None:
    runs = [
        subprocess.run(
            [sys.executable, "-c", SCRIPT, str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        ).stdout.strip()
        for _ in range(2)
    ]
    assert runs == ["built", "reused"]
    store = MemoryStore(path=tmp_path)
    gatsby = load_character("jay-gatsby")
    assert "green light" in " ".join(store.retrieve(gatsby, "What do you look at across the bay?", k=3))
    assert store.indexed == []


def test_collection_names_are_valid() -> None:
    import re

    a, b, c = collection_name("Lucifer Morningstar-en"), collection_name("雷电将军"), collection_name("钟离")
    assert a.startswith("ps-Lucifer-Morningstar-en-")
    assert len({a, b, c}) == 3
    for name in (a, b, c):
        assert re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9._-]{1,510}[a-zA-Z0-9]", name)
