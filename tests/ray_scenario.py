"""The Ray scenario of test_distributed.py, run in a network namespace of its own.

Ray's servers (GCS, raylet, workers, agents) listen on every interface and cannot be
told otherwise, so the test runs this script under ``unshare --net``, where loopback
is the only interface: nothing outside can reach any server started here.

It starts a throw-away PostgreSQL server and a deterministic OpenAI-compatible stub,
runs a small experiment with the local executor, then the same experiment as Ray
tasks on a single-node cluster, SIGKILLs a Ray worker in the middle of a run, and
writes what the test checks to ``report.json``.

Usage: python tests/ray_scenario.py OUT_DIR
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from personascope import results
from personascope.graphs.executors import run_with_ray
from personascope.graphs.runner import ExperimentSpec, RunOutcome, run_experiment

from faulty_openai import FaultyOpenAI
from pg_server import PostgresServer, find_bindir
from resume_check import checkpointed, rpa_key


def ray_workers_running(task: str = "run_chunk") -> list[int]:
    """Pids of Ray workers executing ``task`` (Ray titles them ``ray::<task>``)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
        except OSError:
            continue
        if cmdline.startswith(f"ray::{task}"):
            pids.append(int(entry.name))
    return pids


async def checkpointed_in(url: str, spec: ExperimentSpec) -> set[tuple[str, str]]:
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

    async with AsyncPostgresSaver.from_conn_string(url) as saver:
        return await checkpointed(saver, spec)


def scores(location: Path) -> dict[str, Any]:
    return {r["run_id"]: r["scores"] for r in results.load_records(location)}


def main(out: Path) -> None:
    bindir = find_bindir()
    assert bindir is not None, "PostgreSQL server binaries not found"
    server = PostgresServer(bindir).start()
    report: dict[str, Any] = {}
    try:
        with FaultyOpenAI(fault_rate=0.0, latency=0.15) as stub:
            base = ExperimentSpec(
                characters=["captain-ahab", "elizabeth-bennet", "jay-gatsby"],
                scales=["ipip-bfm-50"],
                methods=["er_batch"],
                rpa_models=[f"openai-compatible:rpa@{stub.base_url}"],
                assessor_models=[f"openai-compatible:assessor@{stub.base_url}"],
                interviewer_model=f"openai-compatible:assessor@{stub.base_url}",
                concurrency=1,
                run_concurrency=4,
                context={"k": 0, "request_timeout": 5.0},
            )
            local = base.model_copy(update={"name": "local", "database": server.create_database()})
            t = time.perf_counter()
            asyncio.run(run_experiment(local, out / "local"))
            report["local_seconds"] = time.perf_counter() - t
            first_ray_request = len(stub.requests)

            ray_url = server.create_database()
            on_ray = base.model_copy(update={"name": "ray", "database": ray_url})
            got: dict[str, list[RunOutcome]] = {}
            t = time.perf_counter()
            worker = threading.Thread(target=lambda: got.update(outcomes=run_with_ray(on_ray, out / "ray")))
            worker.start()
            killed: list[int] = []
            frozen: dict[tuple[str, str], int] = {}
            deadline = time.monotonic() + 240
            while not killed and worker.is_alive() and time.monotonic() < deadline:
                asked = sum(1 for b in stub.requests[first_ray_request:] if rpa_key(b))
                pids = ray_workers_running()
                if asked >= 30 and pids:
                    os.kill(pids[0], signal.SIGKILL)
                    killed.append(pids[0])
                    # Checkpoints first, then requests: an answer checkpointed now was asked
                    # before this count, so any later request for it is a re-ask.
                    saved = asyncio.run(checkpointed_in(ray_url, on_ray))
                    counts = Counter(k for b in stub.requests[first_ray_request:] if (k := rpa_key(b)))
                    frozen = {k: counts[k] for k in saved}
                time.sleep(0.05)
            worker.join(timeout=300)
            report["ray_seconds"] = time.perf_counter() - t
            final = Counter(k for b in stub.requests[first_ray_request:] if (k := rpa_key(b)))
            report["killed"] = killed
            report["checkpointed_before_kill"] = len(frozen)
            report["reasked"] = [list(k) for k, n in frozen.items() if final[k] != n]
            report["ray_status"] = [o.status for o in got.get("outcomes", [])]
            report["ray_errors"] = [o.error for o in got.get("outcomes", []) if o.error]
            report["local_scores"] = scores(out / "local")
            report["ray_scores"] = scores(out / "ray")
            report["ray_rpa_requests"] = sum(final.values())
    finally:
        server.stop()
        (out / "report.json").write_text(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
