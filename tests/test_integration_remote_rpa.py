"""A deployed LangGraph assistant as the RPA (``langgraph:<assistant>@<url>``): a real
``langgraph dev`` serves tests/fixtures/remote_rpa; the conformance kit passes it and an
experiment measures two characters through it (marked integration)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from personascope import results
from personascope.agents.conformance import check_rpa
from personascope.agents.local_server import free_port
from personascope.graphs.runner import ExperimentSpec, run_experiment

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "remote_rpa"
LANGGRAPH = Path(sys.executable).parent / "langgraph"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not LANGGRAPH.exists() and shutil.which("langgraph") is None,
        reason="langgraph-cli[inmem] is not installed",
    ),
]


@pytest.fixture(scope="module")
def assistant_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log_path = tmp_path_factory.mktemp("remote") / "dev.log"
    env = {k: v for k, v in os.environ.items() if not k.endswith("API_KEY")}
    env.update(LANGGRAPH_CLI_NO_ANALYTICS="1", HF_HUB_OFFLINE="1", HF_HUB_DISABLE_PROGRESS_BARS="1")
    env.pop("LANGSMITH_TRACING", None)
    binary = str(LANGGRAPH if LANGGRAPH.exists() else "langgraph")
    argv = [binary, "dev", "--config", str(FIXTURE / "langgraph.json"), "--host", "127.0.0.1",
            "--port", str(port), "--no-browser", "--no-reload"]  # fmt: skip
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            argv, cwd=FIXTURE, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    raise RuntimeError(log_path.read_text()[-3000:])
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


def test_the_deployed_assistant_passes_the_kit(assistant_url: str) -> None:
    report = check_rpa(f"langgraph:character@{assistant_url}?context=character", timeout=60)
    assert report.passed, str(report)
    assert report.get("no leakage across characters").passed  # type: ignore[union-attr]


def test_an_experiment_measures_two_characters_through_it(tmp_path: Path, assistant_url: str) -> None:
    rpa = f"langgraph:character@{assistant_url}?context=character,temperature"
    spec = ExperimentSpec(
        characters=["alice", "sherlock-holmes"],
        scales=["ipip-bfm-50"],
        rpa_models=[rpa],
        assessor_models=["fake:neutral"],
        interviewer_model="fake:echo",
        run_concurrency=8,
    )
    outcomes = asyncio.run(run_experiment(spec, tmp_path))
    assert [o.status for o in outcomes] == ["ran", "ran"], [o.error for o in outcomes]
    for rec in results.run_records(tmp_path):
        assert rec.status == "complete" and len(rec.transcript) == 50
        # the context named the character; the role-play prompt went as the system message
        assert all((a["answer"] or "").startswith(f"{rec.character} (in role): ") for a in rec.transcript)
        prov = rec.provenance.rpa
        assert prov is not None and (prov.kind, prov.name) == ("langgraph", "character")
        assert prov.params == {"url": assistant_url, "context": "character,temperature"}
