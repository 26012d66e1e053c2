"""Re-assessment by fork (issue 18, item 2): new runs share the transcript, no RPA call."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver

from personascope import results
from personascope.errors import InputError
from personascope.graphs.context import Context
from personascope.graphs.pipeline import build_pipeline_graph
from personascope.graphs.reassess import reassess
from personascope.graphs.runner import ExperimentSpec, run_experiment
from personascope.graphs.state import RunInput

from graph_fakes import RecordingRPA, er_assessor, oc_assessor

SPEC = ExperimentSpec(
    characters=["sherlock-holmes", "jay-gatsby"],
    scales=["ipip-bfm-50"],
    methods=["er_batch"],
    rpa_models=["fake:echo"],
    assessor_models=["fake:neutral"],
    concurrency=2,
    context={"k": 0, "item_limit": 8},
)


def _experiment(tmp_path: Path) -> RecordingRPA:
    rpa = RecordingRPA()
    outcomes = asyncio.run(run_experiment(SPEC, tmp_path, rpa=lambda request: rpa, assessor=er_assessor()))
    assert [o.status for o in outcomes] == ["ran", "ran"]
    return rpa


def test_reassess_forks_each_run_with_another_method_and_records_it(tmp_path: Path) -> None:
    rpa = _experiment(tmp_path)
    asked = sum(rpa.asked.values())
    assessor = oc_assessor(choice=2)
    outcomes = asyncio.run(reassess(tmp_path, "oc", "fake:oc", assessor=assessor))
    assert [o.status for o in outcomes] == ["ran", "ran"]
    assert sum(rpa.asked.values()) == asked  # the RPA was not asked again
    assert assessor.calls == 2  # one OC batch of the 8 answers per run
    records = {r.run_id: r for r in results.run_records(tmp_path)}
    assert len(records) == 4
    for o in outcomes:
        new = records[o.plan.run_id]
        assert (new.method, new.assessor_model) == ("oc", "fake:oc")
        source = next(r for r in records.values() if r.character == new.character and r.method == "er_batch")
        assert new.transcript == source.transcript  # the same answers, shared
        assert new.provenance.parameters["transcript_from"].startswith(source.run_id + "@")
        assert set(new.item_values.values()) == {2.0}
    # again: the forks exist, nothing is called
    again = asyncio.run(reassess(tmp_path, "oc", "fake:oc", assessor=assessor))
    assert [o.status for o in again] == ["done", "done"] and assessor.calls == 2


def test_runs_filter_and_incompatible_methods(tmp_path: Path) -> None:
    _experiment(tmp_path)
    one = asyncio.run(reassess(tmp_path, "er_all", "fake:neutral", runs="*gatsby*"))
    assert [o.plan.character for o in one] == ["jay-gatsby"] and one[0].status == "ran"
    # an open-question transcript cannot be read as a self-report
    sr = asyncio.run(reassess(tmp_path, "sr", "fake:neutral", runs="*holmes*"))
    assert sr[0].status == "failed" and "self_report" in (sr[0].error or "")
    with pytest.raises(InputError, match="no run of this experiment matches"):
        asyncio.run(reassess(tmp_path, "oc", "fake:neutral", runs="*nobody*"))
    with pytest.raises(InputError, match=r"spec\.yaml"):
        asyncio.run(reassess(tmp_path / "nothing", "oc", "fake:neutral"))


def test_reassess_from_the_cli(tmp_path: Path) -> None:
    from personascope.cli import main

    _experiment(tmp_path)
    assert main(["reassess", str(tmp_path), "--assessor", "fake:neutral", "--method", "er_all"]) in (0, 1)
    methods = sorted(r.method for r in results.run_records(tmp_path))
    assert methods == ["er_all", "er_all", "er_batch", "er_batch"]
    assert yaml.safe_load((tmp_path / "spec.yaml").read_text())["methods"] == ["er_batch"]  # spec untouched


def test_update_state_as_collect_transcript_then_resume_with_another_method() -> None:
    # Studio's way: edit the transcript, update the state as collect_transcript, resume.
    graph = build_pipeline_graph().compile(checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": "t"}}
    ctx = Context(k=0, item_limit=4)
    asyncio.run(graph.ainvoke(RunInput(character="alice", scale="ipip-bfm-50"), config, context=ctx))

    async def fork() -> dict[str, object]:
        history = [s async for s in graph.aget_state_history(config)]
        snap = next(s for s in history if s.next == ("select_assessment",))
        edited = [dict(a, answer="I love parties.") for a in snap.values["transcript"][:2]]
        new = await graph.aupdate_state(snap.config, {"transcript": edited}, as_node="collect_transcript")
        out: dict[str, object] = await graph.ainvoke(None, new, context=Context(k=0, method="er_all"))
        return out

    out = asyncio.run(fork())
    result = out["result"]
    assert isinstance(result, dict) and result["method"] == "er_all"
    assert [a["answer"] for a in result["transcript"]] == ["I love parties."] * 2
