"""One writer per experiment (issue 15 item 2), and Ctrl-C (item 8): real CLI processes.

A second process on a running experiment stops with one line naming the holder and
writes nothing; once the holder is gone (even by ``kill -9``) the experiment resumes;
the RPA only ever receives its own isolated question. Runs on SQLite files and on
PostgreSQL (the ``database`` fixture).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from personascope.graphs.lock import LOCK_FILE, ExperimentBusy, ExperimentLock

from faulty_openai import FaultyOpenAI
from subprocesses import interruptible

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}


def _spec_file(tmp: Path, url: str, database: str | None) -> Path:
    spec: dict[str, Any] = {
        "name": "one-writer",
        "characters": ["captain-ahab"],
        "scales": ["ipip-bfm-50"],
        "rpa_models": [f"openai-compatible:rpa@{url}"],
        "assessor_models": [f"openai-compatible:assessor@{url}"],
        "run_concurrency": 2,
        "context": {"k": 0, "request_timeout": 5.0},
    }
    if database:
        spec["database"] = database
    path = tmp / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "personascope.cli", *args]


def _wait_for(stub: FaultyOpenAI, n: int, proc: subprocess.Popen[bytes]) -> None:
    """Until the process has asked the RPA ``n`` questions (the preflight's requests
    come before the lock: they do not count)."""
    deadline = time.monotonic() + 60
    while len(_rpa_conversations(stub)) < n:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "the first process made no progress"
        time.sleep(0.02)


def _rpa_conversations(stub: FaultyOpenAI) -> list[list[str]]:
    return [
        [m["role"] for m in body["messages"]]
        for body in list(stub.requests)
        if body.get("model") == "rpa" and body.get("messages") and "response_format" not in body
    ]


# SQLite's side files come and go with the first process's connections; the first process
# also finishes runs meanwhile. What the second process must not do is add anything else.
_FIRST_WRITES = {"results.sqlite", "llm-cache.sqlite", "memories"}


def _own_files(exp: Path) -> set[str]:
    return {p.name for p in exp.iterdir() if not p.name.endswith(("-wal", "-shm", "-journal"))}


def test_second_process_stops_with_one_line_naming_the_holder(tmp_path: Path, database: str | None) -> None:
    with FaultyOpenAI(fault_rate=0.0, latency=0.15) as stub:
        spec = _spec_file(tmp_path, stub.base_url, database)
        exp = tmp_path / "exp"
        first = subprocess.Popen(
            _cli("experiment", str(spec), "--dir", str(exp)),
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            _wait_for(stub, 4, first)
            files_before = _own_files(exp)
            second = subprocess.run(
                _cli("experiment", str(spec), "--dir", str(exp), "--resume"),
                env=ENV,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            holder = f"{first.pid}@{socket.gethostname()}"
            lines = second.stderr.strip().splitlines()
            assert second.returncode == 2, second.stderr
            assert len(lines) == 1 and lines[0].startswith("error: ") and holder in lines[0], lines
            assert _own_files(exp) <= files_before | _FIRST_WRITES
        finally:
            # kill -9: the kernel (flock) or PostgreSQL (closed session) releases the lock.
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=30)
        resumed = subprocess.run(
            _cli("experiment", str(spec), "--dir", str(exp), "--resume"),
            env=ENV,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert resumed.returncode == 0, resumed.stderr
        # Every question reached the RPA alone, with its system prompt: never another turn.
        conversations = _rpa_conversations(stub)
        assert conversations and all(c == ["system", "user"] for c in conversations), {
            tuple(c) for c in conversations
        }


def test_lock_in_one_process_and_released(tmp_path: Path) -> None:
    lock = ExperimentLock(tmp_path, None, "x")
    assert (tmp_path / LOCK_FILE).read_text().startswith(f"{os.getpid()}@")
    with pytest.raises(ExperimentBusy, match=f"{os.getpid()}@"):
        ExperimentLock(tmp_path, None, "x")
    lock.close()
    ExperimentLock(tmp_path, None, "x").close()  # free again


def test_ctrl_c_prints_one_line_saying_how_to_resume(tmp_path: Path) -> None:
    with FaultyOpenAI(fault_rate=0.0, latency=0.2) as stub:
        spec = _spec_file(tmp_path, stub.base_url, None)
        exp = tmp_path / "exp"
        proc = subprocess.Popen(
            _cli("experiment", str(spec), "--dir", str(exp)),
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=interruptible,
        )
        _wait_for(stub, 6, proc)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    lines = err.decode().strip().splitlines()
    assert proc.returncode == 130, err.decode()
    assert len(lines) == 1 and "Traceback" not in lines[0], lines
    assert lines[0].endswith(f"personascope experiment {spec} --dir {exp} --resume"), lines[0]
