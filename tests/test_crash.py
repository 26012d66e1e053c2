"""Crash test: kill -9 the experiment process at random points, resume, compare (marked)."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from personascope import results
from personascope.graphs.runner import ExperimentSpec, run_experiment

from faulty_openai import FaultyOpenAI
from resume_check import checkpointed, rpa_key

pytestmark = pytest.mark.integration


def _spec(url: str) -> ExperimentSpec:
    return ExperimentSpec(
        characters=["captain-ahab", "elizabeth-bennet"],
        scales=["ipip-bfm-50"],
        methods=["er_batch"],
        rpa_models=[f"openai-compatible:rpa@{url}"],
        assessor_models=[f"openai-compatible:assessor@{url}"],
        concurrency=2,
        run_concurrency=4,
        context={"k": 0, "request_timeout": 5.0},
    )


async def _checkpointed(exp: Path, spec: ExperimentSpec) -> set[tuple[str, str]]:
    if spec.database_url:
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

        async with AsyncPostgresSaver.from_conn_string(spec.database_url) as saver:
            return await checkpointed(saver, spec)
    # Read with aiosqlite's saver, not the engine's: an independent reader of the file.
    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    async with aiosqlite.connect(str(exp / "checkpoints.sqlite")) as conn:
        return await checkpointed(AsyncSqliteSaver(conn), spec)


def _integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def test_kill_minus_nine_and_resume(tmp_path: Path, database: str | None) -> None:
    rng = random.Random(5)
    with FaultyOpenAI(fault_rate=0.0, latency=0.2) as stub:
        spec = _spec(stub.base_url).model_copy(update={"database": database})
        spec_file = tmp_path / "spec.yaml"
        spec_file.write_text(yaml.safe_dump(spec.model_dump(mode="json")))
        exp = tmp_path / "crashy"
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        cmd = [
            sys.executable,
            "-m",
            "personascope.cli",
            "experiment",
            str(spec_file),
            "--dir",
            str(exp),
            "--resume",
        ]
        frozen: dict[tuple[str, str], int] = {}  # checkpointed answer -> requests seen when found
        kills = 0
        for _attempt in range(12):
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            # Kill at a random point measured in progress, not in time (a faster engine
            # would finish inside any fixed window): after 10-40 more model requests.
            target = len(stub.requests) + rng.randint(10, 40)
            deadline = time.monotonic() + 120
            while kills < 3 and proc.poll() is None and len(stub.requests) < target:
                assert time.monotonic() < deadline, "no progress"
                time.sleep(0.01)
            if proc.poll() is None and kills < 3:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
                kills += 1
                counts = Counter(k for b in list(stub.requests) if (k := rpa_key(b)))
                for key in asyncio.run(_checkpointed(exp, spec)):
                    frozen.setdefault(key, counts[key])
                continue
            proc.wait(timeout=300)
            assert proc.returncode == 0, proc.stderr.read().decode() if proc.stderr else ""
            break
        else:
            pytest.fail("the experiment never finished")
        assert kills >= 2, "the test must actually kill the process mid-run"
        assert frozen, "some answers were checkpointed before a kill"
        final = Counter(k for b in stub.requests if (k := rpa_key(b)))
        reasked = {k: (n, final[k]) for k, n in frozen.items() if final[k] != n}
        assert not reasked, f"asked again after being checkpointed: {list(reasked)[:3]}"
        print(f"kills={kills} checkpointed-before-kill={len(frozen)} rpa-requests={sum(final.values())}")

        clean = tmp_path / "clean"
        asyncio.run(run_experiment(spec.model_copy(update={"name": "clean"}), clean))
        # A finished experiment re-run makes no request at all.
        before = len(stub.requests)
        proc = subprocess.run(cmd, env=env, capture_output=True, timeout=120, check=False)
        assert proc.returncode == 0 and len(stub.requests) == before

    def by_run(d: Path) -> dict[str, Any]:
        return {r["run_id"]: r for r in results.load_records(d)}

    got, expected = by_run(exp), by_run(clean)
    assert got.keys() == expected.keys() and len(got) == 2
    for run_id, rec in got.items():
        assert rec["scores"] == expected[run_id]["scores"]
        assert [a["answer"] for a in rec["transcript"]] == [
            a["answer"] for a in expected[run_id]["transcript"]
        ]
    files = (
        ("llm-cache.sqlite",) if database else ("checkpoints.sqlite", "results.sqlite", "llm-cache.sqlite")
    )
    for db in files:
        assert _integrity(exp / db) == "ok", db
