"""Occasion-based behaviour test with fake models and the shipped embeddings (marked)."""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest
from langchain_core.messages import BaseMessage
from scipy import stats

from personascope.agents.fakes import FakeChatModel
from personascope.evaluation.behavior import behavioral_consistency_table, criterion_scores
from personascope.graphs.behavior import BehaviorContext, Subject, build_behavior, run_behavior_test

pytestmark = pytest.mark.integration

OCCASIONS = [
    "A colleague's birthday party after work",
    "A colleague's birthday party after work!",
    "Waiting in a long queue at the post office",
    "A neighbour invites you to a barbecue",
    "A free evening with nothing planned",
    "Meeting new people at a conference",
    "A group project kick-off meeting",
]
OUTGOING = [
    "I walk straight up to strangers and start chatting with a big smile.",
    "I gather everyone around and get the conversation going, laughing loudly.",
    "I introduce myself to the whole group and suggest we all go out together.",
    "I crack jokes with the people next to me and make three new friends.",
]
WITHDRAWN = [
    "I stay quietly at the edge of the room and leave early without talking to anyone.",
    "I keep to myself, read a book on my phone and avoid conversation.",
    "I politely decline and spend the evening alone at home.",
    "I say as little as possible and wait for it to be over.",
]


def _generator() -> FakeChatModel:
    def reply(messages: list[BaseMessage]) -> str:
        text = str(messages[-1].content)
        if text.startswith("List"):
            return "\n".join(f"{i + 1}. {o}" for i, o in enumerate(OCCASIONS))
        pool = WITHDRAWN if " is not " in text else OUTGOING
        occasion = re.search(r"Occasion: (.*)", text)
        suffix = f" ({occasion.group(1)[:20]})" if occasion else ""
        return "\n".join(f"- {b}{suffix}" for b in pool)

    return FakeChatModel(default=reply)


class FixedRPA:
    """Outgoing on the first ``share`` of the kept occasions, withdrawn on the rest."""

    def __init__(self, outgoing_share: float) -> None:
        self.share = outgoing_share

    async def areply(self, messages: Sequence[BaseMessage]) -> str:
        text = str(messages[-1].content)
        kept = [o for o in OCCASIONS if o != "A colleague's birthday party after work!"][:5]
        index = next(i for i, o in enumerate(kept) if o in text)
        return OUTGOING[index % 4] if index < self.share * len(kept) else WITHDRAWN[index % 4]


def test_build_is_reused_and_accurate(tmp_path: Path) -> None:
    ctx = BehaviorContext(behavior_dir=str(tmp_path / "behavior"), n_occasions=7, keep=5, n_descriptions=4)
    gen = _generator()
    metrics = asyncio.run(build_behavior("ipip-bfm-50", ctx, model=gen))
    assert set(metrics) == {
        "extraversion",
        "agreeableness",
        "conscientiousness",
        "emotional_stability",
        "intellect",
    }
    assert all(m["accuracy"] >= 0.9 for m in metrics.values())
    import yaml

    occasions = yaml.safe_load((tmp_path / "behavior/occasions.yaml").read_text())["extraversion"]
    assert len(occasions) == 5 and sum("birthday party" in o for o in occasions) == 1  # near-duplicate
    assert "A group project kick-off meeting" not in occasions  # keep = 5
    rows = [json.loads(x) for x in (tmp_path / "behavior/dataset.jsonl").read_text().splitlines()]
    assert len(rows) == 5 * 5 * 2 * 4 and {r["label"] for r in rows} == {0, 1}
    calls = gen.calls
    assert calls == 5 + 5 * 5 * 2
    asyncio.run(build_behavior("ipip-bfm-50", ctx, model=gen))
    assert gen.calls == calls, "re-running the build makes no model call"

    subjects = [
        Subject("extravert|m|0|0", FixedRPA(1.0)),
        Subject("introvert|m|0|0", FixedRPA(0.0)),
        Subject("ambivert|m|0|0", FixedRPA(0.6)),
    ]
    labels, crs = asyncio.run(run_behavior_test(subjects, ctx))
    assert len(labels) == 3 * 5 * 5 and labels["label"].notna().all()
    ext = crs[crs["dimension"] == "extraversion"].set_index("subject")["crs"]
    assert ext["extravert|m|0|0"] == 1.0 and ext["introvert|m|0|0"] == 0.0
    assert ext["ambivert|m|0|0"] == 0.6  # 3 of 5 occasions outgoing, all classified right
    assert (crs["n_behaviours"] == 5).all()
    scale = pd.DataFrame(
        {
            "subject": ["extravert|m|0|0", "introvert|m|0|0", "ambivert|m|0|0"],
            "dimension": "extraversion",
            "score": [45.0, 15.0, 30.0],
        }
    )
    bc = behavioral_consistency_table(scale, crs[crs["dimension"] == "extraversion"])
    expected = stats.pearsonr(
        [45.0, 15.0, 30.0], [ext["extravert|m|0|0"], ext["introvert|m|0|0"], ext["ambivert|m|0|0"]]
    )[0]
    assert math.isclose(bc.loc[0, "BC"], expected)


def test_crs_and_bc_by_hand() -> None:
    labels = pd.DataFrame(
        {
            "subject": ["a"] * 4 + ["b"] * 4 + ["c"] * 4,
            "dimension": "E",
            "occasion": list("wxyz") * 3,
            "label": [1, 1, 1, 0, 0, 0, 1, 0, 1, 1, 0, 0],
        }
    )
    crs = criterion_scores(labels).set_index("subject")["crs"]
    assert crs.to_dict() == {"a": 0.75, "b": 0.25, "c": 0.5}
    scale = pd.DataFrame({"subject": ["a", "b", "c"], "dimension": "E", "score": [4.0, 2.0, 3.0]})
    bc = behavioral_consistency_table(scale, criterion_scores(labels))
    # scores 4, 2, 3 and CrS .75, .25, .5 lie on one line: r = 1
    assert math.isclose(bc.loc[0, "BC"], 1.0)
