"""Issue 15: memories that race or vanish, unbounded inputs, secrets in errors, files
outside their place, duplicate keys. Each test fails on the code before the fix."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import chromadb
import openai
import pytest
import yaml
from hostile_openai import HostileOpenAI
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableLambda

import personascope.safeio as safeio
from personascope.agents.endpoints import ResponseTooLargeError
from personascope.agents.models import ModelDeadlineError, ModelParams, resolve_model
from personascope.agents.rpa import (
    EndpointRPA,
    RPAError,
    RunnableRPA,
    safe_answer,
    safe_reply,
)
from personascope.errors import InputError
from personascope.memories import embeddings
from personascope.memories.characters import Character, character_from_data, load_character
from personascope.memories.store import MemoryStore, collection_name, content_hash
from personascope.scales.loader import load_scale, read_data_file

CANARY = "sk-canary-7f3a9c1e5b2d"
ROOT = Path(__file__).resolve().parents[1]

CHAR = Character(
    id="fixture-integrity",
    name="Fixture",
    experimenter="Tester",
    description="A test character.",
    memories=[
        "I play the violin late at night when a problem troubles me.",
        "My brother works for the government and never leaves his club.",
        "I keep my tobacco in the toe of a Persian slipper.",
        "I once chased a criminal across the moor in thick fog.",
        "I detest large parties and crowded ballrooms.",
    ],
)
QUESTIONS = [
    "Do you play a musical instrument?",
    "Tell me about your family.",
    "Where do you keep your smoking things?",
    "Do you enjoy going to balls?",
    "What do you do on a foggy night?",
    "Are you talkative at parties?",
]


# -- 1. memories: no half-built collection is ever read ------------------------------


@pytest.mark.integration
def test_concurrent_first_questions_all_get_memories(tmp_path: Path) -> None:
    """Before: on a fresh folder, parallel first questions read the collection while it was
    being filled, and 28-49 of 50 questions per character reached the RPA with no memories."""
    embeddings.sentence_model()  # load the model first: the race is about indexing
    store = MemoryStore(path=tmp_path)
    chars = [CHAR, CHAR.model_copy(update={"id": "fixture-integrity-2"})]
    jobs = [(c, q) for c in chars for q in QUESTIONS * 3]
    with ThreadPoolExecutor(16) as pool:
        found = list(pool.map(lambda job: store.retrieve(job[0], job[1], k=2), jobs))
    assert [len(f) for f in found] == [2] * len(jobs)
    assert sorted(store.indexed) == ["fixture-integrity", "fixture-integrity-2"], "each built once"


@pytest.mark.integration
def test_each_distinct_question_is_embedded_once() -> None:
    store = MemoryStore.ephemeral(namespace=f"t{uuid.uuid4().hex[:8]}-")
    questions = [f"{q} ({uuid.uuid4().hex[:6]})" for q in QUESTIONS]  # new to this process
    before = dict(embeddings.query_stats)
    chars = [CHAR.model_copy(update={"id": f"c{i}"}) for i in range(3)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda job: store.retrieve(job[0], job[1]), [(c, q) for c in chars for q in questions]))
    assert embeddings.query_stats["embedded"] - before["embedded"] == len(questions)
    assert embeddings.query_stats["hits"] - before["hits"] == len(questions) * (len(chars) - 1)


def _persistent_collection(path: Path, character: Character) -> Any:
    client = chromadb.PersistentClient(path=str(path))
    return client.get_collection(collection_name(character.id))


@pytest.mark.integration
@pytest.mark.parametrize("docs", [0, 2])
def test_collection_with_the_hash_but_missing_documents_is_rebuilt(tmp_path: Path, docs: int) -> None:
    """What the old code left after a kill -9 between create and add: the right hash,
    0 (or some) documents, reused forever."""
    client = chromadb.PersistentClient(path=str(tmp_path))
    col = client.create_collection(
        collection_name(CHAR.id),
        embedding_function=embeddings.MiniLMEmbeddingFunction(),  # type: ignore[arg-type]
        metadata={"content_hash": content_hash(CHAR.memories), "character": CHAR.id},
    )
    if docs:
        col.add(ids=["m0", "m1"], documents=CHAR.memories[:2])
    del client, col
    store = MemoryStore(path=tmp_path)
    assert "violin" in store.retrieve(CHAR, "Do you play a musical instrument?", k=1)[0]
    assert store.indexed == [CHAR.id]
    assert _persistent_collection(tmp_path, CHAR).count() == len(CHAR.memories)


HANG_IN_ADD = """
import sys, time
from chromadb.api.models.Collection import Collection
from personascope.memories.characters import Character
from personascope.memories.store import MemoryStore

real_add = Collection.add
def slow_add(self, *args, **kwargs):
    print("ADDING", flush=True)
    time.sleep(float(sys.argv[2]))
    return real_add(self, *args, **kwargs)
Collection.add = slow_add
character = Character.model_validate_json(sys.argv[3])
store = MemoryStore(path=sys.argv[1])
store.index(character)
print("built" if store.indexed else "reused", flush=True)
"""


def _spawn(path: Path, sleep: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", HANG_IN_ADD, str(path), str(sleep), CHAR.model_dump_json()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def _wait_for(proc: subprocess.Popen[str], line: str, timeout: float = 120) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = proc.stdout.readline()
        if got.strip() == line:
            return
        if not got and proc.poll() is not None:
            raise AssertionError(f"subprocess ended: {proc.stderr.read() if proc.stderr else ''}")
    raise AssertionError(f"no {line!r} within {timeout}s")


@pytest.mark.integration
def test_kill_9_during_indexing_leads_to_a_rebuild(tmp_path: Path) -> None:
    proc = _spawn(tmp_path, 600)
    try:
        _wait_for(proc, "ADDING")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(30)
    left = _persistent_collection(tmp_path, CHAR)
    assert left.count() == 0 and "content_hash" not in (left.metadata or {}), "the hash comes last"
    store = MemoryStore(path=tmp_path)
    assert "tobacco" in store.retrieve(CHAR, "Where do you keep your smoking things?", k=1)[0]
    assert store.indexed == [CHAR.id]
    assert _persistent_collection(tmp_path, CHAR).count() == len(CHAR.memories)


@pytest.mark.integration
def test_a_second_process_waits_for_the_build_in_progress(tmp_path: Path) -> None:
    builder = _spawn(tmp_path, 3)
    try:
        _wait_for(builder, "ADDING")
        # The builder holds the lock with 0 documents in for 3 s: this process must wait for
        # it, then find a complete collection and not rebuild it. Timed from "ADDING", so the
        # time this process takes to load its own embedding model cannot hide the wait.
        t = time.monotonic()
        store = MemoryStore(path=tmp_path)
        assert len(store.retrieve(CHAR, "Do you play a musical instrument?", k=3)) == 3
        assert time.monotonic() - t > 2.0, "did not wait for the builder"
        assert store.indexed == []
        _wait_for(builder, "built")
    finally:
        builder.kill()
        builder.wait(30)


# -- 3. bounded inputs -------------------------------------------------------------------


@pytest.mark.parametrize("loader", [load_scale, load_character, read_data_file])
def test_dev_zero_fails_fast(loader: Any) -> None:
    t = time.monotonic()
    with pytest.raises(InputError, match="expected a regular file, got a character device"):
        loader(Path("/dev/zero"))
    assert time.monotonic() - t < 2


def test_fifo_fails_instead_of_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "s.yaml"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="FIFO"):
        load_scale(fifo)


def test_oversized_file_names_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSONASCOPE_MAX_FILE_MB", "0.01")
    big = tmp_path / "big.yaml"
    big.write_text("id: x\n" + "# padding\n" * 2000)
    with pytest.raises(InputError) as info:
        load_scale(big)
    assert str(info.value) == f"{big}: (file): file is larger than 10485 bytes ({big.stat().st_size} bytes)"
    profile = tmp_path / "c.yaml"
    profile.write_text("id: c\nname: C\nexperimenter: E\ndescription: D\nmemories_file: m.txt\n")
    (tmp_path / "m.txt").write_text("a memory\n\n" * 2000)
    with pytest.raises(InputError, match=r"c\.yaml: memories_file: .*m\.txt: file is larger than"):
        load_character(profile)


def _bomb(levels: int = 9) -> str:
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    names = "abcdefghijklmnop"
    for prev, cur in itertools.pairwise(names[: levels + 1]):
        lines.append(f"{cur}: &{cur} [{', '.join(['*' + prev] * 9)}]")
    return "\n".join(lines) + "\n"


def test_yaml_alias_bomb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(_bomb())
    t = time.monotonic()
    with pytest.raises(InputError, match="alias bomb"):
        load_scale(path)
    assert time.monotonic() - t < 2
    with pytest.raises(InputError, match="recursive alias"):
        safeio.load_yaml("a: &x [1, *x]\n", "s.yaml")
    many = "base: &b 1\nlist: [" + ", ".join(["*b"] * 1001) + "]\n"
    with pytest.raises(InputError, match="more than 1000 aliases"):
        safeio.load_yaml(many, "s.yaml")
    # Ordinary anchors and merge keys still work.
    assert safeio.load_yaml("d: &d {k: 1, j: 2}\ne:\n  <<: *d\n  k: 3\n", "s.yaml") == {
        "d": {"k": 1, "j": 2},
        "e": {"k": 3, "j": 2},
    }
    assert safeio.load_yaml(_bomb(2), "s.yaml") == yaml.safe_load(_bomb(2))


# -- 7. duplicate keys -------------------------------------------------------------------

SCALE = """id: mini
name: Mini
scoring: AVG
range: [1, 5]
response_options: [{value: 1, label: never}, {value: 5, label: always}]
dimensions: [{id: E, name: Extraversion}]
items:
  - id: '1'
    text: Talkative.
    dimension: E
    key: '+'
    key: '-'
"""


def test_duplicate_yaml_key_is_refused_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCALE)
    with pytest.raises(InputError) as info:
        load_scale(path)
    assert str(info.value) == (
        f"{path}: line 12 column 5: invalid YAML: "
        "duplicate key 'key' (first on line 11; each key may appear once)"
    )
    profile = tmp_path / "c.yaml"
    profile.write_text("id: c\nname: C\nname: D\nexperimenter: E\ndescription: D\n")
    with pytest.raises(InputError, match="duplicate key 'name'"):
        load_character(profile)


def test_duplicate_json_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"id": "a", "id": "b"}')
    with pytest.raises(InputError, match="duplicate key 'id'"):
        load_scale(path)
    lines = tmp_path / "m.jsonl"
    lines.write_text('{"text": "a"}\n{"text": "b", "text": "c"}\n')
    with pytest.raises(InputError, match="line 2: duplicate key 'text'"):
        list(safeio.read_jsonl(lines))


# -- 6. files outside their place; 8. non-UTF-8 memories --------------------------------

PROFILE = {"id": "c", "name": "C", "experimenter": "E", "description": "D"}


@pytest.fixture
def profile_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "profiles"
    folder.mkdir()
    (tmp_path / "secret.txt").write_text("the password is hunter2")
    return folder


@pytest.mark.parametrize(
    ("mem_file", "expected"),
    [
        ("../../../../etc/passwd", "outside the profile's folder"),
        ("/etc/passwd", "absolute path '/etc/passwd' refused"),
        ("../secret.txt", "outside the profile's folder"),
        ("sub/../../secret.txt", "outside the profile's folder"),
        ("link.txt", "outside the profile's folder"),  # a symbolic link inside, to a file outside
    ],
)
def test_memories_file_outside_the_profile_folder_is_refused(
    profile_dir: Path, mem_file: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PERSONASCOPE_ALLOW_OUTSIDE_FILES", raising=False)
    (profile_dir / "link.txt").symlink_to(profile_dir.parent / "secret.txt")
    path = profile_dir / "c.yaml"
    path.write_text(yaml.safe_dump({**PROFILE, "memories_file": mem_file}))
    with pytest.raises(InputError) as info:
        load_character(path)
    text = str(info.value)
    assert text.startswith(f"{path}: memories_file: ") and expected in text and "\n" not in text
    assert "hunter2" not in text


def test_memories_file_outside_is_read_when_allowed(
    profile_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = profile_dir / "c.yaml"
    path.write_text(yaml.safe_dump({**PROFILE, "memories_file": "../secret.txt"}))
    assert load_character(path, allow_outside=True).memories == ["the password is hunter2"]
    with pytest.raises(InputError):  # the cache must not hand out what was allowed once
        load_character(path, allow_outside=False)
    monkeypatch.setenv("PERSONASCOPE_ALLOW_OUTSIDE_FILES", "1")
    assert load_character(path).memories == ["the password is hunter2"]
    with pytest.raises(InputError, match="does not exist"):  # inside: looked for, not refused
        character_from_data({**PROFILE, "memories_file": "m.txt"}, path, profile_dir, allow_outside=False)


def test_memories_file_inside_nested_folder_is_fine(profile_dir: Path) -> None:
    (profile_dir / "mem").mkdir()
    (profile_dir / "mem" / "m.txt").write_text("first\n\nsecond\n")
    path = profile_dir / "c.yaml"
    path.write_text(yaml.safe_dump({**PROFILE, "memories_file": "mem/m.txt"}))
    assert load_character(path, allow_outside=False).memories == ["first", "second"]


def test_non_utf8_memories_file_is_one_line(profile_dir: Path) -> None:
    (profile_dir / "m.txt").write_bytes(b"a memory\n\ncaf\xe9 au lait\n")
    path = profile_dir / "c.yaml"
    path.write_text(yaml.safe_dump({**PROFILE, "memories_file": "m.txt"}))
    with pytest.raises(InputError) as info:
        load_character(path)
    assert str(info.value) == (
        f"{path}: memories_file: {profile_dir / 'm.txt'}: "
        "not UTF-8 text (byte 0xe9 on line 3); save the file as UTF-8"
    )


# -- hostile endpoints: huge answers, trickles, key echoes -------------------------------


def test_trickling_endpoint_is_cut_at_the_request_timeout() -> None:
    """Before: one byte every 0.5 s of a ~300-byte answer held the call for minutes,
    read timeout notwithstanding."""
    with HostileOpenAI("trickle") as stub:
        model = resolve_model(f"openai-compatible:m@{stub.base_url}", ModelParams(timeout=1.0, max_retries=0))
        t = time.monotonic()
        with pytest.raises(openai.APITimeoutError):
            asyncio.run(model.ainvoke("hi"))
        assert time.monotonic() - t < 5
        t = time.monotonic()
        with pytest.raises(openai.APITimeoutError):
            model.invoke("hi")
        assert time.monotonic() - t < 5


def test_total_deadline_bounds_retries_too() -> None:
    with HostileOpenAI("trickle") as stub:
        params = ModelParams(timeout=1.0, max_retries=20, deadline=2.5)
        model = resolve_model(f"openai-compatible:m@{stub.base_url}", params)
        t = time.monotonic()
        with pytest.raises(ModelDeadlineError, match=r"within 2\.5s"):
            asyncio.run(model.ainvoke("hi"))
        assert 2.4 < time.monotonic() - t < 5
        assert 2 <= stub.requests <= 4


def test_pool_endpoints_are_bounded_too() -> None:
    with HostileOpenAI("trickle") as a, HostileOpenAI("trickle") as b:
        model = resolve_model(
            f"openai-compatible:m@{a.base_url},{b.base_url}", ModelParams(timeout=1.0, max_retries=0)
        )
        t = time.monotonic()
        with pytest.raises(openai.APITimeoutError):
            asyncio.run(model.ainvoke("hi"))
        assert time.monotonic() - t < 5  # one attempt per server, 1 s each


def test_huge_body_is_refused_without_retries() -> None:
    with HostileOpenAI("huge", size=9 * 1024 * 1024) as stub:
        model = resolve_model(f"openai-compatible:m@{stub.base_url}", ModelParams(max_retries=3))
        with pytest.raises(ResponseTooLargeError, match="larger than 8388608 bytes"):
            asyncio.run(model.ainvoke("hi"))
        assert stub.requests == 1


def test_long_answer_is_truncated_and_flagged() -> None:
    with HostileOpenAI("huge", size=100_000) as stub:
        rpa = EndpointRPA(f"openai-compatible:m@{stub.base_url}", max_retries=0)
        reply = asyncio.run(safe_answer(rpa, [HumanMessage("Who are you?")]))
        assert reply.truncated and reply.original_chars == 100_000
        assert reply.text.startswith("x" * safeio.MAX_ANSWER_CHARS)
        assert reply.text.endswith("[answer truncated by personascope: 100000 characters, limit 20000]")
        text = asyncio.run(safe_reply(rpa, [HumanMessage("Who are you?")], max_answer_chars=50))
        assert len(text) < 150 and "limit 50" in text
        short = asyncio.run(safe_answer(rpa, [HumanMessage("Who?")], max_answer_chars=None))
        assert not short.truncated and len(short.text) == 100_000


def test_character_agent_keeps_a_bounded_answer_in_its_state() -> None:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from personascope.agents.character_agent import CharacterAgent

    agent = CharacterAgent(
        CHAR, FakeListChatModel(responses=["y" * 50_000]), None, k=0, max_answer_chars=1000
    )
    answer = asyncio.run(agent.areply([HumanMessage("Talk.")]))
    assert len(answer) < 1100 and "50000 characters, limit 1000" in answer


# -- 5. secrets --------------------------------------------------------------------------


def _no_canary(exc: BaseException) -> None:
    rendered = "".join(traceback.format_exception(exc)) + str(exc) + repr(exc)
    rendered += repr(getattr(exc, "body", ""))
    assert CANARY not in rendered, rendered


@pytest.fixture
def canary_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PERSONASCOPE_API_KEY", CANARY)
    yield


def test_key_echoed_by_endpoint_is_redacted(canary_env: None) -> None:
    """Before: ``Error code: 401 - {'error': {'message': 'invalid header Authorization:
    Bearer sk-canary…'}}``."""
    with HostileOpenAI("echo_key") as stub:
        model = resolve_model(f"openai-compatible:m@{stub.base_url}", ModelParams(max_retries=0))
        with pytest.raises(openai.AuthenticationError) as info:
            asyncio.run(model.ainvoke("hi"))
        assert "[REDACTED]" in str(info.value)
        _no_canary(info.value)
        with pytest.raises(openai.AuthenticationError) as sync_info:
            model.invoke("hi")
        _no_canary(sync_info.value)
        rpa = EndpointRPA(f"openai-compatible:m@{stub.base_url}", max_retries=0)
        with pytest.raises(RPAError) as rpa_info:
            asyncio.run(safe_reply(rpa, [HumanMessage("hi")]))
        assert rpa_info.value.kind == "exception" and "AuthenticationError" in str(rpa_info.value)
        _no_canary(rpa_info.value)


def test_custom_rpa_errors_are_redacted(canary_env: None) -> None:
    def leak(_: Any) -> str:
        raise RuntimeError(f"upstream said: key {CANARY} rejected")

    with pytest.raises(RPAError) as info:
        asyncio.run(safe_reply(RunnableRPA(RunnableLambda(leak)), [HumanMessage("hi")]))
    assert str(info.value) == "RuntimeError: upstream said: key [REDACTED] rejected"
    _no_canary(info.value)


def test_redact_covers_registered_and_shaped_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-1234567890")
    safeio.register_secret("spec-key-abcdef123")
    text = "a tok-1234567890 b spec-key-abcdef123 c Bearer abcdefghijk d sk-zzzzzzzzzzzzzzzz"
    text += " e api_key=qwertyuiop"
    assert safeio.redact(text) == (
        "a [REDACTED] b [REDACTED] c Bearer [REDACTED] d [REDACTED] e api_key=[REDACTED]"
    )
    # Short or placeholder values are not secrets: redacting them would garble messages.
    monkeypatch.setenv("PERSONASCOPE_API_KEY", "not-needed")
    assert safeio.redact("the key is not-needed here") == "the key is not-needed here"


def test_concurrent_readers_share_one_thread_lock(tmp_path: Path) -> None:
    """Two MemoryStore objects on one folder (one per graph) build a collection once."""
    stores = [MemoryStore(path=tmp_path) for _ in range(2)]
    barrier = threading.Barrier(2)

    def first(store: MemoryStore) -> int:
        barrier.wait()
        return len(store.retrieve(CHAR, "Tell me about your family.", k=2))

    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(first, stores)) == [2, 2]
    assert sorted(s.indexed for s in stores) == [[], [CHAR.id]]
