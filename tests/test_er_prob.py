"""Expert rating scored from probabilities (er_prob): an analysis, then one digit."""

from __future__ import annotations

import asyncio
import math
from typing import Any, ClassVar

import pytest
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatResult

from personascope.agents.assessors import Entry, Participant
from personascope.agents.fakes import FakeChatModel
from personascope.agents.rating import rate_dimension_probabilities
from personascope.graphs.context import Context
from personascope.graphs.pipeline import build_pipeline_graph
from personascope.methods import get_method
from personascope.scales import load_scale

from graph_fakes import RecordingRPA, ScriptedChatModel, logprob_metadata

SCALE = load_scale("ipip-bfm-50")
WHO = Participant(names=["Holmes"], experimenter="Watson")
ENTRIES = [Entry("E1", "Are you the life of the party?", "I avoid parties."), Entry("E2", "q", "a")]

#: The rating token's top alternatives: 0.9 of the mass on options 1-3.
RATING_PROBS = {"2": 0.6, "1": 0.2, "3": 0.1, "x": 0.1}
EXPECTED = (1 * 0.2 + 2 * 0.6 + 3 * 0.1) / 0.9  # 17/9
VARIANCE = (2 / 9) * (1 - 17 / 9) ** 2 + (6 / 9) * (2 - 17 / 9) ** 2 + (1 / 9) * (3 - 17 / 9) ** 2
ANALYSIS = "They avoid the 3 parties they mention and rarely talk."


class RatingModel(ScriptedChatModel):
    """First turn: an analysis (with a digit in it). Second turn (asked with logprobs):
    "2", with the top log-probabilities above, as an OpenAI-compatible server returns."""

    seen: ClassVar[list[tuple[list[BaseMessage], dict[str, Any]]]] = []
    with_logprobs: bool = True

    def reply(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> AIMessage:
        self.seen.append((messages, kwargs))
        if not kwargs.get("logprobs"):
            return AIMessage(ANALYSIS)
        meta = logprob_metadata("2", RATING_PROBS) if self.with_logprobs else {}
        return AIMessage("2", response_metadata=meta)


def test_probability_weighted_rating_by_hand() -> None:
    RatingModel.seen.clear()
    dim = SCALE.dimension_map["extraversion"]
    dist, rec = asyncio.run(rate_dimension_probabilities(RatingModel(), SCALE, dim, ENTRIES, WHO))
    assert dist is not None and rec.extra["source"] == "logprobs"
    # options only, renormalised over 0.9: 1: 2/9, 2: 6/9, 3: 1/9 -> E = (2 + 12 + 3) / 9 = 17/9
    assert dist.expected == pytest.approx(EXPECTED) and dist.variance == pytest.approx(VARIANCE)
    assert dist.coverage == pytest.approx(0.9)
    assert rec.output is not None and rec.output["analysis"] == ANALYSIS
    assert rec.output["score"] == pytest.approx(EXPECTED)
    (first, k1), (second, k2) = RatingModel.seen
    # the analysis turn asks for no probabilities; the rating turn continues the same conversation
    assert not k1.get("logprobs") and k2["logprobs"] is True and k2["max_tokens"] == 3
    assert second[: len(first)] == first and second[len(first)].content == ANALYSIS
    assert "one digit" in str(second[-1].content) and "5 = very" in str(second[-1].content)


def test_without_logprobs_the_sampled_digit_counts() -> None:
    dim = SCALE.dimensions[0]
    dist, rec = asyncio.run(
        rate_dimension_probabilities(RatingModel(with_logprobs=False), SCALE, dim, ENTRIES, WHO)
    )
    assert dist is not None and dist.expected == 2.0 and dist.confidence == 1.0
    assert rec.extra["source"] == "sampled"
    dist, rec = asyncio.run(
        rate_dimension_probabilities(FakeChatModel(default="No idea."), SCALE, dim, ENTRIES, WHO, retries=1)
    )
    assert dist is None and rec.error and "not an option" in rec.error and rec.attempts == 2


def test_names_are_hidden_from_the_rater() -> None:
    seen: list[str] = []

    class Spy(FakeChatModel):
        async def _agenerate(self, messages: list[BaseMessage], *a: Any, **k: Any) -> ChatResult:
            seen.extend(str(m.content) for m in messages)
            return await super()._agenerate(messages, *a, **k)

    entries = [Entry("E1", "Holmes, do you like parties?", "Holmes never goes, Watson.")]
    asyncio.run(rate_dimension_probabilities(Spy(default="2"), SCALE, SCALE.dimensions[0], entries, WHO))
    assert seen and not any("Holmes" in s or "Watson" in s for s in seen)


def test_er_prob_is_a_dimension_level_probability_method() -> None:
    m = get_method("er_prob")
    assert m.probabilities and m.node == "rate_dimensions" and not m.item_level and m.anonymize


def test_er_prob_runs_in_the_pipeline_with_distributions_and_score_sd() -> None:
    graph = build_pipeline_graph(rpa=RecordingRPA(), assessor=RatingModel()).compile()
    out = asyncio.run(
        graph.ainvoke(
            {"character": "alice", "scale": "ipip-bfm-50"}, context=Context(method="er_prob", er_batch_size=5)
        )
    )
    ratings = out["dimension_ratings"]
    assert len(ratings) == 10  # 5 dimensions x 2 batches of 5
    assert all(r["distribution"]["source"] == "logprobs" for r in ratings)
    ext = out["scores"]["extraversion"]
    # item mean 17/9 on 1-5, SUM of 10 items; SD of the mean of two batches: sqrt(2 var) / 2
    assert ext["score"] == pytest.approx(EXPECTED * 10)
    assert ext["score_sd"] == pytest.approx(math.sqrt(2 * VARIANCE) / 2 * 10)
    assert out["result"]["dimension_ratings"][0]["distribution"]["expected"] == pytest.approx(EXPECTED)
