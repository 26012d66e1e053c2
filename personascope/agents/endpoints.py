"""Several OpenAI-compatible servers behind one model: round-robin with health checks.

A fleet of vLLM (or Ollama, llama.cpp, TGI...) servers serving the same model is named
in a spec either inline, ``openai-compatible:<model>@http://a:8000/v1,http://b:8000/v1``,
or by a pool name, ``openai-compatible:<model>@<name>``, with the URLs listed under
``endpoints: {<name>: [...]}`` in the experiment spec. With a pool name the run ids do
not change when servers are added or removed, so an experiment resumes on a new fleet.

The pool plugs in below the OpenAI client as an ``httpx`` transport: each request goes
to the next healthy server in turn. A server that refuses or drops the connection, or
answers 502/503/504, is taken out of the rotation for ``cooldown`` seconds and the
request moves on to the next one; when its cool-down is over it is probed
(``GET /models``, which vLLM, Ollama and llama.cpp all serve) before it gets requests
again. Everything above (the client's retries, timeouts, structured output, caching)
is unchanged.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
import weakref
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from typing import Any

import certifi
import httpx
import openai

from personascope.errors import InputError

# A chat completion of a few thousand tokens is a few tens of KB; 8 MB is far beyond any
# answer worth scoring and still small enough to hold in memory.
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
_POOLS: dict[str, tuple[str, ...]] = {}
_FAILOVER_STATUS = {502, 503, 504}
# Nothing listening: the server is down. Other transport errors (a stale keep-alive
# connection dropped, a read timeout) move the request on but keep the server in turn.
_DOWN_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout)


def register_pools(pools: dict[str, list[str]]) -> None:
    """Name lists of base URLs (from an experiment spec's ``endpoints``)."""
    for name, urls in pools.items():
        _POOLS[name] = tuple(check_urls(urls, name))


def check_urls(urls: Iterable[str], where: str) -> list[str]:
    out = [u.strip().rstrip("/") for u in urls if u.strip()]
    bad = [u for u in out if not u.startswith(("http://", "https://"))]
    if not out or bad:
        raise InputError(where, "base_url", f"expected http(s):// base URLs, got {bad or 'none'}")
    return out


def pool_urls(target: str) -> list[str] | None:
    """The URLs named by the part of a spec after ``@``: a comma list or a pool name."""
    if target in _POOLS:
        return list(_POOLS[target])
    if "," in target:
        return check_urls(target.split(","), target)
    return None


class EndpointPool:
    """Round-robin over base URLs; servers that fail sit out a cool-down, then are probed."""

    def __init__(self, urls: Iterable[str], cooldown: float = 10.0, probe_timeout: float = 3.0) -> None:
        self.urls = check_urls(urls, "endpoint pool")
        # The client is configured with the first URL: its path is what requests start with.
        self._prefix = httpx.URL(self.urls[0]).raw_path.decode().rstrip("/")
        self.cooldown = cooldown
        self.probe_timeout = probe_timeout
        self.sent: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self._down_until: dict[str, float] = {}
        self._next = 0
        self._lock = threading.Lock()

    def order(self) -> list[tuple[str, bool]]:
        """This request's candidates as (url, probe first?): servers whose cool-down is over
        (this request probes them, the next ones do not wait for it), then the healthy
        ones in turn, then those still cooling down (soonest back first) as a last resort,
        tried with the request itself."""
        with self._lock:
            now = time.monotonic()
            down = self._down_until
            healthy = [u for u in self.urls if u not in down]
            expired = [u for u in self.urls if u in down and down[u] <= now]
            for u in expired:
                down[u] = now + self.cooldown
            cooling = sorted((u for u in self.urls if u in down and u not in expired), key=down.__getitem__)
            turn = self._next % len(healthy) if healthy else 0
            self._next += 1
        rotation = healthy[turn:] + healthy[:turn]
        return [(u, True) for u in expired] + [(u, False) for u in rotation] + [(u, False) for u in cooling]

    def mark_down(self, url: str) -> None:
        with self._lock:
            self.failures[url] += 1
            self._down_until[url] = time.monotonic() + self.cooldown

    def mark_up(self, url: str) -> None:
        with self._lock:
            self._down_until.pop(url, None)

    def probed(self, url: str, answer: httpx.Response | None) -> bool:
        """Record a probe's outcome: any HTTP answer but 502/503/504 means the server is up."""
        if answer is None or answer.status_code in _FAILOVER_STATUS:
            self.mark_down(url)
            return False
        self.mark_up(url)
        return True

    def failed(self, url: str, exc: Exception) -> Exception:
        """Record a transport error; the request moves on to the next server."""
        if isinstance(exc, _DOWN_ERRORS):
            self.mark_down(url)
        else:  # a dropped or timed-out request: counted, the server stays in the rotation
            with self._lock:
                self.failures[url] += 1
        return exc

    def answered(self, url: str, status: int, last: bool) -> bool:
        """Record an HTTP answer; False when the request should move on to the next server."""
        with self._lock:
            self.sent[url] += 1
        if status in _FAILOVER_STATUS:
            self.mark_down(url)
            return last
        self.mark_up(url)
        return True

    def probe_request(self, url: str) -> httpx.Request:
        t = self.probe_timeout
        timeouts = {"connect": t, "read": t, "write": t, "pool": t}
        return httpx.Request("GET", f"{url}/models", extensions={"timeout": timeouts})

    def healthy(self) -> list[str]:
        return [u for u in self.urls if u not in self._down_until]

    def rewrite(self, request: httpx.Request, url: str) -> httpx.Request:
        """The request re-addressed to ``url`` (the client is configured with the first URL)."""
        path = request.url.raw_path.decode()
        rel = path[len(self._prefix) :] if path.startswith(self._prefix) else path
        target = httpx.URL(url + rel)
        headers = [(k, v) for k, v in request.headers.raw if k.lower() != b"host"]
        return httpx.Request(
            request.method, target, headers=headers, content=request.content, extensions=request.extensions
        )


class PoolTransport(httpx.AsyncBaseTransport):
    """Async ``httpx`` transport that sends each request through an :class:`EndpointPool`."""

    def __init__(self, pool: EndpointPool, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.pool = pool
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def _send(self, url: str, request: httpx.Request, probe: bool) -> httpx.Response | None:
        """The response, or None when the server is skipped (a failed probe)."""
        if probe:
            try:
                answer = await self.inner.handle_async_request(self.pool.probe_request(url))
                await answer.aclose()
            except httpx.HTTPError:
                answer = None
            if not self.pool.probed(url, answer):
                return None
        return await self.inner.handle_async_request(self.pool.rewrite(request, url))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        failure: Exception | None = None
        candidates = self.pool.order()
        for i, (url, probe) in enumerate(candidates):
            try:
                resp = await self._send(url, request, probe)
            except httpx.HTTPError as exc:
                failure = self.pool.failed(url, exc)
                continue
            if resp is None:
                continue
            if self.pool.answered(url, resp.status_code, last=i == len(candidates) - 1):
                return resp
            await resp.aclose()
        raise failure or httpx.ConnectError(f"no endpoint of {self.pool.urls} is reachable", request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class SyncPoolTransport(httpx.BaseTransport):
    """The synchronous twin of :class:`PoolTransport` (for ``invoke`` outside an event loop)."""

    def __init__(self, pool: EndpointPool, inner: httpx.BaseTransport | None = None) -> None:
        self.pool = pool
        self.inner = inner or httpx.HTTPTransport()

    def _send(self, url: str, request: httpx.Request, probe: bool) -> httpx.Response | None:
        if probe:
            try:
                answer = self.inner.handle_request(self.pool.probe_request(url))
                answer.close()
            except httpx.HTTPError:
                answer = None
            if not self.pool.probed(url, answer):
                return None
        return self.inner.handle_request(self.pool.rewrite(request, url))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        failure: Exception | None = None
        candidates = self.pool.order()
        for i, (url, probe) in enumerate(candidates):
            try:
                resp = self._send(url, request, probe)
            except httpx.HTTPError as exc:
                failure = self.pool.failed(url, exc)
                continue
            if resp is None:
                continue
            if self.pool.answered(url, resp.status_code, last=i == len(candidates) - 1):
                return resp
            resp.close()
        raise failure or httpx.ConnectError(f"no endpoint of {self.pool.urls} is reachable", request=request)

    def close(self) -> None:
        self.inner.close()


# One pool per URL list per process: every model object on the same fleet shares the
# rotation and the health state.
_SHARED: dict[tuple[str, ...], EndpointPool] = {}
_SHARED_LOCK = threading.Lock()


def shared_pool(urls: Iterable[str]) -> EndpointPool:
    key = tuple(check_urls(urls, "endpoint pool"))
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = EndpointPool(key)
        return _SHARED[key]


def pool_clients(pool: EndpointPool, timeout: float, max_bytes: int = MAX_RESPONSE_BYTES) -> dict[str, Any]:
    """``ChatOpenAI`` keyword arguments that route its sync and async clients through ``pool``;
    each server's answer is bounded in time and size (:class:`BoundedTransport`)."""
    return {
        "http_client": httpx.Client(
            transport=SyncPoolTransport(pool, SyncBoundedTransport(timeout, max_bytes)), timeout=timeout
        ),
        "http_async_client": httpx.AsyncClient(
            transport=PoolTransport(pool, BoundedTransport(timeout, max_bytes)), timeout=timeout
        ),
    }


# -- bounded answers ------------------------------------------------------------------
#
# httpx's timeouts bound each read, not the response: a server that trickles one byte a
# second never trips a 120 s read timeout and holds the run forever. A 200 with a 100 MB
# body is read whole and then copied into every checkpoint. These transports read the
# body themselves, within a total deadline per attempt and up to a size limit.


class ResponseTooLargeError(openai.OpenAIError):
    """The endpoint's response body exceeds the size limit.

    An ``OpenAIError``: the OpenAI client passes it through as-is instead of retrying
    (a server that sent 100 MB once will send it again).
    """


def _too_large(request: httpx.Request, max_bytes: int) -> ResponseTooLargeError:
    return ResponseTooLargeError(
        f"response from {request.url.host} is larger than {max_bytes} bytes (the limit of an answer)"
    )


def _deadline_passed(request: httpx.Request, seconds: float) -> httpx.ReadTimeout:
    # A timeout: the OpenAI client retries it and the endpoint pool moves on to another server.
    return httpx.ReadTimeout(f"no complete response within {seconds:g}s (total per request)", request=request)


def _complete(response: httpx.Response, body: bytes, request: httpx.Request) -> httpx.Response:
    # The raw bytes with the original headers: the client still decodes gzip etc. on read.
    return httpx.Response(
        response.status_code,
        headers=response.headers,
        content=body,
        extensions=response.extensions,
        request=request,
    )


class ShardedTransport(httpx.AsyncBaseTransport):
    """Connection pools side by side; each request goes to the least busy one.

    httpcore's pool matches every queued request against every connection on each
    request and response (quadratic in the pool's size): at 512 calls in flight to one
    server, one pool of 100 connections (httpx's default) spent most of the engine's
    CPU there and held the calls to 100 at a time (benchmarks/bench_engine.py: 85
    calls/s). Shards of ``per_shard`` connections keep that cost small, and together
    they allow ``shards × per_shard`` connections (the model's own concurrency limit
    decides how many are used). Idle connections are kept up to the shard's size, so
    a steady load reuses its connections instead of reconnecting. 256 shards of 4
    rather than 64 of 16: 0.55 instead of 0.83 ms of CPU per request at 512 in flight.
    """

    def __init__(self, shards: int = 256, per_shard: int = 4) -> None:
        self._limits = httpx.Limits(max_connections=per_shard, max_keepalive_connections=per_shard)
        # Created on first use, sharing one SSL context: building a context loads the CA
        # bundle (~20 ms), and most runs never need more than a few shards.
        self._shards: list[httpx.AsyncHTTPTransport | None] = [None] * shards
        self._busy = [0] * shards
        self._ssl: ssl.SSLContext | None = None

    def _shard(self, i: int) -> httpx.AsyncHTTPTransport:
        shard = self._shards[i]
        if shard is None:
            if self._ssl is None:
                self._ssl = ssl.create_default_context(cafile=certifi.where())
            shard = self._shards[i] = httpx.AsyncHTTPTransport(verify=self._ssl, limits=self._limits)
        return shard

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # The least busy shard; ties go to the lowest index, so a light load stays on a
        # few shards and their kept-alive connections.
        busy = self._busy
        i = busy.index(min(busy))
        self._busy[i] += 1
        try:
            response = await self._shard(i).handle_async_request(request)
        except BaseException:
            self._busy[i] -= 1
            raise
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_Released(response.stream, self._busy, i),  # type: ignore[arg-type]
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        for shard in self._shards:
            if shard is not None:
                await shard.aclose()


class _Released(httpx.AsyncByteStream):
    """A response body that frees its shard's slot when closed."""

    def __init__(self, inner: httpx.AsyncByteStream, busy: list[int], index: int) -> None:
        self._inner = inner
        self._busy = busy
        self._index = index
        self._open = True

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        if self._open:
            self._open = False
            self._busy[self._index] -= 1
        await self._inner.aclose()


class BoundedTransport(httpx.AsyncBaseTransport):
    """Async transport that reads each whole response within ``deadline`` seconds and
    ``max_bytes`` bytes (else :class:`httpx.ReadTimeout` / :class:`ResponseTooLargeError`)."""

    def __init__(
        self,
        deadline: float,
        max_bytes: int = MAX_RESPONSE_BYTES,
        inner: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.deadline = deadline
        self.max_bytes = max_bytes
        self._fixed = inner
        # One connection pool per event loop: pooled connections belong to the loop that
        # opened them, and a model object outlives asyncio.run() calls ("Event loop is closed").
        self._per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncBaseTransport] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def inner(self) -> httpx.AsyncBaseTransport:
        if self._fixed is not None:
            return self._fixed
        loop = asyncio.get_running_loop()
        transport = self._per_loop.get(loop)
        if transport is None:
            transport = self._per_loop[loop] = ShardedTransport()
        return transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            async with asyncio.timeout(self.deadline):
                response = await self.inner.handle_async_request(request)
                try:
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in response.stream:  # type: ignore[union-attr]
                        size += len(chunk)
                        if size > self.max_bytes:
                            raise _too_large(request, self.max_bytes)
                        chunks.append(chunk)
                finally:
                    await response.aclose()
        except TimeoutError:
            raise _deadline_passed(request, self.deadline) from None
        return _complete(response, b"".join(chunks), request)

    async def aclose(self) -> None:
        if self._fixed is not None:
            await self._fixed.aclose()
        transport = self._per_loop.pop(asyncio.get_running_loop(), None)
        if transport is not None:
            await transport.aclose()


class SyncBoundedTransport(httpx.BaseTransport):
    """The synchronous twin of :class:`BoundedTransport`. Without an event loop the
    deadline is checked between chunks, each of which the client's read timeout bounds,
    so a trickle is cut at most one read timeout late."""

    def __init__(
        self, deadline: float, max_bytes: int = MAX_RESPONSE_BYTES, inner: httpx.BaseTransport | None = None
    ) -> None:
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        start = time.monotonic()
        response = self.inner.handle_request(request)
        try:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.stream:  # type: ignore[union-attr]
                size += len(chunk)
                if size > self.max_bytes:
                    raise _too_large(request, self.max_bytes)
                if time.monotonic() - start > self.deadline:
                    raise _deadline_passed(request, self.deadline)
                chunks.append(chunk)
        finally:
            response.close()
        return _complete(response, b"".join(chunks), request)

    def close(self) -> None:
        self.inner.close()


def bounded_clients(timeout: float, max_bytes: int = MAX_RESPONSE_BYTES) -> dict[str, Any]:
    """``ChatOpenAI`` keyword arguments whose clients bound every response in time and size."""
    return {
        "http_client": httpx.Client(transport=SyncBoundedTransport(timeout, max_bytes), timeout=timeout),
        "http_async_client": httpx.AsyncClient(
            transport=BoundedTransport(timeout, max_bytes), timeout=timeout
        ),
    }
