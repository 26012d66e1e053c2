"""A persistent LLM result cache for LangChain chat models, stored in SQLite.

It plugs into LangChain's own caching (``BaseChatModel(cache=...)``): LangChain
builds the key from the serialized model (model, base URL, temperature, max tokens,
seed and the trial index of :class:`~personascope.agents.models.PersonaChatOpenAI`;
never the API key, which LangChain serializes as a secret reference) and the
messages. The storage is LangGraph's ``SqliteCache``.

Why per call and not LangGraph's node cache (``CachePolicy``): benchmarks/bench_cache.py
measures the node cache faster on a fully cached pass (0.15 of the per-call time per
run, since a hit skips the whole node), but a node's cache key is its input only, not
the run context (RPA model, temperature, trial, method, assessor), and whatever the
node returns is cached, including an answer recorded as failed (a timeout would be
replayed on every re-run). The per-call key holds every model parameter, and a failed
call is never cached. A fully cached pass is also rare: finished runs are skipped by
their checkpoints before any node runs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from langchain_core.caches import RETURN_VAL_TYPE, BaseCache
from langchain_core.messages import message_to_dict, messages_from_dict
from langchain_core.outputs import ChatGeneration, Generation
from langgraph.cache.sqlite import SqliteCache

_NS = ("personascope", "llm")
log = logging.getLogger(__name__)


def _encode(generations: Sequence[Generation]) -> str:
    rows = []
    for g in generations:
        row: dict[str, Any] = {"text": g.text, "info": g.generation_info}
        if isinstance(g, ChatGeneration):
            row["message"] = message_to_dict(g.message)
        rows.append(row)
    return json.dumps(rows)


def _decode(raw: str) -> list[Generation]:
    out: list[Generation] = []
    for row in json.loads(raw):
        if "message" in row:
            msg = messages_from_dict([row["message"]])[0]
            out.append(ChatGeneration(message=msg, generation_info=row["info"]))
        else:
            out.append(Generation(text=row["text"], generation_info=row["info"]))
    return out


def _key(prompt: str, llm_string: str) -> str:
    return hashlib.sha256(f"{llm_string}\x00{prompt}".encode()).hexdigest()


class LLMCache(BaseCache):
    """LangChain cache backed by a SQLite file; safe across threads and processes."""

    _stores: ClassVar[dict[str, SqliteCache[str]]] = {}

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        key = str(self.path.resolve())
        # One connection per file per process: SQLite serialises writers anyway.
        store = LLMCache._stores.get(key)
        if store is None:
            store = SqliteCache(path=key)
            LLMCache._stores[key] = store
        self._store = store
        self.hits = 0
        self.misses = 0

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        k = (_NS, _key(prompt, llm_string))
        try:
            found = self._store.get([k])
        except sqlite3.Error as exc:
            # The cache is an optimisation: a file locked by another worker past SQLite's
            # busy timeout, or damaged, must not fail the model call. The checkpoints are
            # what guarantees that nothing is asked twice.
            log.warning("LLM cache %s unreadable (%s): calling the model", self.path, exc)
            found = {}
        if k not in found:
            self.misses += 1
            return None
        self.hits += 1
        return _decode(found[k])

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        try:
            self._store.set({(_NS, _key(prompt, llm_string)): (_encode(return_val), None)})
        except sqlite3.Error as exc:
            log.warning("LLM cache %s not written (%s)", self.path, exc)

    def clear(self, **kwargs: Any) -> None:
        self._store.clear([_NS])
