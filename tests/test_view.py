"""``personascope view``: the page served live on loopback, rebuilt on every load."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from personascope.cli.view import page_server
from personascope.errors import InputError

from report_fakes import page_payload, write_experiment
from subprocesses import interruptible


@contextmanager
def serving(build: object) -> Iterator[str]:
    server = page_server(build)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_every_load_rebuilds_the_page_on_loopback() -> None:
    builds: list[int] = []

    def build() -> str:
        builds.append(1)
        return f"<p>build {len(builds)}</p>"

    with serving(build) as url:
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0")
        assert _get(url + "/") == (200, "<p>build 1</p>")
        assert _get(url + "/?reload") == (200, "<p>build 2</p>")  # a reload shows the newest runs
        assert _get(url + "/secrets.txt")[0] == 404


def test_an_experiment_without_results_yet_says_so_and_retries() -> None:
    def build() -> str:
        raise InputError("runs/x", "results.sqlite", "no results in this directory")

    with serving(build) as url:
        status, body = _get(url + "/")
    assert status == 503 and "no results in this directory" in body and "refresh" in body


def test_view_command_serves_the_report_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    write_experiment(tmp_path, n_characters=2, methods=("er_batch",), temperatures=(0.0,), trials=1)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "personascope.cli", "view", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=interruptible,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert found, line + (proc.stderr.read() if proc.stderr else "")
        status, html = _get(found.group(0))
        assert status == 200
        data = page_payload(html)
        assert data["live"] and len(data["runs"]) == 2
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            pytest.fail("view did not stop on Ctrl-C")
