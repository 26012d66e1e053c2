"""Beyond one machine: the Ray executor on a local cluster, against real PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from personascope.errors import InputError
from personascope.graphs.executors import chunks, run_with_ray
from personascope.graphs.runner import ExperimentSpec, plan_runs

HERE = Path(__file__).parent

SPEC = ExperimentSpec(characters=["alice", "jay-gatsby", "sherlock-holmes"], scales=["ipip-bfm-50"], trials=3)


def test_chunks_cover_the_plan_in_order() -> None:
    plans = plan_runs(SPEC)
    parts = chunks(plans, 4)
    assert [len(p) for p in parts] == [4, 4, 1]
    assert [p for part in parts for p in part] == plans
    assert chunks(plans, 0) == [[p] for p in plans]


def test_ray_needs_a_shared_database(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        run_with_ray(SPEC, tmp_path / "exp")
    assert info.value.field == "database" and "postgresql://" in info.value.detail
    assert not (tmp_path / "exp").exists()


def _isolated_network() -> list[str]:
    """A command prefix that runs in a new network namespace with only loopback up."""
    if not sys.platform.startswith("linux") or not shutil.which("unshare") or not shutil.which("ip"):
        pytest.skip("needs Linux unshare and ip to isolate Ray's servers on loopback")
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"cannot create a network namespace here: {probe.stderr.decode().strip()}")
    return ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]


@pytest.mark.integration
def test_ray_executor_equals_local_and_resumes_a_killed_worker(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    from pg_server import find_bindir

    if find_bindir() is None:
        pytest.skip("PostgreSQL server binaries not found (scripts/test.sh installs Debian's postgresql)")
    prefix = _isolated_network()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "RAY_USAGE_STATS_ENABLED": "0"}
    # Its own session, so that a hung scenario is killed with everything it started.
    proc = subprocess.Popen(
        [*prefix, sys.executable, str(HERE / "ray_scenario.py"), str(tmp_path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _, stderr = proc.communicate(timeout=480)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, stderr = proc.communicate()
        pytest.fail(f"the Ray scenario did not finish in 480 s: {stderr.decode()[-3000:]}")
    report_file = tmp_path / "report.json"
    assert proc.returncode == 0 and report_file.exists(), stderr.decode()[-3000:]
    report = json.loads(report_file.read_text())
    print({k: report[k] for k in ("local_seconds", "ray_seconds", "killed", "checkpointed_before_kill")})

    assert report["killed"], "a Ray worker must have been killed mid-run"
    assert report["checkpointed_before_kill"] > 0
    assert report["ray_errors"] == []
    assert sorted(report["ray_status"]) == ["ran"] * 3
    # Ray retried the dead worker's task; the retry resumed from PostgreSQL and re-asked
    # nothing that had been checkpointed.
    assert report["reasked"] == []
    assert report["ray_rpa_requests"] < 3 * 50 + 4 * 2, "at most the in-flight items are asked twice"
    # Same runs, same answers, same scores as the local executor.
    assert report["ray_scores"] == report["local_scores"]
    assert len(report["local_scores"]) == 3


def test_the_shipped_distributed_example_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    from personascope.graphs.runner import load_spec

    monkeypatch.setenv("PERSONASCOPE_DATABASE_URL", "postgresql://u:secret@db:5432/personascope")
    spec = load_spec(HERE.parent / "examples" / "distributed.yaml")
    assert spec.database_url and spec.database_url.endswith("/personascope")
    assert len(plan_runs(spec)) == 5 * 2 * 3 * 3 * 3
    assert len(chunks(plan_runs(spec), spec.concurrency)) == 68
