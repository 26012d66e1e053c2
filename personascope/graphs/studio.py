"""Serve an experiment's threads to LangGraph Studio: ``personascope studio DIR``.

LangGraph's server takes a custom checkpointer (``"checkpointer": {"path": ...}`` in
``langgraph.json``), but ``langgraph dev`` lists only threads created through its own
API, and its thread ids are UUIDs while a run's thread id is its run id. So
:func:`serve` copies the experiment's threads into ``<DIR>/.studio/checkpoints.sqlite``
under UUIDs derived from the run ids (:func:`snapshot`), writes a config whose
checkpointer is :func:`checkpointer` on that copy, starts ``langgraph dev`` on
127.0.0.1 and registers each run as a thread (metadata: run id, character, scale,
method, models). Studio then opens each run with its full history: inspect a step,
fork from the checkpoint after ``collect_transcript``, re-assess with another method.
Working on a copy keeps the experiment as it was: a fork made in Studio never becomes
the latest checkpoint of a run that ``experiment --resume`` would then continue
(``personascope reassess`` records re-assessments in the experiment itself). Each start
takes a fresh copy. SQLite experiments only: a PostgreSQL experiment's threads live in
its database (Studio's own deployment can use it directly).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from personascope.errors import InputError

#: The variable naming the experiment folder whose checkpoints the server opens.
STUDIO_DIR_ENV = "PERSONASCOPE_STUDIO_DIR"
GRAPHS = {
    "pipeline": "personascope.graphs.pipeline:graph",
    "interview": "personascope.graphs.interview:graph",
    "assessment": "personascope.graphs.assessment:graph",
}


def studio_thread_id(exp: Path, thread_id: str) -> str:
    """The UUID under which Studio shows a run's thread (stable for a folder and run)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"personascope:{exp.resolve()}:{thread_id}"))


def snapshot(exp: Path) -> dict[str, str]:
    """Copy every thread of the experiment into ``<exp>/.studio/checkpoints.sqlite`` under
    its Studio UUID (replacing an earlier copy); returns UUID → run thread id."""
    from personascope.graphs.checkpoint import CHECKPOINT_FILE, sqlite_saver

    source = exp / CHECKPOINT_FILE
    if not source.exists():
        raise InputError(exp, "DIR", f"no {CHECKPOINT_FILE}: nothing has run here (or it uses PostgreSQL)")
    target = exp / ".studio" / CHECKPOINT_FILE
    target.parent.mkdir(exist_ok=True)
    with sqlite_saver(target):  # LangGraph's own tables
        pass
    mapping: dict[str, str] = {}
    conn = sqlite3.connect(target)
    try:
        conn.execute("ATTACH DATABASE ? AS src", (f"file:{source}?mode=ro",))
        threads = [row[0] for row in conn.execute("SELECT DISTINCT thread_id FROM src.checkpoints")]
        with conn:
            for thread in threads:
                new = studio_thread_id(exp, thread)
                mapping[new] = thread
                for table in ("checkpoints", "writes"):
                    columns = [row[1] for row in conn.execute(f"PRAGMA main.table_info({table})")]
                    rest = ", ".join(c for c in columns if c != "thread_id")
                    conn.execute(f"DELETE FROM main.{table} WHERE thread_id = ?", (new,))
                    conn.execute(
                        f"INSERT INTO main.{table} (thread_id, {rest}) "
                        f"SELECT ?, {rest} FROM src.{table} WHERE thread_id = ?",
                        (new, thread),
                    )
    finally:
        conn.close()
    return mapping


@asynccontextmanager
async def checkpointer() -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """The Studio copy of the experiment in ``$PERSONASCOPE_STUDIO_DIR``, opened off the
    event loop (``langgraph dev`` refuses blocking calls on it)."""
    from personascope.graphs.checkpoint import CHECKPOINT_FILE, sqlite_saver

    folder = Path(os.environ[STUDIO_DIR_ENV])
    # SqliteSaver connects and creates its tables in __enter__: blocking work, done in a thread.
    manager = sqlite_saver(folder / ".studio" / CHECKPOINT_FILE)
    saver = await asyncio.to_thread(manager.__enter__)
    try:
        yield saver
    finally:
        await asyncio.to_thread(manager.__exit__, None, None, None)


def studio_config(exp: Path) -> Path:
    """``<exp>/.studio/langgraph.json``: the three graphs and the experiment's checkpointer."""
    folder = exp / ".studio"
    folder.mkdir(exist_ok=True)
    config = {
        "dependencies": ["."],
        "graphs": GRAPHS,
        # LangGraph loads a checkpointer by a dotted path (module.attribute), graphs by module:attribute.
        "checkpointer": {"path": "personascope.graphs.studio.checkpointer"},
        "python_version": f"{sys.version_info.major}.{sys.version_info.minor}",
    }
    path = folder / "langgraph.json"
    path.write_text(json.dumps(config, indent=2))
    return path


async def register_threads(url: str, exp: Path, mapping: dict[str, str]) -> int:
    """Create one server thread per copied run (existing ones are kept); returns how many."""
    from langgraph_sdk import get_client

    from personascope.graphs.runner import load_spec, plan_runs

    spec = load_spec(exp / "spec.yaml")
    plans = {spec.thread_id(p): p for p in plan_runs(spec)}
    client = get_client(url=url)
    for studio_id, thread in mapping.items():
        plan = plans.get(thread)
        metadata: dict[str, Any] = {"graph_id": "pipeline", "run_thread": thread}
        if plan is not None:  # a run of the plan (a re-assessment fork has no plan entry)
            metadata |= {
                "run_id": plan.run_id,
                "character": plan.character,
                "scale": plan.scale,
                "method": plan.method,
                "rpa_model": plan.rpa_model,
                "assessor_model": plan.assessor_model,
                "temperature": plan.temperature,
                "trial": plan.trial,
            }
        await client.threads.create(
            thread_id=studio_id, metadata=metadata, if_exists="do_nothing", graph_id="pipeline"
        )
    return len(mapping)


def _langgraph() -> str:
    found = Path(sys.executable).parent / "langgraph"
    if found.exists():
        return str(found)
    path = shutil.which("langgraph")
    if path is None:
        raise InputError("studio", "langgraph", "install langgraph-cli[inmem] to serve Studio")
    return path


def start(exp: str | Path, port: int) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``langgraph dev`` on 127.0.0.1:``port`` for the experiment; returns the process
    and its URL once it is healthy (threads registered)."""
    import httpx

    folder = Path(exp).resolve()
    if not (folder / "spec.yaml").exists():
        raise InputError(folder, "DIR", "not an experiment directory (no spec.yaml)")
    mapping = snapshot(folder)
    config = studio_config(folder)
    env = {**os.environ, STUDIO_DIR_ENV: str(folder), "LANGGRAPH_CLI_NO_ANALYTICS": "1"}
    cmd = [_langgraph(), "dev", "--host", "127.0.0.1", "--port", str(port), "--no-browser", "--no-reload",
           "--config", str(config)]  # fmt: skip
    log = (folder / ".studio" / "server.log").open("wb")
    proc = subprocess.Popen(
        cmd, cwd=config.parent, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = (folder / ".studio" / "server.log").read_text(errors="replace")[-2000:]
            raise InputError(folder, "studio", f"langgraph dev stopped: {tail}")
        try:
            healthy = httpx.get(f"{url}/ok", timeout=2).status_code == 200
        except httpx.HTTPError:
            healthy = False
        if healthy:
            try:
                asyncio.run(register_threads(url, folder, mapping))
            except BaseException:
                stop(proc)
                raise
            return proc, url
        time.sleep(0.5)
    stop(proc)
    raise InputError(folder, "studio", "langgraph dev did not become healthy in 180 s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server and everything it started."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def serve(exp: str | Path, port: int, announce: Callable[[str], None] = print) -> None:
    """Serve until interrupted."""
    proc, url = start(exp, port)
    studio = f"https://smith.langchain.com/studio/?baseUrl={url}"
    announce(f"serving {exp} on {url} (loopback only); open {studio}; Ctrl-C stops")
    try:
        proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop(proc)


__all__ = [
    "STUDIO_DIR_ENV",
    "checkpointer",
    "register_threads",
    "serve",
    "snapshot",
    "start",
    "stop",
    "studio_config",
    "studio_thread_id",
]
