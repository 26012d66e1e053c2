"""PersonaChatOpenAI's async path (``client.post`` instead of ``chat.completions.create``)
builds the same result as ChatOpenAI's own ``_agenerate``: request body, message,
``response_metadata`` (logprobs), usage and structured output."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI
from pydantic import BaseModel

from personascope.agents.models import MalformedResponseError, ModelParams, resolve_model

from stub_openai import JsonHandler, LoopbackServer, StubOpenAI

LOGPROBS = {
    "content": [
        {
            "token": "4",
            "logprob": -0.1,
            "bytes": [52],
            "top_logprobs": [
                {"token": "4", "logprob": -0.1, "bytes": [52]},
                {"token": "5", "logprob": -2.4, "bytes": [53]},
            ],
        }
    ],
    "refusal": None,
}


class Rating(BaseModel):
    analysis: str
    score: int


class CompletionServer(LoopbackServer):
    """Answers every chat completion with a fixed message; JSON when a schema is asked for."""

    def __init__(self, finish_reason: str = "stop", refusal: str | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        server = self

        class Handler(JsonHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                server.headers.append({k.lower(): v for k, v in self.headers.items()})
                structured = "response_format" in body
                content = json.dumps({"analysis": "steady", "score": 4}) if structured else "4"
                choice: dict[str, Any] = {
                    "index": 0,
                    "finish_reason": finish_reason,
                    "message": {"role": "assistant", "content": content},
                }
                if body.get("logprobs"):
                    choice["logprobs"] = LOGPROBS
                if refusal is not None:
                    choice["message"] = {"role": "assistant", "content": None, "refusal": refusal}
                self._send(
                    200,
                    {
                        "id": "chatcmpl-1",
                        "object": "chat.completion",
                        "created": 0,
                        "model": "m",
                        "system_fingerprint": "fp",
                        "choices": [choice],
                        "usage": {"prompt_tokens": 7, "completion_tokens": 1, "total_tokens": 8},
                    },
                )

        self._serve(Handler)


def _both(model: Any, runnable: Any, messages: Any) -> tuple[Any, Any]:
    """``runnable`` invoked through the fast path, then through ChatOpenAI's own path."""

    async def go() -> tuple[Any, Any]:
        fast = await runnable.ainvoke(messages)
        slow_path = ChatOpenAI._agenerate

        async def through_chat_openai(*args: Any, **kwargs: Any) -> Any:
            return await slow_path(model, *args, **kwargs)

        object.__setattr__(model, "_acompletion", through_chat_openai)
        try:
            slow = await runnable.ainvoke(messages)
        finally:
            object.__delattr__(model, "_acompletion")
        return fast, slow

    return asyncio.run(go())


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    return value


def _model(url: str, **params: Any) -> Any:
    return resolve_model(f"openai-compatible:m@{url}", ModelParams(**{"max_retries": 1, **params}))


def test_plain_and_logprobs_match_chat_openai() -> None:
    with CompletionServer() as server:
        model = _model(server.base_url, top_logprobs=2, seed=3, temperature=0.7)
        msgs = [SystemMessage("be brief"), HumanMessage("rate it")]
        fast, slow = _both(model, model, msgs)
        assert server.requests[0] == server.requests[1]
        assert server.requests[0]["top_logprobs"] == 2 and server.requests[0]["seed"] == 3
    assert fast.content == slow.content == "4"
    # ChatOpenAI's typed response fills absent fields with None (token_usage's *_details).
    assert _without_none(fast.response_metadata) == _without_none(slow.response_metadata)
    assert fast.response_metadata["logprobs"] == LOGPROBS
    assert fast.usage_metadata == slow.usage_metadata
    assert fast.additional_kwargs == {k: v for k, v in slow.additional_kwargs.items() if v is not None}


def test_structured_output_matches_chat_openai() -> None:
    with CompletionServer() as server:
        model = _model(server.base_url)
        runnable = model.with_structured_output(Rating)
        assert model.with_structured_output(Rating) is runnable  # built once per schema
        fast, slow = _both(model, runnable, "rate it")
        assert server.requests[0] == server.requests[1]
        assert server.requests[0]["response_format"]["type"] == "json_schema"
    assert fast == slow == Rating(analysis="steady", score=4)


def test_structured_output_cut_short_is_an_error() -> None:
    import openai

    with CompletionServer(finish_reason="length") as server:
        model = _model(server.base_url)
        with pytest.raises(openai.LengthFinishReasonError):
            asyncio.run(model.with_structured_output(Rating).ainvoke("rate it"))


@pytest.mark.parametrize("fault", ["garbage", "empty"])
def test_async_malformed_200_responses_are_retried(fault: str) -> None:
    with StubOpenAI(script=[fault]) as stub:
        model = _model(stub.base_url)
        assert asyncio.run(model.ainvoke("hi")).content == "echo: hi"
        assert len(stub.requests) == 2
    with StubOpenAI(default=fault) as stub:
        model = _model(stub.base_url)
        with pytest.raises(MalformedResponseError, match="after 2 attempt"):
            asyncio.run(model.ainvoke("hi"))


def test_the_direct_attempt_sends_what_the_openai_client_sends() -> None:
    import httpx

    with CompletionServer() as server:
        model = _model(server.base_url)

        async def both() -> None:
            await model.ainvoke("hi")  # straight through the HTTP client
            payload = model._get_request_payload([HumanMessage("hi")])
            await model.root_async_client.post("/chat/completions", body=payload, cast_to=httpx.Response)

        asyncio.run(both())
        assert model._fast_target is not None
    assert server.requests[0] == server.requests[1]
    assert server.headers[0] == server.headers[1]
    assert server.headers[0]["authorization"] == "Bearer not-needed"


@pytest.mark.parametrize("warm", [False, True])
def test_async_retries_server_errors_then_raises_the_status_error(warm: bool) -> None:
    import openai

    async def calls(model: Any, n: int) -> Any:
        for _ in range(n - 1):
            await model.ainvoke("hi")
        return await model.ainvoke("hi")

    # warm: a call has succeeded before (its connection is kept alive).
    ok = ["ok"] if warm else []
    with StubOpenAI(script=[*ok, 503, 429]) as stub:
        assert asyncio.run(calls(_model(stub.base_url, max_retries=2), len(ok) + 1)).content == "echo: hi"
        assert len(stub.requests) == len(ok) + 3
    with StubOpenAI(script=[*ok, 503, 503]) as stub:
        with pytest.raises(openai.InternalServerError):
            asyncio.run(calls(_model(stub.base_url, max_retries=1), len(ok) + 1))
        assert len(stub.requests) == len(ok) + 2  # max_retries=1: two attempts
    with StubOpenAI(script=[*ok, 404, "ok"]) as stub:
        with pytest.raises(openai.NotFoundError):
            asyncio.run(calls(_model(stub.base_url), len(ok) + 1))
        assert len(stub.requests) == len(ok) + 1  # not retried
    with StubOpenAI(script=[*ok, "drop", "ok"]) as stub:
        assert asyncio.run(calls(_model(stub.base_url), len(ok) + 1)).content == "echo: hi"


def test_async_connection_refused_is_an_error() -> None:
    import openai

    with CompletionServer() as server:
        model = _model(server.base_url, max_retries=0)
        asyncio.run(model.ainvoke("hi"))
    with pytest.raises(openai.APIConnectionError):
        asyncio.run(model.ainvoke("hi"))


def test_the_direct_attempt_goes_through_a_fleet_in_turn() -> None:
    with StubOpenAI() as a, StubOpenAI() as b:
        model = resolve_model(f"openai-compatible:m@{a.base_url},{b.base_url}", ModelParams())

        async def six() -> list[Any]:
            return [(await model.ainvoke(f"q{i}")).content for i in range(6)]

        assert asyncio.run(six()) == [f"echo: q{i}" for i in range(6)]
        assert model._fast_target is not None
        assert len(a.requests) == len(b.requests) == 3


def test_structured_call_matches_langchains_chain() -> None:
    with CompletionServer() as server:
        model = _model(server.base_url)
        ours = model.with_structured_output(Rating)
        theirs = ChatOpenAI.with_structured_output(model, Rating)
        assert type(ours) is not type(theirs)

        async def both() -> tuple[Any, Any]:
            return await ours.ainvoke("rate it"), await theirs.ainvoke("rate it")

        fast, chained = asyncio.run(both())
        synced = ours.invoke("rate it")
        assert server.requests[0] == server.requests[1] == server.requests[2]
    assert fast == chained == synced == Rating(analysis="steady", score=4)


def test_structured_call_refusal_fails_as_langchains_chain_does() -> None:
    with CompletionServer(refusal="I cannot rate that.") as server:
        model = _model(server.base_url)

        def error(runnable: Any) -> BaseException:
            with pytest.raises(Exception) as info:
                asyncio.run(runnable.ainvoke("rate it"))
            return info.value

        ours = error(model.with_structured_output(Rating))
        theirs = error(ChatOpenAI.with_structured_output(model, Rating))
    assert type(ours) is type(theirs)
    assert str(ours) == str(theirs)
