"""Fake RPAs and assessors for graph tests (no LLM)."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from personascope.agents.fakes import FakeChatModel


class RecordingRPA:
    """Answers every question with a fixed phrase plus the question, and records what it saw."""

    def __init__(
        self, answer: str = "I would rather stay at home with a book.", replies: dict[str, str] | None = None
    ) -> None:
        self.answer = answer
        self.replies = replies or {}
        self.seen: list[list[str]] = []
        self.asked: Counter[str] = Counter()

    async def areply(self, messages: Sequence[BaseMessage]) -> str:
        texts = [str(m.content) for m in messages]
        self.seen.append(texts)
        self.asked[texts[-1]] += 1
        for pattern, reply in self.replies.items():
            if re.search(pattern, texts[-1], flags=re.I):
                return reply
        return f"{self.answer} (You asked: {texts[-1]})"


def logprob_metadata(token: str, probs: dict[str, float]) -> dict[str, Any]:
    """``response_metadata`` of a one-token reply with its top log-probabilities, as an
    OpenAI-compatible server (llama.cpp, vLLM) returns it."""
    top = [{"token": t, "logprob": math.log(p), "bytes": None} for t, p in probs.items()]
    return {
        "logprobs": {"content": [{"token": token, "logprob": math.log(probs[token]), "top_logprobs": top}]}
    }


class ScriptedChatModel(BaseChatModel):
    """A chat model whose reply is computed by :meth:`reply` from the messages and the
    call's bound arguments (``logprobs``, ``max_tokens``), sync or async."""

    @property
    def _llm_type(self) -> str:
        return "scripted-fake"

    def reply(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> AIMessage:
        raise NotImplementedError

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self.reply(messages, kwargs))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._generate(messages, stop, None, **kwargs)


def _samples(messages: list[BaseMessage]) -> list[str]:
    return re.findall(r"^Sample (\S+):", str(messages[-1].content), flags=re.M)


def er_assessor(score_of_batch: Any = None) -> FakeChatModel:
    """ER assessor: score = number of samples in the batch, unless a function is given."""

    def reply(messages: list[BaseMessage]) -> str:
        n = len(_samples(messages))
        s = score_of_batch(messages) if score_of_batch else n
        return json.dumps({"analysis": f"{n} answers", "score": s})

    return FakeChatModel(default=reply)


def oc_assessor(choice: Any = 4) -> FakeChatModel:
    """OC assessor: the same choice (or choice(item_id)) for every sample."""

    def reply(messages: list[BaseMessage]) -> str:
        ids = _samples(messages)
        return json.dumps(
            {"choices": [{"id": i, "choice": choice(i) if callable(choice) else choice} for i in ids]}
        )

    return FakeChatModel(default=reply)
