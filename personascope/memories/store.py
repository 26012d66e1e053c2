"""Character memories in Chroma: one collection per character, built once, reused.

A collection's metadata records the sha256 of its memories and the embedding
model; if a profile's memories change, the collection is rebuilt, otherwise it is
reused across processes without re-embedding anything.

Building is atomic as far as readers can tell:

* one builder at a time per character, across threads (a lock per collection) and
  processes (``fcntl.flock`` on ``<store>/.locks/<collection>.lock``); a reader that
  finds no valid collection takes the same lock, so it waits for a build in progress
  instead of querying a half-filled collection (which answered the first questions of
  a fresh run with no memories);
* the content hash is written only after every document is in, and on open the
  document count is checked too: a build killed half-way (``kill -9``) leaves a
  collection without the hash, or one whose count does not match, and the next open
  rebuilds it.

Query vectors come from :func:`personascope.memories.embeddings.embed_questions`:
each distinct question is embedded once per process and reused for every character.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: the thread lock still holds within a process
    fcntl = None  # type: ignore[assignment]

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection

from personascope.memories.characters import Character
from personascope.memories.embeddings import MODEL_NAME, MiniLMEmbeddingFunction

# Thread locks per (store, collection), process-wide: several MemoryStore objects on one
# folder (one per graph, per worker thread) must still build a collection once.
_THREAD_LOCKS: dict[tuple[str, str], threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


def _thread_lock(scope: str, name: str) -> threading.Lock:
    with _THREAD_LOCKS_GUARD:
        return _THREAD_LOCKS.setdefault((scope, name), threading.Lock())


@contextmanager
def _file_lock(path: Path | None) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` (released by the kernel if the process dies)."""
    if path is None or fcntl is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _is_missing(exc: Exception) -> bool:
    # chromadb raises NotFoundError, ValueError or InvalidCollectionException by version.
    text = str(exc).lower()
    return "does not exist" in text or "not found" in text or type(exc).__name__ == "NotFoundError"


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
        self.path = Path(path).resolve() if path is not None else None
        # Locks are per folder for persistent stores, per client otherwise (EphemeralClients
        # of one process share their collections, so they share one scope).
        self._scope = str(self.path) if self.path is not None else "ephemeral"
        self.embedding = MiniLMEmbeddingFunction()
        self.indexed: list[str] = []  # character ids (re)built by this store, for tests and logs
        # Collections verified by this store: name -> (content hash, collection). Later
        # retrievals skip the locks and the count check.
        self._ready: dict[str, tuple[str, Collection]] = {}

    @classmethod
    def ephemeral(cls, namespace: str = "") -> MemoryStore:
        return cls(client=chromadb.EphemeralClient(), namespace=namespace)

    @contextmanager
    def _locked(self, name: str) -> Iterator[None]:
        lock_file = self.path / ".locks" / f"{name}.lock" if self.path is not None else None
        with _thread_lock(self._scope, name), _file_lock(lock_file):
            yield

    def index(self, character: Character) -> Collection:
        """The character's collection, complete, (re)built only when its memories changed
        or a previous build did not finish."""
        name = collection_name(character.id, self.namespace)
        digest = content_hash(character.memories)
        ready = self._ready.get(name)
        if ready is not None and ready[0] == digest:
            return ready[1]
        with self._locked(name):
            col = self._valid(name, digest, len(character.memories))
            if col is None:
                col = self._build(name, character, digest)
            self._ready[name] = (digest, col)
            return col

    def _valid(self, name: str, digest: str, expected: int) -> Collection | None:
        """The existing collection if it is complete for ``digest``; else None (and it is deleted)."""
        try:
            col = self.client.get_collection(name, embedding_function=self.embedding)  # type: ignore[arg-type]
        except Exception as exc:
            if not _is_missing(exc):
                raise
            return None
        # A matching hash is written only after the documents; the count catches
        # collections built by older versions, which wrote the hash first.
        if (col.metadata or {}).get("content_hash") == digest and col.count() == expected:
            return col
        self.client.delete_collection(name)
        return None

    def _build(self, name: str, character: Character, digest: str) -> Collection:
        meta: dict[str, Any] = {"character": character.id, "model": MODEL_NAME}
        col = self.client.create_collection(
            name,
            embedding_function=self.embedding,  # type: ignore[arg-type]
            metadata={**meta, "state": "building"},
        )
        if character.memories:
            ids = [f"m{i}" for i in range(len(character.memories))]
            for start in range(0, len(ids), 1000):
                col.add(ids=ids[start : start + 1000], documents=character.memories[start : start + 1000])
        # Last: only now does the collection claim to hold these memories.
        col.modify(metadata={**meta, "state": "complete", "content_hash": digest})
        self.indexed.append(character.id)
        return col

    def _query(self, character: Character, vector: list[float], n: int) -> list[str]:
        for attempt in (1, 2):
            col = self.index(character)
            try:
                queries: list[Sequence[float]] = [vector]
                result: dict[str, Any] = dict(col.query(query_embeddings=queries, n_results=n))
            except Exception as exc:
                # Another process rebuilt the collection: this handle points at a deleted one.
                if attempt == 2 or not _is_missing(exc):
                    raise
                self._ready.pop(collection_name(character.id, self.namespace), None)
                continue
            return list((result.get("documents") or [[]])[0])
        raise AssertionError("unreachable")

    def retrieve(
        self, character: Character, query: str, *, k: int = 4, max_chars: int | None = 1500
    ) -> list[str]:
        """The ``k`` memories nearest to ``query``, best first, cut to ``max_chars`` in all.

        Memories are added in rank order while the running total stays within the
        budget; the first memory is always kept (truncated if it alone is longer).
        """
        if k <= 0 or not character.memories:
            return []
        vector = self.embedding.embed_questions([query])[0]
        docs = self._query(character, vector, min(k, len(character.memories)))
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
