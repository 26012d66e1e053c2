"""Scripted fake chat models for tests and demos (never a default).

Modelled on inspect_ai's ``mockllm``: a deterministic model whose replies are
scripted per prompt pattern, which supports structured output, can inject latency
and errors, and counts its calls. Named fakes are reachable from a spec string
(``fake:<name>``) so whole graphs run offline in tests::

    register_fake("shy", lambda: FakeChatModel(rules=[(r"party", "I stay home.")]))
    resolve_model("fake:shy")
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableConfig
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from personascope.errors import InputError

Reply = str | dict[str, Any] | Callable[[list[BaseMessage]], "str | dict[str, Any]"]


class FakeError(RuntimeError):
    """An error injected by a fake model."""


def _text(messages: Sequence[BaseMessage]) -> str:
    return "\n".join(str(m.content) for m in messages)


class FakeChatModel(BaseChatModel):
    """A deterministic chat model scripted by rules.

    Parameters
    ----------
    rules : list of ``(regex, reply)``; the first regex found in the prompt (all
        messages joined) decides the reply. A reply is text, a dict (returned as JSON
        text; handy for structured output) or a callable of the messages.
    responses : replies used in order when no rule matches (then ``default``).
    default : the reply when nothing else applies.
    latency : seconds to sleep per call (simulates a slow endpoint).
    fail_every : raise :class:`FakeError` on every n-th call (1-based), if set.
    fail_rate, seed : raise with this probability, reproducibly by seed.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    rules: list[tuple[str, Any]] = Field(default_factory=list)
    responses: list[Any] = Field(default_factory=list)
    default: Any = "Default output from the fake model."
    latency: float = 0.0
    fail_every: int | None = None
    fail_rate: float = 0.0
    seed: int = 0
    name_: str = "fake"

    _calls: int = PrivateAttr(default=0)
    _prompts: list[str] = PrivateAttr(default_factory=list)
    _next_response: int = PrivateAttr(default=0)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _rng: random.Random = PrivateAttr(default_factory=random.Random)
    _structured: dict[type, Runnable[LanguageModelInput, Any]] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any) -> None:
        self._rng = random.Random(self.seed)

    @property
    def _llm_type(self) -> str:
        return "personascope-fake"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"name": self.name_}

    @property
    def calls(self) -> int:
        """How many times the model was called."""
        return self._calls

    @property
    def prompts(self) -> list[str]:
        """Every prompt seen, in call order (all messages joined)."""
        return list(self._prompts)

    def reset(self) -> None:
        with self._lock:
            self._calls = 0
            self._next_response = 0
            self._prompts.clear()
            self._rng = random.Random(self.seed)

    def _reply(self, messages: list[BaseMessage]) -> str:
        prompt = _text(messages)
        with self._lock:
            self._calls += 1
            n = self._calls
            self._prompts.append(prompt)
            fail = (self.fail_every is not None and n % self.fail_every == 0) or (
                self.fail_rate > 0 and self._rng.random() < self.fail_rate
            )
            if fail:
                raise FakeError(f"injected failure on call {n} of fake model {self.name_!r}")
            reply: Any = None
            for pattern, candidate in self.rules:
                if re.search(pattern, prompt, flags=re.IGNORECASE | re.DOTALL):
                    reply = candidate
                    break
            if reply is None:
                idx = self._next_response
                self._next_response += 1
                reply = self.responses[idx] if idx < len(self.responses) else self.default
        if callable(reply):
            reply = reply(messages)
        return json.dumps(reply) if isinstance(reply, dict) else str(reply)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.latency:
            time.sleep(self.latency)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(self._reply(messages)))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.latency:
            await asyncio.sleep(self.latency)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(self._reply(messages)))])

    def with_structured_output(
        self, schema: dict[str, Any] | type, *, include_raw: bool = False, **kwargs: Any
    ) -> Runnable[LanguageModelInput, Any]:
        """Parse the scripted reply (JSON text) into ``schema``: for a Pydantic class, one
        runnable per class, as PersonaChatOpenAI's structured output is (so an instant
        model's structured call costs what a plain one does, bench_engine part 2)."""
        if include_raw:
            raise NotImplementedError("FakeChatModel supports include_raw=False only")
        if isinstance(schema, type) and issubclass(schema, BaseModel):
            runnable = self._structured.get(schema)
            if runnable is None:
                if len(self._structured) >= 256:
                    self._structured.clear()
                runnable = self._structured[schema] = _ParsedCall(self, schema)
            return runnable
        return self | JsonOutputParser()


class _ParsedCall(Runnable[LanguageModelInput, Any]):
    """The model's reply parsed by a ``PydanticOutputParser`` (its errors included),
    without running the parser as a traced runnable of its own."""

    def __init__(self, model: BaseChatModel, schema: type[BaseModel]) -> None:
        self.model = model
        self.schema = schema
        self.parser: PydanticOutputParser[Any] = PydanticOutputParser(pydantic_object=schema)

    @property
    def OutputType(self) -> Any:
        return self.schema

    def invoke(self, input: LanguageModelInput, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return self.parser.parse_result([ChatGeneration(message=self.model.invoke(input, config, **kwargs))])

    async def ainvoke(
        self, input: LanguageModelInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Any:
        message = await self.model.ainvoke(input, config, **kwargs)
        return self.parser.parse_result([ChatGeneration(message=message)])


_REGISTRY: dict[str, Callable[[], BaseChatModel]] = {}
_INSTANCES: dict[str, BaseChatModel] = {}


def register_fake(name: str, factory: Callable[[], BaseChatModel]) -> None:
    """Make ``fake:<name>`` resolve to the model built by ``factory`` (built once)."""
    _REGISTRY[name] = factory
    _INSTANCES.pop(name, None)


def fake_model(name: str) -> BaseChatModel:
    """The fake registered as ``name`` (one shared instance, so tests can count calls)."""
    if name not in _INSTANCES:
        factory = _REGISTRY.get(name)
        if factory is None:
            raise InputError(
                f"fake:{name}",
                "model",
                f"no fake model registered under this name (known: {sorted(_REGISTRY)})",
            )
        _INSTANCES[name] = factory()
    return _INSTANCES[name]


def _echo(messages: list[BaseMessage]) -> str:
    return str(messages[-1].content) if messages else ""


register_fake("echo", lambda: FakeChatModel(name_="echo", default=_echo))
register_fake(
    "neutral",
    lambda: FakeChatModel(name_="neutral", default={"analysis": "No clear evidence either way.", "score": 3}),
)
