"""One way to name a model: a spec string resolved to a LangChain chat model.

================================================  =========================================
spec                                              model
================================================  =========================================
``local`` / ``local:qwen2.5-1.5b``                embedded llama.cpp server, Qwen2.5-Coder-1.5B
``local:smollm2``                                 embedded llama.cpp server, SmolLM2-135M
``local:/path/model.gguf``                        embedded llama.cpp server, any GGUF
``openai:<model>``                                OpenAI, key from ``OPENAI_API_KEY``
``openai-compatible:<model>@<base_url>``          vLLM, Ollama, llama.cpp, LiteLLM...;
                                                  key from ``PERSONASCOPE_API_KEY`` or none
``openai-compatible:<model>@<url>,<url>,...``     a fleet of such servers, round-robin
``openai-compatible:<model>@<pool>``              a fleet named in the spec's ``endpoints``
``fake:<name>``                                   scripted fake model (tests, demos)
================================================  =========================================

Every real model is a :class:`PersonaChatOpenAI` (LangChain's ``ChatOpenAI``): the
OpenAI client retries timeouts, 429 (honouring ``Retry-After``), 5xx and refused
connections with exponential backoff; a per-endpoint semaphore bounds concurrency;
results are cached in SQLite (:mod:`personascope.agents.cache`) keyed by model,
parameters, messages and trial index. Async calls go straight through the OpenAI
client's HTTP client with its URL and headers (failures continue through the OpenAI
client); structured output
is one runnable; both keep ChatOpenAI's results (benchmarks/bench_engine.py: 0.9-1.1 ms
of CPU per call instead of 2.0 at 64 in flight).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import httpx
import openai
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import BaseMessage
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.outputs import ChatResult
from langchain_core.runnables import (
    Runnable,
    RunnableConfig,
    RunnableLambda,
    RunnableMap,
    RunnablePassthrough,
)
from langchain_core.utils.function_calling import convert_to_json_schema, convert_to_openai_tool
from langchain_openai import ChatOpenAI
from langchain_openai.chat_models.base import (
    _add_gateway_metadata,
    _handle_openai_api_error,
    _handle_openai_bad_request,
    _oai_structured_outputs_parser,
    _raise_on_refusal,
)
from openai._models import FinalRequestOptions
from openai._utils._json import openapi_dumps
from openai.lib._parsing._completions import type_to_response_format_param
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, PrivateAttr, SecretStr

from personascope.agents.endpoints import MAX_RESPONSE_BYTES, BoundedTransport, PoolTransport
from personascope.errors import InputError
from personascope.safeio import redact

Provider = Literal["local", "openai", "openai-compatible", "fake"]
PROVIDERS: tuple[Provider, ...] = ("local", "openai", "openai-compatible", "fake")
DEFAULT_MODEL = "local"


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model spec string."""

    provider: Provider
    model: str
    base_url: str | None = None

    @property
    def text(self) -> str:
        if self.provider == "openai-compatible":
            return f"{self.provider}:{self.model}@{self.base_url}"
        return f"{self.provider}:{self.model}" if self.model else self.provider


@dataclass(frozen=True)
class ModelParams:
    """Sampling and transport parameters; they come from the run context."""

    temperature: float = 0.0
    max_tokens: int | None = 512
    seed: int | None = 0
    timeout: float = 120.0
    max_retries: int = 4
    max_concurrency: int | None = None
    trial: int = 0
    cache_path: Path | None = None
    repeat_penalty: float = 1.1
    # Total seconds for one call, retries and back-off included (None: derived from
    # timeout and max_retries, see call_deadline); ``timeout`` bounds each HTTP attempt,
    # whole response included.
    deadline: float | None = None
    max_response_bytes: int = MAX_RESPONSE_BYTES
    # Ask for the log-probabilities of this many top alternatives per generated token
    # (None: none); probability-scored methods read the option tokens' mass from them.
    top_logprobs: int | None = None


def call_deadline(params: ModelParams) -> float:
    """The total deadline of one model call: ``params.deadline``, or every attempt's
    ``timeout`` plus room for back-off (up to 10 s per retry) and one ``Retry-After``
    of up to 60 s, which the OpenAI client honours."""
    if params.deadline is not None:
        return params.deadline
    return (params.timeout + 10.0) * (params.max_retries + 1) + 60.0


def parse_spec(spec: str) -> ModelSpec:
    """Parse a model spec; raise :class:`InputError` naming what is wrong.

    >>> parse_spec("local")
    ModelSpec(provider='local', model='qwen2.5-1.5b', base_url=None)
    >>> parse_spec("openai-compatible:llama3@http://127.0.0.1:8000/v1").base_url
    'http://127.0.0.1:8000/v1'
    """
    text = spec.strip()
    provider, sep, rest = text.partition(":")
    if provider not in PROVIDERS:
        raise InputError(
            spec,
            "provider",
            f"unknown provider {provider!r}; expected one of {', '.join(PROVIDERS)} "
            "(e.g. local, local:smollm2, openai:gpt-4o-mini, "
            "openai-compatible:<model>@http://host:port/v1, fake:<name>)",
        )
    if provider == "local":
        return ModelSpec("local", rest or "qwen2.5-1.5b")
    if not sep or not rest:
        raise InputError(spec, "model", f"missing model name: expected '{provider}:<model>'")
    if provider == "openai-compatible":
        from personascope.agents.endpoints import pool_urls

        model, at, url = rest.rpartition("@")
        fleet = pool_urls(url) if at else None  # a comma list is checked URL by URL here
        if not at or not model or not (fleet or url.startswith(("http://", "https://"))):
            raise InputError(
                spec,
                "base_url",
                "expected 'openai-compatible:<model>@http(s)://host:port/v1', several such URLs "
                "separated by commas, or a pool name listed under the experiment's endpoints",
            )
        return ModelSpec("openai-compatible", model, url.rstrip("/"))
    return ModelSpec(provider, rest)


# -- concurrency limit per endpoint -------------------------------------------------

_SYNC_LIMITS: dict[tuple[str, int], threading.BoundedSemaphore] = {}
_ASYNC_LIMITS: dict[tuple[str, int, int], asyncio.Semaphore] = {}
_LIMITS_LOCK = threading.Lock()


def _sync_limit(endpoint: str, n: int) -> threading.BoundedSemaphore:
    with _LIMITS_LOCK:
        return _SYNC_LIMITS.setdefault((endpoint, n), threading.BoundedSemaphore(n))


def _async_limit(endpoint: str, n: int) -> asyncio.Semaphore:
    # asyncio primitives are bound to one event loop: one semaphore per loop.
    key = (endpoint, n, id(asyncio.get_running_loop()))
    with _LIMITS_LOCK:
        return _ASYNC_LIMITS.setdefault(key, asyncio.Semaphore(n))


class MalformedResponseError(RuntimeError):
    """The endpoint kept answering 200 with a body that is not a chat completion."""


class ModelDeadlineError(TimeoutError):
    """A model call (all its attempts) did not complete within its total deadline."""


def scrub_exception(exc: BaseException) -> BaseException:
    """Redact configured secrets from ``exc`` and its causes, in place.

    In place, so the type survives: the OpenAI client's retries and callers that catch
    ``openai.APIStatusError`` still see what they expect. Some endpoints echo the
    ``Authorization`` header in their error body, which the OpenAI client copies into
    the exception's message and ``body``; whoever stores ``str(exc)`` would store the key.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < 16:
        seen.add(id(current))
        current.args = tuple(redact(a) if isinstance(a, str) else a for a in current.args)
        if isinstance(getattr(current, "message", None), str):
            current.message = redact(current.message)  # type: ignore[attr-defined]
        body = getattr(current, "body", None)
        if body is not None:
            try:
                current.body = json.loads(redact(json.dumps(body)))  # type: ignore[attr-defined]
            except (TypeError, ValueError):
                current.body = redact(str(body))  # type: ignore[attr-defined]
        current = current.__cause__ or current.__context__
    return exc


class _EmptyChoices(ValueError):
    pass


# What a 200 response that is not a usable chat completion raises inside langchain-openai:
# the OpenAI client retries transport errors and 429/5xx itself, but not these.
_MALFORMED = (json.JSONDecodeError, openai.APIResponseValidationError, _EmptyChoices, IndexError)


def _checked(result: ChatResult) -> ChatResult:
    if not result.generations:
        raise _EmptyChoices("the response has no choices")
    return result


def _backoff(attempt: int) -> float:
    return float(min(0.25 * 2**attempt, 8.0))


def _malformed_reason(exc: BaseException, attempts: int) -> str:
    return redact(f"malformed response after {attempts} attempt(s): {type(exc).__name__}: {str(exc)[:200]}")


# The request keywords of ``chat.completions.create`` that are options of the request, not
# fields of its JSON body.
_REQUEST_OPTIONS = {"extra_headers": "headers", "extra_query": "params", "timeout": "timeout"}
_STRUCTURED_CACHE_SIZE = 256


@lru_cache(maxsize=1024)
def _response_format(schema: type[BaseModel]) -> Any:
    # The strict JSON schema the OpenAI client derives from a Pydantic class (what
    # ``chat.completions.parse`` sends), built once per class instead of once per call.
    return type_to_response_format_param(schema)


def _structured_key(schema: Any, kwargs: dict[str, Any]) -> tuple[Any, ...] | None:
    """The memo key of a ``with_structured_output`` call, or None when it cannot be
    memoised safely (a dict schema can be mutated by its owner)."""
    if not isinstance(schema, type):
        return None
    key = (schema, tuple(sorted(kwargs.items())))
    try:
        hash(key)
    except TypeError:
        return None
    return key


class PersonaChatOpenAI(ChatOpenAI):
    """``ChatOpenAI`` with a per-endpoint concurrency limit and a trial index.

    ``trial`` is never sent to the server; it only separates cache entries, so
    repeated trials at temperature > 0 are distinct samples while re-running the
    same trial is answered from the cache.

    The async path sends the chat completion through the same OpenAI client (its
    retries, back-off, ``Retry-After``, timeouts and error types) with
    ``client.post`` instead of ``chat.completions.create``/``parse``, and builds the
    result in the event loop: the typed request transform, the typed response model
    and the thread hop of ``ChatOpenAI._agenerate`` were two thirds of its CPU per call
    (benchmarks/bench_engine.py prints both paths). The result is the one
    ``ChatOpenAI`` builds: same message, ``response_metadata`` (``logprobs``,
    ``finish_reason``), usage metadata and, for structured output, ``parsed``.
    """

    trial: int = 0
    max_concurrency: int = 8
    spec: str = ""
    legacy_max_tokens: bool = False
    # Total seconds for one call (all attempts); None: unbounded (the transports still
    # bound each attempt).
    deadline: float | None = None
    # with_structured_output(...) runnables by schema class and options: building one
    # derives the JSON schema and a parser chain, which callers would otherwise redo per call.
    _structured: dict[tuple[Any, ...], Runnable[LanguageModelInput, Any]] = PrivateAttr(default_factory=dict)
    # The URL and headers of the OpenAI client's chat completion requests (built once).
    _fast_target: tuple[str, dict[str, str]] | None = PrivateAttr(default=None)
    # The model's own invocation parameters (no stop, no call keywords), reported to the
    # callbacks of every call: ChatOpenAI rebuilds them from a full dump of the model, under
    # a warnings filter, each time.
    _invocation: dict[str, Any] | None = PrivateAttr(default=None)

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if not name.startswith("_"):
            self._invocation = None  # a field changed: the parameters are rebuilt

    def _get_invocation_params(self, stop: list[str] | None = None, **kwargs: Any) -> dict[str, Any]:
        if stop is not None or "tools" in kwargs:
            return super()._get_invocation_params(stop=stop, **kwargs)
        if self._invocation is None:
            self._invocation = super()._get_invocation_params(stop=None)
        # As ChatOpenAI's: {model, the model's parameters, stop, the defaults, **kwargs}.
        return {**self._invocation, **kwargs}

    def with_structured_output(self, schema: Any = None, **kwargs: Any) -> Runnable[LanguageModelInput, Any]:
        key = _structured_key(schema, kwargs)
        if key is None:
            return super().with_structured_output(schema, **kwargs)
        runnable = self._structured.get(key)
        if runnable is None:
            if len(self._structured) >= _STRUCTURED_CACHE_SIZE:
                self._structured.clear()
            if (
                issubclass(schema, BaseModel)
                and kwargs.get("method", "json_schema") == "json_schema"
                and (set(kwargs) <= {"method"})
            ):
                runnable = _StructuredCall(self, schema)
            else:
                runnable = super().with_structured_output(schema, **kwargs)
            self._structured[key] = runnable
        return runnable

    def _get_request_payload(
        self, input_: LanguageModelInput, *, stop: list[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        payload: dict[str, Any] = super()._get_request_payload(input_, stop=stop, **kwargs)
        # OpenAI renamed max_tokens to max_completion_tokens; llama.cpp's server and
        # older OpenAI-compatible servers only know (and otherwise silently ignore) the old name.
        if self.legacy_max_tokens and "max_completion_tokens" in payload:
            payload["max_tokens"] = payload.pop("max_completion_tokens")
        return payload

    @property
    def _endpoint(self) -> str:
        return str(self.openai_api_base or "https://api.openai.com/v1")

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        with _sync_limit(self._endpoint, self.max_concurrency):
            retries = self.max_retries or 0
            try:
                for attempt in range(retries + 1):
                    try:
                        return _checked(
                            super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)
                        )
                    except _MALFORMED as exc:
                        if attempt == retries:
                            raise MalformedResponseError(_malformed_reason(exc, attempt + 1)) from None
                        time.sleep(_backoff(attempt))
            except Exception as exc:
                scrub_exception(exc)
                raise
        raise AssertionError("unreachable")

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        async with _async_limit(self._endpoint, self.max_concurrency):
            # Inside the concurrency limit: waiting for a turn is not the endpoint's fault.
            deadline = asyncio.timeout(self.deadline)
            try:
                async with deadline:
                    return await self._agenerate_attempts(messages, stop, run_manager, **kwargs)
            except TimeoutError:
                if not deadline.expired():
                    raise
                raise ModelDeadlineError(
                    f"no complete answer within {self.deadline:g}s (the total deadline of a call, "
                    "retries included)"
                ) from None
            except Exception as exc:
                scrub_exception(exc)
                raise

    async def _agenerate_attempts(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        run_manager: AsyncCallbackManagerForLLMRun | None,
        **kwargs: Any,
    ) -> ChatResult:
        retries = self.max_retries or 0
        for attempt in range(retries + 1):
            try:
                return _checked(await self._acompletion(messages, stop, run_manager, **kwargs))
            except _MALFORMED as exc:
                if attempt == retries:
                    raise MalformedResponseError(_malformed_reason(exc, attempt + 1)) from None
                await asyncio.sleep(_backoff(attempt))
        raise AssertionError("unreachable")

    async def _acompletion(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        run_manager: AsyncCallbackManagerForLLMRun | None,
        **kwargs: Any,
    ) -> ChatResult:
        """One chat completion: ``ChatOpenAI._agenerate`` without its per-call overheads."""
        payload = self._get_request_payload(messages, stop=stop, **kwargs)
        if payload.get("stream") or self._use_responses_api(payload):
            return await super()._agenerate(messages, stop=stop, run_manager=run_manager, **kwargs)
        options: dict[str, Any] = {}
        for name, option in _REQUEST_OPTIONS.items():
            if name in payload:
                options[option] = payload.pop(name)
        payload.update(payload.pop("extra_body", None) or {})
        schema = payload.get("response_format")
        if isinstance(schema, type) and issubclass(schema, BaseModel):
            payload["response_format"] = _response_format(schema)
        else:
            schema = None
        try:
            raw = await self._post_completion(payload, options)
        except openai.BadRequestError as e:
            _handle_openai_bad_request(e)
            raise
        except openai.APIError as e:
            _handle_openai_api_error(e)
            raise
        response = raw.json()
        generation_info: dict[str, Any] = {}
        if self.include_response_headers:
            generation_info["headers"] = dict(raw.headers)
        _add_gateway_metadata(generation_info, raw)
        result = self._create_chat_result(response, generation_info)
        if schema is not None and result.generations:
            _parse_structured(result, response, schema)
        return result

    async def _post_completion(self, payload: dict[str, Any], options: dict[str, Any]) -> httpx.Response:
        """POST a chat completion: a first attempt straight through the OpenAI client's
        HTTP client, with the URL and headers the OpenAI client builds for it (built once:
        its request building, 0.4 ms of CPU, is the same every time); any failure goes on
        through the OpenAI client itself, with the retries left (its back-off and error
        types)."""
        client = self.root_async_client
        http = client._client
        target = self._fast_target
        if target is None and not options and isinstance(http, httpx.AsyncClient):
            target = self._fast_target = _target_of(client)
        if target is None or options or not isinstance(http, httpx.AsyncClient):
            raw: httpx.Response = await client.post(
                "/chat/completions", body=payload, options=options, cast_to=httpx.Response
            )
            return raw
        url, headers = target
        request = http.build_request("POST", url, content=openapi_dumps(payload), headers=headers)
        transport = http._transport_for_url(request.url)
        try:
            if isinstance(transport, (BoundedTransport, PoolTransport)):
                # Ours read the whole body (bounded) and keep the request: the client's
                # redirect, auth and cookie handling has nothing to do for this POST.
                response = await transport.handle_async_request(request)
            else:
                response = await http.send(request)
        except httpx.TimeoutException as exc:
            failure: Exception = openai.APITimeoutError(request=request)  # type: ignore[arg-type]
            failure.__cause__ = exc
            response = None
        except httpx.HTTPError as exc:
            failure = openai.APIConnectionError(request=request)  # type: ignore[arg-type]
            failure.__cause__ = exc
            response = None
        if response is not None:
            if response.is_success:
                return response
            failure = client._make_status_error_from_response(response)
            if not _retryable(response):
                raise failure
        retries = self.max_retries or 0
        if retries <= 0:
            raise failure
        await asyncio.sleep(_retry_after(response))
        retried: httpx.Response = await client.post(
            "/chat/completions", body=payload, options={"max_retries": retries - 1}, cast_to=httpx.Response
        )
        return retried

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        with _sync_limit(self._endpoint, self.max_concurrency):
            yield from super()._stream(*args, **kwargs)


# What the OpenAI client retries (besides transport errors): its _should_retry.
_RETRY_STATUS = {408, 409, 429}
_PER_REQUEST_HEADERS = {"content-length", "idempotency-key"}


def _retryable(response: httpx.Response) -> bool:
    should = response.headers.get("x-should-retry")
    if should in ("true", "false"):
        return bool(should == "true")
    return response.status_code in _RETRY_STATUS or response.status_code >= 500


def _retry_after(response: httpx.Response | None) -> float:
    """The OpenAI client's wait before its first retry: the server's ``Retry-After(-Ms)``
    when it is reasonable (up to 60 s), else 0.5 s with up to 25 % jitter off."""
    if response is not None:
        for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
            try:
                wait = float(response.headers.get(name, "")) * scale
            except ValueError:
                continue
            if 0 < wait <= 60:
                return wait
    return 0.5 * (1 - 0.25 * random.random())


def _target_of(client: openai.AsyncOpenAI) -> tuple[str, dict[str, str]] | None:
    """The URL and headers the OpenAI client gives its chat completion requests (built
    the way it builds them, nothing sent), or None when its key is not a fixed string
    (a key provider's token must be fetched per request)."""
    if not isinstance(client.api_key, str):
        return None
    try:
        request = client._build_request(
            FinalRequestOptions.construct(method="post", url="/chat/completions", json_data={})
        )
    except Exception:  # another client version: every call goes through the client
        return None
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _PER_REQUEST_HEADERS}
    return str(request.url), headers


class _StructuredCall(Runnable[LanguageModelInput, Any]):
    """``ChatOpenAI.with_structured_output(schema)`` (method ``json_schema``, a Pydantic
    class) as one runnable: the model bound exactly as ChatOpenAI binds it, then
    ChatOpenAI's own refusal check and parser applied to the message. LangChain's version
    chains a binding, a generator and a lambda, each a traced run with its callbacks:
    0.65 ms of CPU per structured call on top of the model call (bench_engine's stub)."""

    def __init__(self, model: PersonaChatOpenAI, schema: type[BaseModel]) -> None:
        self.schema = schema
        self.bound = model.bind(
            response_format=schema,
            ls_structured_output_format={
                "kwargs": {"method": "json_schema", "strict": None},
                "schema": convert_to_openai_tool(schema),
            },
        )

    @property
    def OutputType(self) -> Any:
        return self.schema

    def _parse(self, message: Any) -> Any:
        _raise_on_refusal(message)
        return _oai_structured_outputs_parser(message, schema=self.schema)

    def invoke(self, input: LanguageModelInput, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return self._parse(self.bound.invoke(input, config, **kwargs))

    async def ainvoke(
        self, input: LanguageModelInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Any:
        return self._parse(await self.bound.ainvoke(input, config, **kwargs))


def _parse_structured(result: ChatResult, response: dict[str, Any], schema: type[BaseModel]) -> None:
    """What ``chat.completions.parse`` adds to a structured-output completion: an error
    for a truncated or filtered answer, and the first message's ``parsed`` object and
    ``refusal`` (which ``ChatOpenAI``'s structured-output parser reads)."""
    choices = response["choices"]
    for choice in choices:
        if choice.get("finish_reason") == "length":
            raise openai.LengthFinishReasonError(completion=ChatCompletion.construct(**response))
        if choice.get("finish_reason") == "content_filter":
            raise openai.ContentFilterFinishReasonError()
    message = choices[0].get("message") or {}
    content, refusal = message.get("content"), message.get("refusal")
    parsed = schema.model_validate_json(content) if content and not refusal else None
    kwargs = result.generations[0].message.additional_kwargs
    kwargs["parsed"] = parsed
    kwargs["refusal"] = refusal


class LocalChatOpenAI(PersonaChatOpenAI):
    """Chat model for llama-cpp-python's server.

    That server answers HTTP 500 to ``response_format`` of type ``json_schema``
    (LangChain's default structured-output method) but enforces a schema given as
    ``{"type": "json_object", "schema": ...}`` by grammar-constrained decoding, so
    structured output always parses.
    """

    def with_structured_output(  # type: ignore[override]
        self,
        schema: dict[str, Any] | type,
        *,
        method: str | None = None,
        include_raw: bool = False,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        if method == "function_calling":
            return super().with_structured_output(
                schema, method="function_calling", include_raw=include_raw, **kwargs
            )
        json_schema = convert_to_json_schema(schema)
        llm = self.bind(response_format={"type": "json_object", "schema": json_schema})
        parser: Runnable[Any, Any]
        if isinstance(schema, type) and issubclass(schema, BaseModel):
            parser = PydanticOutputParser(pydantic_object=schema)
        else:
            parser = JsonOutputParser()
        if not include_raw:
            return llm | parser
        parse = RunnablePassthrough.assign(
            parsed=RunnableLambda(lambda x: x["raw"]) | parser, parsing_error=lambda _: None
        )
        fallback = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=llm) | parse.with_fallbacks([fallback], exception_key="parsing_error")


def _openai_kwargs(spec: ModelSpec, params: ModelParams) -> dict[str, Any]:
    kw: dict[str, Any] = {
        "model": spec.model,
        "temperature": params.temperature,
        "max_tokens": params.max_tokens,
        "timeout": params.timeout,
        "max_retries": params.max_retries,
        "trial": params.trial,
        "spec": spec.text,
        "deadline": call_deadline(params),
    }
    if params.seed is not None:
        kw["seed"] = params.seed
    if params.top_logprobs is not None:
        kw["logprobs"] = True
        kw["top_logprobs"] = params.top_logprobs
    if params.max_concurrency is not None:
        kw["max_concurrency"] = params.max_concurrency
    if params.cache_path is not None:
        from personascope.agents.cache import LLMCache

        kw["cache"] = LLMCache(params.cache_path)
    return kw


def resolve_model(spec: str | None = None, params: ModelParams | None = None) -> BaseChatModel:
    """Resolve a spec string to a LangChain chat model.

    ``local`` specs start (or reuse) the embedded llama.cpp server; nothing else
    touches the network until the model is called.
    """
    parsed = parse_spec(spec or DEFAULT_MODEL)
    p = params or ModelParams()
    if parsed.provider == "fake":
        from personascope.agents.fakes import fake_model

        return fake_model(parsed.model)
    kw = _openai_kwargs(parsed, p)
    if parsed.provider == "openai":
        key = os.environ.get("OPENAI_API_KEY")
        if not key:
            raise InputError(
                parsed.text,
                "OPENAI_API_KEY",
                "environment variable is not set (the key is read from the environment only)",
            )
        return PersonaChatOpenAI(api_key=SecretStr(key), **kw, **_bounded(p))
    kw["legacy_max_tokens"] = True
    if parsed.provider == "openai-compatible":
        from personascope.agents.endpoints import pool_clients, pool_urls, shared_pool

        key = os.environ.get("PERSONASCOPE_API_KEY") or "not-needed"
        assert parsed.base_url is not None
        urls = pool_urls(parsed.base_url)
        if urls is None:
            return PersonaChatOpenAI(api_key=SecretStr(key), base_url=parsed.base_url, **kw, **_bounded(p))
        # A fleet: the client talks to the first URL and the pool's transport spreads the
        # requests; the concurrency limit is per server, so the model's is that times n.
        kw["max_concurrency"] = kw.get("max_concurrency", 8) * len(urls)
        kw.update(pool_clients(shared_pool(urls), p.timeout, p.max_response_bytes))
        return PersonaChatOpenAI(api_key=SecretStr(key), base_url=urls[0], **kw)
    from personascope.agents.local_server import shared_server

    server = shared_server(parsed.model)
    kw["model"] = server.alias
    # llama.cpp's server decodes one request at a time; queue on our side so that
    # waiting does not eat into the HTTP timeout.
    kw.setdefault("max_concurrency", 1)
    # Small local models loop without a repeat penalty (llama.cpp's sampling option).
    kw["extra_body"] = {"repeat_penalty": p.repeat_penalty}
    return LocalChatOpenAI(api_key=SecretStr("not-needed"), base_url=server.base_url, **kw, **_bounded(p))


def _bounded(params: ModelParams) -> dict[str, Any]:
    from personascope.agents.endpoints import bounded_clients

    return bounded_clients(params.timeout, params.max_response_bytes)
