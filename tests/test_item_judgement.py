"""Item judgement: one answer per call, scored from the option tokens' probabilities."""

from __future__ import annotations

import asyncio
import math
from typing import Any, ClassVar

import pytest
from langchain_core.messages import AIMessage, BaseMessage

from personascope.agents.assessors import Entry, Participant
from personascope.agents.fakes import FakeChatModel
from personascope.agents.judgement import judge_item, logprob_mass
from personascope.graphs.context import Context
from personascope.graphs.pipeline import build_pipeline_graph
from personascope.scales import load_scale

from graph_fakes import RecordingRPA, ScriptedChatModel, logprob_metadata


class LogprobModel(ScriptedChatModel):
    """Replies '4' with fixed top log-probabilities, as an OpenAI-compatible server does."""

    probs: ClassVar[dict[str, float]] = {"4": 0.5, "5": 0.25, "3": 0.15, " ": 0.1}
    seen_kwargs: ClassVar[list[dict[str, Any]]] = []

    def reply(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> AIMessage:
        self.seen_kwargs.append(kwargs)
        return AIMessage("4", response_metadata=logprob_metadata("4", self.probs))


SCALE = load_scale("ipip-bfm-50")
WHO = Participant(names=["Holmes"], experimenter="Watson")
ENTRY = Entry("E1", "Are you the life of the party?", "Rarely.", "Am the life of the party.")


def test_logprob_mass_reads_the_first_answer_token() -> None:
    meta = {
        "logprobs": {
            "content": [
                {"token": " ", "logprob": -0.1, "top_logprobs": []},
                {
                    "token": "2",
                    "logprob": math.log(0.7),
                    "top_logprobs": [
                        {"token": "2", "logprob": math.log(0.7)},
                        {"token": " 1", "logprob": math.log(0.2)},
                        {"token": "x", "logprob": math.log(0.1)},
                    ],
                },
            ]
        }
    }
    mass = logprob_mass(meta, [1, 2, 3, 4, 5])
    assert mass is not None
    assert mass[2.0] == pytest.approx(0.7) and mass[1.0] == pytest.approx(0.2) and mass[5.0] == 0.0
    assert logprob_mass({}, [1, 2]) is None


def test_probability_weighted_value_and_confidence() -> None:
    dist, rec = asyncio.run(judge_item(LogprobModel(), SCALE, ENTRY, WHO))
    assert dist is not None
    # options only, renormalised: 3: .15/.9, 4: .5/.9, 5: .25/.9
    assert dist.expected == pytest.approx((3 * 0.15 + 4 * 0.5 + 5 * 0.25) / 0.9)
    assert dist.coverage == pytest.approx(0.9) and 0 < dist.confidence < 1
    assert rec.extra["source"] == "logprobs"
    assert (
        LogprobModel.seen_kwargs[-1]["logprobs"] is True and LogprobModel.seen_kwargs[-1]["max_tokens"] == 3
    )


def test_without_logprobs_the_sampled_digit_counts() -> None:
    dist, rec = asyncio.run(judge_item(FakeChatModel(default="2"), SCALE, ENTRY, WHO))
    assert dist is not None and dist.expected == 2.0 and dist.confidence == 1.0
    assert rec.extra["source"] == "sampled"
    dist, rec = asyncio.run(judge_item(FakeChatModel(default="seven"), SCALE, ENTRY, WHO, retries=1))
    assert dist is None and rec.error and "not an option" in rec.error


def test_oc_item_runs_in_the_pipeline_and_records_distributions() -> None:
    graph = build_pipeline_graph(rpa=RecordingRPA(), assessor=LogprobModel()).compile()
    out = asyncio.run(
        graph.ainvoke({"character": "alice", "scale": "ipip-bfm-50"}, context=Context(method="oc_item"))
    )
    assert len(out["item_values"]) == 50 and len(out["item_distributions"]) == 50
    value = (3 * 0.15 + 4 * 0.5 + 5 * 0.25) / 0.9
    assert all(v == pytest.approx(value) for v in out["item_values"].values())
    ext = out["scores"]["extraversion"]
    assert ext["score"] is not None and out["result"]["item_distributions"]["E1"]["source"] == "logprobs"


def test_sr_prob_reads_the_rpas_own_option_probabilities() -> None:
    from personascope.agents.character_agent import CharacterAgent
    from personascope.memories.characters import load_character

    def factory(request: Any) -> CharacterAgent:
        return CharacterAgent(load_character("alice"), LogprobModel(), None)

    graph = build_pipeline_graph(rpa=factory, assessor=FakeChatModel(default="unused")).compile()
    out = asyncio.run(
        graph.ainvoke({"character": "alice", "scale": "ipip-bfm-50"}, context=Context(method="sr_prob"))
    )
    value = (3 * 0.15 + 4 * 0.5 + 5 * 0.25) / 0.9
    assert all(a["distribution"]["source"] == "logprobs" for a in out["transcript"])
    assert all(v == pytest.approx(value) for v in out["item_values"].values())
    assert out["scores"]["extraversion"]["score_sd"] is not None


def test_plain_sr_ignores_probabilities() -> None:
    from personascope.agents.character_agent import CharacterAgent
    from personascope.memories.characters import load_character

    def factory(request: Any) -> CharacterAgent:
        return CharacterAgent(load_character("alice"), LogprobModel(), None)

    graph = build_pipeline_graph(rpa=factory, assessor=FakeChatModel(default="unused")).compile()
    out = asyncio.run(
        graph.ainvoke({"character": "alice", "scale": "ipip-bfm-50"}, context=Context(method="sr"))
    )
    assert set(out["item_values"].values()) == {4.0}  # the sampled digit
    assert not any("distribution" in a for a in out["transcript"])


def test_a_token_that_is_not_a_choice_is_not_read_as_one() -> None:
    """A reply that starts "The statement ..." puts a sliver of mass on digits: no distribution."""
    meta = {
        "logprobs": {
            "content": [
                {
                    "token": "The",
                    "logprob": math.log(0.9),
                    "top_logprobs": [
                        {"token": "The", "logprob": math.log(0.9)},
                        {"token": "4", "logprob": math.log(0.01)},
                    ],
                },
                {"token": " statement", "logprob": math.log(0.9), "top_logprobs": []},
            ]
        }
    }
    assert logprob_mass(meta, [1, 2, 3, 4, 5]) is None


def test_options_beyond_one_digit_are_read_from_the_text_not_the_first_token() -> None:
    """On a 0-10 scale a "10" begins with the token "1": its probabilities would read as
    option 1, so the sampled reply counts instead (in every caller of logprob_mass)."""
    from personascope.agents.judgement import digit_distribution

    class TenModel(ScriptedChatModel):
        def reply(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> AIMessage:
            return AIMessage("10", response_metadata=logprob_metadata("1", {"1": 0.9, "2": 0.1}))

    meta = logprob_metadata("1", {"1": 0.9, "2": 0.1})
    assert logprob_mass(meta, list(range(0, 11))) is None
    assert logprob_mass(meta, [-2, -1, 0, 1, 2]) is None
    assert logprob_mass(meta, [1, 2, 3]) == pytest.approx({1.0: 0.9, 2.0: 0.1, 3.0: 0.0})
    got, error = asyncio.run(digit_distribution(TenModel(), [], list(range(0, 11)), retries=0))
    assert error is None and got is not None and got.source == "sampled"
    assert got.distribution.expected == 10.0
