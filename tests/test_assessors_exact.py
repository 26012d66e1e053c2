"""Assessors as InCharacter defines them: ER outputs, 16Personalities percentages, anonymisation."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage

from personascope.agents.assessors import Entry, Participant, anonymize
from personascope.agents.fakes import FakeChatModel
from personascope.agents.rating import percent_schema, rate_dimension
from personascope.graphs.context import Context
from personascope.graphs.pipeline import build_pipeline_graph
from personascope.memories.characters import load_character
from personascope.scales import load_scale, load_scales_from_file

from graph_fakes import RecordingRPA, er_assessor, oc_assessor

HOLMES = "sherlock-holmes"


def _run(rpa: Any, assessor: Any, scale: str = "ipip-bfm-50", **ctx: Any) -> dict[str, Any]:
    graph = build_pipeline_graph(rpa=rpa, assessor=assessor).compile()
    return asyncio.run(graph.ainvoke({"character": HOLMES, "scale": scale}, context=Context(**ctx)))


# -- item 10: anonymisation -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "names", "experimenter", "expected"),
    [
        ("I'm fine, M.", ["Holmes"], "M", "I'm fine, the experimenter."),  # a contraction is not a name
        ("Mmm, Mr. M said", ["Holmes"], "M", "Mmm, Mr. the experimenter said"),  # never inside a word
        (
            "Sherlock Holmes and Holmes",
            ["Holmes", "Sherlock Holmes"],
            None,
            "the participant and the participant",
        ),
        ("I will see Will", ["Will"], None, "I will see the participant"),  # names keep their case
        ("Holmesian Holmes's", ["Holmes"], None, "Holmesian the participant's"),
    ],
)
def test_anonymize_replaces_whole_names_only(
    text: str, names: list[str], experimenter: str | None, expected: str
) -> None:
    assert anonymize(text, names, experimenter) == expected


def test_which_methods_anonymise_follows_incharacter() -> None:
    holmes = load_character(HOLMES)
    rpa = RecordingRPA(answer="Holmes thinks so. Watson agrees.")

    def seen(assessor: FakeChatModel) -> str:
        return " ".join(assessor.prompts)

    oc = oc_assessor(4)
    _run(rpa, oc, method="oc")
    assert "Holmes" in seen(oc)  # InCharacter's interview_convert: not anonymous
    d_oc = oc_assessor(4)
    _run(rpa, d_oc, method="d_oc")
    assert not any(n in seen(d_oc) for n in holmes.all_names)
    forced = oc_assessor(4)
    _run(rpa, forced, method="oc", anonymize=True)
    assert not any(n in seen(forced) for n in holmes.all_names)


# -- item 6: expert-rating outputs ----------------------------------------------------


def test_expert_rating_accepts_any_number_in_range() -> None:
    out = _run(RecordingRPA(), er_assessor(lambda msgs: 3.5), method="er_batch")
    assert {r["score"] for r in out["dimension_ratings"]} == {3.5}
    assert out["scores"]["extraversion"]["item_mean"] == 3.5


def test_expert_rating_out_of_range_is_a_failure_not_a_clip() -> None:
    out = _run(RecordingRPA(), er_assessor(lambda msgs: 7), method="er_batch", parse_retries=0)
    assert all(r["score"] is None for r in out["dimension_ratings"])
    assert all(s["score"] is None for s in out["scores"].values())


def _sixteen_p(reference: Path) -> Any:
    (scale,) = load_scales_from_file(reference / "incharacter" / "16Personalities.json")
    return scale


def test_sixteen_personalities_expert_rating_is_two_percentages(reference: Path) -> None:
    scale = _sixteen_p(reference)
    dim = scale.dimensions[0]
    first, second = dim.id.split("/")
    replies: list[str] = []

    def reply(messages: list[BaseMessage]) -> str:
        replies.append(str(messages[0].content))
        return json.dumps({"analysis": "outgoing", "result": {first: 70, second: 30}})

    entries = [Entry("1", "Do you like parties?", "I love parties.")]
    who = Participant(names=["Holmes"], experimenter="Watson")
    score, rec = asyncio.run(rate_dimension(FakeChatModel(default=reply), scale, dim, entries, who))
    low, high = scale.range
    assert score == pytest.approx(low + 0.7 * (high - low))  # the percent scoring gives back 70
    assert rec.output == {"analysis": "outgoing", "result": {first: 70.0, second: 30.0}}
    assert "sum to 100" in replies[0]


def test_a_midpoint_answer_is_fifty_percent_not_a_type(reference: Path) -> None:
    """A 50/50 split scores 50 (X), where a 1-7 rating of 4 converted linearly used to."""
    from personascope.scales.scoring import Rating, score_ratings

    scale = _sixteen_p(reference)
    dim = scale.dimensions[0]
    low, high = scale.range
    rating = Rating(dimension=dim.id, item_ids=[], score=low + 0.5 * (high - low))
    d = score_ratings(scale, [rating]).dimensions[dim.id]
    assert d.score == pytest.approx(50.0) and d.type == "X"


def test_percentages_must_sum_to_100() -> None:
    schema = percent_schema("E", "I")
    assert schema.model_validate({"analysis": "", "result": {"E": 30, "I": 70}})
    with pytest.raises(ValueError, match="sum to 100"):
        schema.model_validate({"analysis": "", "result": {"E": 30, "I": 30}})


def test_bfm_dimension_still_uses_one_score() -> None:
    scale = load_scale("ipip-bfm-50")
    replies: list[str] = []

    def reply(messages: list[BaseMessage]) -> str:
        replies.append(str(messages[0].content))
        return json.dumps({"analysis": "x", "score": 2.25})

    who = Participant(names=["Holmes"], experimenter="Watson")
    score, _ = asyncio.run(
        rate_dimension(FakeChatModel(default=reply), scale, scale.dimensions[0], [Entry("E1", "q", "a")], who)
    )
    assert score == 2.25 and "any number from 1 to 5" in replies[0]
