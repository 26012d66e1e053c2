"""Throughput of an experiment by executor and store, against the throughput model.

Usage: python benchmarks/bench_distributed.py [--characters 16] [--latency 0.5]
           [--endpoints 2] [--runs 4] [--per-run 8] [--modes sqlite,postgres,ray]
           [--database postgresql://...]

Each mode runs ``characters`` × ipip-bfm-50 × interview + ER_batch (65 calls a run)
against ``endpoints`` fixed-latency OpenAI-compatible stub servers (separate processes)
named as one fleet, so the round-robin pool is on the path:

- ``sqlite``: the local executor, SQLite checkpoints and results (the default);
- ``postgres``: the local executor on a PostgreSQL database;
- ``ray``: the Ray executor on a single-node cluster (this machine's CPUs), PostgreSQL.

It prints wall time, calls per second and the time the throughput model predicts:

    T ≈ calls_per_run × runs ÷ min(runs in flight × calls per run in flight,
                                    endpoints × calls per endpoint) × latency

Without ``--database`` a throw-away PostgreSQL server is started from Debian's binaries
(tests/pg_server.py). Ray's servers listen on every interface: run this under
``unshare --net`` (loopback only) on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

from bench_engine import SCALE, Stub, make_characters

from personascope.graphs.runner import ExperimentSpec, run_experiment

CALLS_PER_RUN = 50 + 15  # 50 items, ER_batch: 5 dimensions × 3 batches
PER_ENDPOINT = 8  # PersonaChatOpenAI's default concurrency limit per server


def run_mode(mode: str, args: argparse.Namespace, urls: list[str], database: str | None, tmp: Path) -> float:
    spec = ExperimentSpec(
        name=f"bench-{mode}-{time.time_ns()}",
        characters=make_characters(tmp, args.characters),
        scales=[SCALE],
        methods=["er_batch"],
        rpa_models=["openai-compatible:rpa@fleet"],
        assessor_models=["openai-compatible:assessor@fleet"],
        endpoints={"fleet": urls},
        concurrency=args.runs,
        run_concurrency=args.per_run,
        database=None if mode == "sqlite" else database,
        context={"k": 0, "max_retries": 2},
    )
    exp = tmp / mode
    t = time.perf_counter()
    if mode == "ray":
        from personascope.graphs.executors import run_with_ray

        outcomes = run_with_ray(spec, exp)
    else:
        outcomes = asyncio.run(run_experiment(spec, exp))
    wall = time.perf_counter() - t
    bad = [o.error or o.result for o in outcomes if o.status != "ran" or (o.result or {}).get("failures")]
    assert not bad, [b if isinstance(b, str) else b.get("failures") for b in bad][:3]
    return wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--characters", type=int, default=16)
    ap.add_argument("--latency", type=float, default=0.5)
    ap.add_argument("--endpoints", type=int, default=2)
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--per-run", type=int, default=8)
    ap.add_argument("--modes", default="sqlite,postgres,ray")
    ap.add_argument("--database", default=None)
    args = ap.parse_args()
    modes = args.modes.split(",")

    stubs = [Stub(args.latency) for _ in range(args.endpoints)]
    server: Any = None
    database = args.database
    try:
        if database is None and any(m != "sqlite" for m in modes):
            from pg_server import PostgresServer, find_bindir

            bindir = find_bindir()
            assert bindir is not None, "no PostgreSQL binaries: pass --database"
            server = PostgresServer(bindir).start()
            database = server.create_database()
        calls = CALLS_PER_RUN * args.characters
        # Limits are per process: each Ray worker has its own, so W workers put W times the
        # calls in flight (one chunk of `runs` runs per worker, one worker per CPU).
        per_process = min(args.runs * args.per_run, args.endpoints * PER_ENDPOINT)
        chunks = -(-args.characters // args.runs)
        workers = {m: min(os.cpu_count() or 1, chunks) if m == "ray" else 1 for m in modes}
        print(
            f"{args.characters} runs x {CALLS_PER_RUN} calls = {calls} calls, {args.endpoints} endpoints at "
            f"{args.latency * 1000:.0f} ms, {per_process} calls in flight per process"
        )
        for mode in modes:
            predicted = calls / (per_process * workers[mode]) * args.latency
            before = sum(s.calls for s in stubs)
            with tempfile.TemporaryDirectory() as tmp:
                wall = run_mode(mode, args, [s.url for s in stubs], database, Path(tmp))
            made = sum(s.calls for s in stubs) - before
            assert made == calls, f"{mode}: {made} requests, expected {calls}"
            print(
                f"  {mode:9s} {workers[mode]} process(es)  wall {wall:6.1f} s  {calls / wall:6.1f} calls/s  "
                f"model {predicted:5.1f} s  wall/model {wall / predicted:.2f}"
            )
        sent = [s.calls for s in stubs]
        print(f"  requests per endpoint (all modes): {sent}")
    finally:
        for s in stubs:
            s.close()
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
