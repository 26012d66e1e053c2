"""`personascope studio DIR`: an experiment's runs in LangGraph Studio's API (issue 18,
item 3), and re-assessment there by update_state as collect_transcript (item 2)."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from personascope.agents.local_server import free_port
from personascope.cli import main
from personascope.graphs.studio import snapshot, start, stop, studio_thread_id

LANGGRAPH = Path(sys.executable).parent / "langgraph"
RUN = [
    "run",
    "--character",
    "alice",
    "--scale",
    "ipip-bfm-50",
    "--model",
    "fake:echo",
    "--assessor",
    "fake:neutral",
    "--method",
    "er_batch",  # the history below walks ER's nodes; fake:neutral answers as an expert rater
]


@pytest.fixture
def experiment(tmp_path: Path) -> Path:
    main([*RUN, "--limit", "4", "--dir", str(tmp_path / "exp")])
    return tmp_path / "exp"


def _rows(path: Path, thread: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(
            conn.execute("SELECT count(*) FROM checkpoints WHERE thread_id = ?", (thread,)).fetchone()[0]
        )
    finally:
        conn.close()


def test_snapshot_copies_every_thread_under_a_uuid(experiment: Path) -> None:
    mapping = snapshot(experiment)
    ((studio_id, thread),) = mapping.items()
    assert studio_id == studio_thread_id(experiment, thread) and thread.startswith("alice|ipip-bfm-50|")
    copy = experiment / ".studio" / "checkpoints.sqlite"
    assert _rows(copy, studio_id) == _rows(experiment / "checkpoints.sqlite", thread) > 5
    assert snapshot(experiment) == mapping and _rows(copy, studio_id) == _rows(
        experiment / "checkpoints.sqlite", thread
    )


@pytest.mark.integration
@pytest.mark.skipif(not LANGGRAPH.exists() and shutil.which("langgraph") is None, reason="no langgraph-cli")
def test_studio_serves_the_runs_and_forks_them_without_touching_the_experiment(experiment: Path) -> None:
    from langgraph_sdk import get_client

    before = _rows(experiment / "checkpoints.sqlite", next(iter(snapshot(experiment).values())))
    proc, url = start(experiment, free_port())
    try:

        async def go() -> dict[str, object]:
            client = get_client(url=url)
            (thread,) = await client.threads.search(metadata={"character": "alice"})
            history = await client.threads.get_history(thread["thread_id"], limit=20)
            assert [h["next"] for h in history][:6] == [
                [], ["record"], ["score"], ["rate_dimensions"], ["select_assessment"], ["collect_transcript"]
            ]  # fmt: skip
            after_transcript = next(h for h in history if h["next"] == ["select_assessment"])
            values: dict[str, Any] = after_transcript["values"]  # type: ignore[assignment]
            edited = [dict(a, answer="I love big parties.") for a in values["transcript"]]
            # Studio's "edit and fork": update the state as collect_transcript, then run on.
            await client.threads.update_state(
                thread["thread_id"],
                {"transcript": edited},
                as_node="collect_transcript",
                checkpoint_id=after_transcript["checkpoint"]["checkpoint_id"],
            )
            out = await client.runs.wait(
                thread["thread_id"], "pipeline", input=None, context={"method": "er_all", "k": 0}
            )
            assert isinstance(out, dict)
            return out

        out = asyncio.run(go())
    finally:
        stop(proc)
    result = out["result"]
    assert isinstance(result, dict) and result["method"] == "er_all"
    assert {a["answer"] for a in result["transcript"]} == {"I love big parties."}
    # the experiment itself is as it was
    assert _rows(experiment / "checkpoints.sqlite", next(iter(snapshot(experiment).values()))) == before
