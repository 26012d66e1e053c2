"""A hostile OpenAI-compatible server for tests (loopback only): answers that are too
large, answers trickled one byte at a time, and error bodies that echo the API key."""

from __future__ import annotations

import json
import time
from typing import Any

from stub_openai import JsonHandler, LoopbackServer


def _completion(text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-x",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


class HostileOpenAI(LoopbackServer):
    """``mode``: ``huge`` (a 200 with an answer of ``size`` characters), ``trickle`` (a valid
    answer sent one byte every ``interval`` seconds), ``echo_key`` (a 401 whose body echoes
    the Authorization header, as some proxies do)."""

    def __init__(self, mode: str, size: int = 0, interval: float = 0.5) -> None:
        self.requests = 0
        stub = self

        class Handler(JsonHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                stub.requests += 1
                if mode == "huge":
                    return self._send(200, _completion("x" * size))
                if mode == "echo_key":
                    auth = self.headers.get("Authorization", "")
                    return self._send(401, {"error": {"message": f"invalid header Authorization: {auth}"}})
                data = json.dumps(_completion("I would say so.")).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    for i in range(len(data)):
                        self.wfile.write(data[i : i + 1])
                        self.wfile.flush()
                        time.sleep(interval)
                except OSError:  # the client gave up: the point of the test
                    self.close_connection = True
                return None

        self._serve(Handler)
