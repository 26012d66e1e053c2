"""The sharded connection pool under the model clients (issue 18, item 6)."""

from __future__ import annotations

import asyncio
import contextlib

import httpx

from personascope.agents.endpoints import ShardedTransport


def test_requests_spread_over_shards_and_slots_are_released() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.01)
        return httpx.Response(200, json={"ok": True})

    async def go() -> tuple[list[int], list[int]]:
        transport = ShardedTransport(shards=4, per_shard=2)
        # Each shard's pool replaced by a mock transport: the spreading is what is tested.
        mocks = [httpx.MockTransport(handler) for _ in range(4)]
        transport._shard = lambda i: mocks[i]  # type: ignore[method-assign,assignment,return-value]
        results = await asyncio.gather(
            *(transport.handle_async_request(httpx.Request("POST", "http://stub/v1/chat")) for _ in range(8))
        )
        busy_during = list(transport._busy)
        for r in results:
            await r.aread()
            await r.aclose()
        return busy_during, list(transport._busy)

    during, after = asyncio.run(go())
    assert during == [2, 2, 2, 2]  # 8 requests over 4 shards, least busy first
    assert after == [0, 0, 0, 0]  # every slot is freed when its response is closed


def test_a_failed_request_frees_its_slot() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async def go() -> list[int]:
        transport = ShardedTransport(shards=2, per_shard=1)
        mock = httpx.MockTransport(handler)
        transport._shard = lambda i: mock  # type: ignore[method-assign,assignment,return-value]
        with contextlib.suppress(httpx.ConnectError):
            await transport.handle_async_request(httpx.Request("GET", "http://stub/"))
        return list(transport._busy)

    assert asyncio.run(go()) == [0, 0]
