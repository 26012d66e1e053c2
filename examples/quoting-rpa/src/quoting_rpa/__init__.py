"""A role-playing agent that answers in character by quoting the memories nearest to
the question: no language model, so it measures the pipeline, not a model.

It shows the three parts of a personascope RPA plug-in:

- a factory, ``build(request) -> RPA``, called once per (character, temperature,
  trial) with a :class:`personascope.agents.rpa.RPARequest`;
- an object with ``async def areply(messages) -> str``;
- the entry point ``quoter = "quoting_rpa:build"`` in the group ``personascope.rpas``
  (see ``pyproject.toml``), so ``rpa:quoter`` names it; ``rpa:quoter?quotes=2`` passes
  a parameter, and ``quoting_rpa:build`` names the factory without the entry point.

Parameters: ``quotes`` (memories quoted per answer, default 1) and ``retrieval``
(``words``: shared words, the default, no embedding model; ``store``: the request's
Chroma memory store).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any

from personascope.agents.rpa import RPARequest

__all__ = ["QuotingRPA", "build"]

_WORD = re.compile(r"[a-z']{4,}")


def _text(message: Any) -> str:
    # A malformed message (not a message, or content that is not text) is refused with
    # an exception: the pipeline records it as a failed item instead of scoring noise.
    content = message.content
    if isinstance(content, list):
        content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    if not isinstance(content, str):
        raise TypeError(f"cannot read a question from {type(content).__name__}")
    return content


class QuotingRPA:
    """Plays ``request.character``; stateless, so conversations never leak."""

    def __init__(self, request: RPARequest) -> None:
        self.character = request.character
        self.quotes = int(request.params.get("quotes", "1"))
        if self.quotes < 1:
            raise ValueError("quotes must be at least 1")
        retrieval = request.params.get("retrieval", "words")
        if retrieval not in ("words", "store"):
            raise ValueError("retrieval is 'words' or 'store'")
        self.store = request.store if retrieval == "store" else None
        self.k = request.k
        self.temperature = request.temperature
        self.seed = request.seed
        # At temperature 0 the same question always gets the same answer: a promise the
        # conformance kit checks (`personascope check-rpa rpa:quoter`).
        self.deterministic = request.temperature == 0

    def _nearest(self, question: str) -> list[str]:
        memories = list(self.character.memories)
        if self.store is not None and memories:
            return self.store.retrieve(self.character, question, k=max(self.k, self.quotes))
        words = set(_WORD.findall(question.lower()))
        ranked = sorted(memories, key=lambda m: -len(words & set(_WORD.findall(m.lower()))))
        return ranked or [self.character.description]

    async def areply(self, messages: Sequence[Any]) -> str:
        question = _text(messages[-1]) if messages else ""
        nearest = self._nearest(question)
        if self.temperature > 0:
            # Warmer: pick among the near matches, reproducibly for a given seed.
            pool = nearest[: self.quotes * 3]
            rng = random.Random(f"{self.seed}|{question}")
            nearest = rng.sample(pool, k=min(self.quotes, len(pool)))
        quoted = " ".join(nearest[: self.quotes])
        return f"Speaking as {self.character.name}: {quoted}"


def build(request: RPARequest) -> QuotingRPA:
    """The factory the entry point names: one agent per (character, temperature, trial)."""
    return QuotingRPA(request)
