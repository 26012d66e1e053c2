"""The embedded server's failure modes: clear errors, no hang, no orphan process."""

from __future__ import annotations

import importlib.util
import os
import socket
from pathlib import Path

import pytest

from personascope.agents.local_server import LlamaServer, LocalModelError, free_port
from personascope.agents.models import ModelParams, resolve_model

from stub_openai import StubOpenAI

needs_llama = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python is not installed"
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); look at its state.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def test_port_in_use_is_refused(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        server = LlamaServer(model=tmp_path / "x.gguf", port=port)
        with pytest.raises(LocalModelError, match=f"127.0.0.1:{port} is already in use"):
            server.start()
        assert server.pid is None


@needs_llama
def test_server_that_fails_to_start_leaves_no_process(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + os.urandom(256))
    server = LlamaServer(model=broken, startup_timeout=60)
    with pytest.raises(LocalModelError, match="exited during start-up"):
        server.start()
    assert server.pid is None and not server.running


def test_startup_timeout_stops_the_process(tmp_path: Path) -> None:
    # A "server" that never becomes healthy: python sleeping. The wait is bounded
    # and the process is killed.
    server = LlamaServer(model=tmp_path / "m.gguf", startup_timeout=1.0, extra_args=())
    import subprocess
    import sys

    original = subprocess.Popen
    pids: list[int] = []

    def fake_popen(cmd: list[str], **kw: object) -> subprocess.Popen[bytes]:
        proc = original([sys.executable, "-c", "import time; time.sleep(60)"], **kw)  # type: ignore[call-overload]
        pids.append(proc.pid)
        return proc  # type: ignore[no-any-return]

    subprocess.Popen = fake_popen  # type: ignore[assignment,misc]
    try:
        with pytest.raises(LocalModelError, match="not healthy after 1s"):
            server.start()
    finally:
        subprocess.Popen = original  # type: ignore[misc]
    assert pids and not _alive(pids[0])


def test_garbage_answer_is_one_clear_error() -> None:
    from personascope.agents.models import MalformedResponseError

    with StubOpenAI(default="garbage") as stub:
        model = resolve_model(f"openai-compatible:s@{stub.base_url}", ModelParams(max_retries=0))
        with pytest.raises(MalformedResponseError, match="malformed response after 1 attempt"):
            model.invoke("hi")


def test_free_port_is_loopback_and_free() -> None:
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
