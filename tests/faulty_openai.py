"""A fault-injecting OpenAI-compatible server for tests (loopback only, bounded in time).

Answers are a deterministic function of the request, so two servers give the same
results. Faults are decided per request, reproducibly by seed: the decision for
the n-th time a given request body arrives depends only on (seed, body, n), not on
the order in which concurrent requests arrive.

Faults: HTTP 500/502/503, 429 with Retry-After, a hang past the client timeout, a
dropped connection, malformed JSON, an empty choice list, and (for structured
requests) text that ignores the requested schema.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
import time
from collections import Counter
from typing import Any

from stub_openai import JsonHandler, LoopbackServer

FAULTS = ("500", "502", "503", "429", "hang", "drop", "malformed", "empty", "ignore_schema")


def _h(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)


def reply_for(body: dict[str, Any]) -> str:
    """The normal answer: a deterministic function of the request."""
    # A retry note ("(Attempt 2: ...)") does not change what a deterministic model answers.
    messages = [m for m in body.get("messages") or [] if not str(m.get("content", "")).startswith("(Attempt")]
    last = str(messages[-1].get("content", "")) if messages else ""
    structured = "response_format" in body or "tools" in body
    if not structured:  # the whole conversation: each character answers differently
        return f"Well, I would put myself at level {1 + _h(json.dumps(messages)) % 5} on that."
    schema = json.dumps(body.get("response_format") or body.get("tools"))
    if '"choices"' in schema:
        ids = re.findall(r"^Sample (\S+):", last, flags=re.M)
        return json.dumps({"choices": [{"id": i, "choice": 1 + _h(i + last) % 5} for i in ids]})
    return json.dumps({"analysis": "steady answers", "score": 1 + _h(last) % 5})


class FaultyOpenAI(LoopbackServer):
    def __init__(
        self,
        fault_rate: float = 0.2,
        seed: int = 0,
        hang_seconds: float = 2.5,
        faults: tuple[str, ...] = FAULTS,
        latency: float = 0.0,
    ) -> None:
        self.fault_rate = fault_rate
        self.seed = seed
        self.hang_seconds = hang_seconds
        self.faults = faults
        self.latency = latency
        self.seen: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()
        self.requests: list[dict[str, Any]] = []
        self.auth_headers: set[str] = set()
        self._lock = threading.Lock()
        stub = self

        class Handler(JsonHandler):
            timeout = 30

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                body = json.loads(raw or b"{}")
                key = hashlib.sha256(raw).hexdigest()
                with stub._lock:
                    stub.seen[key] += 1
                    n = stub.seen[key]
                    stub.requests.append(body)
                    stub.auth_headers.add(self.headers.get("Authorization", ""))
                fault = stub.decide(key, n, body)
                if fault:
                    with stub._lock:
                        stub.injected[fault] += 1
                if stub.latency:
                    time.sleep(stub.latency)
                if fault in ("500", "502", "503"):
                    return self._send(int(fault), {"error": {"message": f"injected {fault}"}})
                if fault == "429":
                    return self._send(
                        429, {"error": {"message": "slow down"}}, {"Retry-After": "1", "Retry-After-Ms": "30"}
                    )
                if fault == "hang":
                    time.sleep(stub.hang_seconds)
                    return self._send(200, stub.completion(body, reply_for(body)))
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return None
                if fault == "malformed":
                    return self._raw(200, b'{"id": "x", "choices": [{"message": ')
                if fault == "empty":
                    return self._send(
                        200,
                        {"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": []},
                    )
                if fault == "ignore_schema":
                    return self._send(200, stub.completion(body, "I'd rather just chat, no JSON today."))
                return self._send(200, stub.completion(body, reply_for(body)))

        self._serve(Handler)

    def decide(self, key: str, n: int, body: dict[str, Any]) -> str | None:
        rng = random.Random(f"{self.seed}:{key}:{n}")
        if rng.random() >= self.fault_rate:
            return None
        fault = rng.choice(self.faults)
        structured = "response_format" in body or "tools" in body
        return None if fault == "ignore_schema" and not structured else fault

    @staticmethod
    def completion(body: dict[str, Any], text: str) -> dict[str, Any]:
        return {
            "id": "chatcmpl-x",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", "m"),
            "choices": [
                {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
            ],
            "usage": {"prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30},
        }
