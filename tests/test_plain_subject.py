"""RealBehavior's bare-model subject: rpa:plain answers lettered multiple-choice items."""

from __future__ import annotations

import asyncio
from pathlib import Path

from langchain_core.messages import BaseMessage

from personascope import results
from personascope.agents.fakes import FakeChatModel, register_fake
from personascope.graphs.runner import ExperimentSpec, run_experiment


def test_plain_model_answers_letters_without_any_persona(tmp_path: Path) -> None:
    seen: list[list[BaseMessage]] = []

    def reply(messages: list[BaseMessage]) -> str:
        seen.append(messages)
        return "(B). Moderately Accurate"

    register_fake("plain-subject", lambda: FakeChatModel(default=reply))
    spec = ExperimentSpec(
        characters=["sherlock-holmes"],
        scales=["ipip-bfm-50"],
        methods=["mc"],
        rpa_models=["rpa:plain?model=fake:plain-subject"],
        assessor_models=["fake:neutral"],
    )
    (outcome,) = asyncio.run(run_experiment(spec, tmp_path))
    assert outcome.status == "ran", outcome.error
    (rec,) = results.run_records(tmp_path)
    assert set(rec.item_values.values()) == {4.0}  # B = the second most accurate option
    assert rec.scores["extraversion"]["item_mean"] == 3.0  # 4 on + items, 2 on reversed − items
    assert all(len(m) == 1 for m in seen)  # the question alone: no system prompt, no persona
    prompt = str(seen[0][0].content)
    assert "(A). Very Accurate" in prompt and "(E). Very Inaccurate" in prompt and "Holmes" not in prompt
    assert rec.provenance.model_dump().get("rpa", {}).get("name") == "plain"
