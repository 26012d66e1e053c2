"""A scripted OpenAI-compatible chat-completions server for tests (loopback only).

Each request pops the next behaviour from ``script`` (then ``default``): ``"ok"``,
an HTTP status such as ``503`` or ``429`` (with ``Retry-After-Ms``), ``"hang"``
(sleeps ``hang_seconds``), or ``"drop"`` (closes the connection without answering).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class JsonHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive handler that answers JSON; quiet."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, Nagle + delayed ACK add
    # ~40 ms to every response.
    disable_nagle_algorithm = True

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self._raw(status, json.dumps(payload).encode(), headers)

    def _raw(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        # The client may have timed out and left (the point of a "hang").
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 and a free port, started and stopped by ``with``."""

    def _serve(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class StubOpenAI(LoopbackServer):
    def __init__(
        self,
        script: list[Any] | None = None,
        default: Any = "ok",
        reply: Callable[[dict[str, Any]], str] | None = None,
        latency: float = 0.0,
        hang_seconds: float = 3.0,
    ) -> None:
        self.script = list(script or [])
        self.default = default
        self.reply = reply or (lambda body: f"echo: {body['messages'][-1]['content']}")
        self.latency = latency
        self.hang_seconds = hang_seconds
        self.requests: list[dict[str, Any]] = []
        self.probes = 0
        self._lock = threading.Lock()
        stub = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                # GET /v1/models: the health probe of endpoint pools; healthy unless the
                # stub's default behaviour is an error status.
                ok = stub.default == "ok"
                with stub._lock:
                    stub.probes += 1
                self._send(
                    200 if ok else 503, {"object": "list", "data": [{"id": "stub", "object": "model"}]}
                )

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                with stub._lock:
                    stub.requests.append(body)
                    action = stub.script.pop(0) if stub.script else stub.default
                if stub.latency:
                    time.sleep(stub.latency)
                if action == "hang":
                    time.sleep(stub.hang_seconds)
                    action = "ok"
                if action == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if action == "empty":
                    self._send(
                        200,
                        {
                            "id": "x",
                            "object": "chat.completion",
                            "created": 0,
                            "model": "stub",
                            "choices": [],
                        },
                    )
                    return
                if action == "garbage":
                    self._raw(200, b"<html>definitely not JSON</html>")
                    return
                if action != "ok":
                    self._send(
                        int(action),
                        {"error": {"message": f"injected {action}"}},
                        {"Retry-After-Ms": "20"} if action == 429 else {},
                    )
                    return
                text = stub.reply(body)
                self._send(
                    200,
                    {
                        "id": "chatcmpl-stub",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body.get("model", "stub"),
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": "stop",
                                "message": {"role": "assistant", "content": text},
                            }
                        ],
                        "usage": {
                            "prompt_tokens": 5,
                            "completion_tokens": max(1, len(text.split())),
                            "total_tokens": 5 + max(1, len(text.split())),
                        },
                    },
                )

        self._serve(Handler)
