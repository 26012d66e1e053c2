"""Character memories in Chroma: one collection per character, built once, reused.

A collection's metadata records the sha256 of its memories and the embedding
model; if a profile's memories change, the collection is rebuilt, otherwise it is
reused across processes without re-embedding anything.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection

from personascope.memories.characters import Character
from personascope.memories.embeddings import MODEL_NAME, MiniLMEmbeddingFunction


def content_hash(memories: list[str]) -> str:
    """sha256 of the memories and the embedding model: changes iff re-indexing is needed."""
    payload = json.dumps({"model": MODEL_NAME, "memories": memories}, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def collection_name(character_id: str, namespace: str = "") -> str:
    """A valid, unique Chroma collection name for a character (3-512 chars of [a-zA-Z0-9._-]).

    The readable slug may lose characters (e.g. a Chinese name), so a short hash of
    the exact id keeps different characters apart.
    """
    full = f"{namespace}{character_id}"
    slug = re.sub(r"[^a-zA-Z0-9._-]+", "-", full).strip("-._")[:400]
    digest = hashlib.sha256(full.encode()).hexdigest()[:10]
    return f"ps-{slug}-{digest}" if slug else f"ps-{digest}"


class MemoryStore:
    """Retrieval of character memories.

    Parameters
    ----------
    client : a Chroma client; default a ``PersistentClient`` at ``path``.
    path : folder for the persistent client (e.g. ``<experiment>/memories``).
    namespace : prefix of collection names (isolates tests sharing an ``EphemeralClient``).
    """

    def __init__(
        self, client: ClientAPI | None = None, path: str | Path | None = None, namespace: str = ""
    ) -> None:
        if client is None:
            if path is None:
                raise ValueError("MemoryStore needs a Chroma client or a path")
            Path(path).mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(path=str(path))
        self.client = client
        self.namespace = namespace
        self.embedding = MiniLMEmbeddingFunction()
        self.indexed: list[str] = []  # character ids (re)built by this store, for tests and logs

    @classmethod
    def ephemeral(cls, namespace: str = "") -> MemoryStore:
        return cls(client=chromadb.EphemeralClient(), namespace=namespace)

    def index(self, character: Character) -> Collection:
        """The character's collection, (re)built only when its memories changed."""
        name = collection_name(character.id, self.namespace)
        digest = content_hash(character.memories)
        try:
            col = self.client.get_collection(name, embedding_function=self.embedding)  # type: ignore[arg-type]
            if (col.metadata or {}).get("content_hash") == digest:
                return col
            self.client.delete_collection(name)
        except Exception as exc:  # chromadb raises NotFoundError/ValueError by version
            if "does not exist" not in str(exc) and "not found" not in str(exc).lower():
                raise
        col = self.client.create_collection(
            name,
            embedding_function=self.embedding,  # type: ignore[arg-type]
            metadata={"content_hash": digest, "character": character.id, "model": MODEL_NAME},
        )
        if character.memories:
            ids = [f"m{i}" for i in range(len(character.memories))]
            for start in range(0, len(ids), 1000):
                col.add(ids=ids[start : start + 1000], documents=character.memories[start : start + 1000])
        self.indexed.append(character.id)
        return col

    def retrieve(
        self, character: Character, query: str, *, k: int = 4, max_chars: int | None = 1500
    ) -> list[str]:
        """The ``k`` memories nearest to ``query``, best first, cut to ``max_chars`` in all.

        Memories are added in rank order while the running total stays within the
        budget; the first memory is always kept (truncated if it alone is longer).
        """
        if k <= 0 or not character.memories:
            return []
        col = self.index(character)
        result: dict[str, Any] = dict(
            col.query(query_texts=[query], n_results=min(k, len(character.memories)))
        )
        docs: list[str] = list((result.get("documents") or [[]])[0])
        if max_chars is None:
            return docs
        out: list[str] = []
        total = 0
        for doc in docs:
            if not out and len(doc) > max_chars:
                return [doc[:max_chars]]
            if total + len(doc) > max_chars:
                break
            out.append(doc)
            total += len(doc)
        return out
