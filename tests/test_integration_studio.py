"""`langgraph dev` serves the three graphs; the SDK runs `pipeline` end to end (marked)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from personascope.agents.local_server import free_port

ROOT = Path(__file__).resolve().parents[1]
LANGGRAPH = Path(sys.executable).parent / "langgraph"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not LANGGRAPH.exists() and shutil.which("langgraph") is None,
        reason="langgraph-cli[inmem] is not installed",
    ),
]


@pytest.fixture
def dev_server(tmp_path: Path) -> object:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.endswith("API_KEY")}
    env.update(LANGGRAPH_CLI_NO_ANALYTICS="1", HF_HUB_OFFLINE="1", HF_HUB_DISABLE_PROGRESS_BARS="1")
    env.pop("LANGSMITH_TRACING", None)
    log = (tmp_path / "dev.log").open("wb")
    proc = subprocess.Popen(
        [
            str(LANGGRAPH if LANGGRAPH.exists() else "langgraph"),
            "dev",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-browser",
            "--no-reload",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError((tmp_path / "dev.log").read_text()[-3000:])
            try:
                if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            raise RuntimeError("langgraph dev did not become healthy in 120 s")
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()


def test_pipeline_through_the_sdk(dev_server: str) -> None:
    from langgraph_sdk import get_client

    async def go() -> dict[str, object]:
        client = get_client(url=dev_server)
        assistants = await client.assistants.search()
        assert {a["graph_id"] for a in assistants} >= {"interview", "assessment", "pipeline"}
        thread = await client.threads.create()
        out = await client.runs.wait(
            thread["thread_id"],
            "pipeline",
            input={"character": "alice", "scale": "ipip-bfm-50"},
            context={"rpa_model": "fake:echo", "assessor_model": "fake:neutral", "method": "er_batch"},
        )
        assert isinstance(out, dict)
        return out

    out = asyncio.run(go())
    scores = out["scores"]
    assert isinstance(scores, dict) and len(scores) == 5
    # fake:neutral rates every batch 3 -> item mean 3 -> 30 on the 10-item SUM scale
    assert all(s["score"] == 30.0 for s in scores.values())
    transcript = out["transcript"]
    assert isinstance(transcript, list) and len(transcript) == 50
