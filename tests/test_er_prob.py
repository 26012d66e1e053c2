"""Expert rating scored from probabilities (er_prob): the rating token after "Score:"."""

from __future__ import annotations

import asyncio
import math
from typing import Any, ClassVar

import pytest
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from personascope.agents.assessors import Entry, Participant, logprob_mass_after
from personascope.agents.fakes import FakeChatModel
from personascope.agents.rating import SCORE_MARKER, rate_dimension_probabilities, score_line
from personascope.graphs.context import Context
from personascope.graphs.pipeline import build_pipeline_graph
from personascope.methods import get_method
from personascope.scales import load_scale

from graph_fakes import RecordingRPA

SCALE = load_scale("ipip-bfm-50")
WHO = Participant(names=["Holmes"], experimenter="Watson")
ENTRIES = [Entry("E1", "Are you the life of the party?", "I avoid parties."), Entry("E2", "q", "a")]


def _token(text: str, probs: dict[str, float] | None = None) -> dict[str, Any]:
    top = [{"token": t, "logprob": math.log(p)} for t, p in (probs or {text: 1.0}).items()]
    return {"token": text, "logprob": top[0]["logprob"], "top_logprobs": top}


#: "They mention 3 parties.\nScore: 2" tokenised, the rating token uncertain.
RATING_PROBS = {"2": 0.6, "1": 0.2, "3": 0.1, "x": 0.1}
REPLY_TOKENS = [
    _token("They"),
    _token(" mention"),
    _token(" ", {" ": 0.5, "3": 0.5}),  # a digit of the analysis: must not be read
    _token("3", {"3": 0.9, "4": 0.1}),
    _token(" parties.\n"),
    _token("Score"),
    _token(":"),
    _token(" "),
    _token("2", RATING_PROBS),
]


class RatingModel(BaseChatModel):
    """Replies with an analysis and "Score: 2", with the log-probabilities above."""

    seen_kwargs: ClassVar[list[dict[str, Any]]] = []
    with_logprobs: bool = True

    @property
    def _llm_type(self) -> str:
        return "rating-fake"

    def _result(self, **kwargs: Any) -> ChatResult:
        self.seen_kwargs.append(kwargs)
        text = "".join(t["token"] for t in REPLY_TOKENS)
        meta = {"logprobs": {"content": REPLY_TOKENS}} if self.with_logprobs else {}
        return ChatResult(generations=[ChatGeneration(message=AIMessage(text, response_metadata=meta))])

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._result(**kwargs)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._result(**kwargs)


def test_the_token_after_the_marker_is_read_never_a_digit_of_the_analysis() -> None:
    mass = logprob_mass_after({"logprobs": {"content": REPLY_TOKENS}}, SCORE_MARKER, [1, 2, 3, 4, 5])
    assert mass == pytest.approx({1.0: 0.2, 2.0: 0.6, 3.0: 0.1, 4.0: 0.0, 5.0: 0.0})
    assert logprob_mass_after({"logprobs": {"content": REPLY_TOKENS[:5]}}, SCORE_MARKER, [1, 2]) is None
    assert logprob_mass_after({}, SCORE_MARKER, [1, 2]) is None


def test_a_token_straddling_the_marker_counts_as_after_it() -> None:
    tokens = [_token("Score"), _token(": 4", {": 4": 0.7, "4": 0.3})]
    # ": 4" is not a digit token; nothing after it either: no distribution, the text is parsed.
    assert logprob_mass_after({"logprobs": {"content": tokens}}, SCORE_MARKER, [1, 2, 3, 4, 5]) is None
    tokens = [_token("Score:"), _token("4", {"4": 0.75, "5": 0.25})]
    mass = logprob_mass_after({"logprobs": {"content": tokens}}, SCORE_MARKER, [4, 5])
    assert mass == pytest.approx({4.0: 0.75, 5.0: 0.25})


def test_probability_weighted_rating_by_hand() -> None:
    dim = SCALE.dimensions[0]
    dist, rec = asyncio.run(rate_dimension_probabilities(RatingModel(), SCALE, dim, ENTRIES, WHO))
    assert dist is not None and rec.extra["source"] == "logprobs"
    # options only, renormalised over 0.9: 1: 2/9, 2: 6/9, 3: 1/9 -> E = (2 + 12 + 3) / 9 = 17/9
    assert dist.expected == pytest.approx(17 / 9)
    assert dist.variance == pytest.approx(
        (2 / 9) * (1 - 17 / 9) ** 2 + (6 / 9) * (2 - 17 / 9) ** 2 + (1 / 9) * (3 - 17 / 9) ** 2
    )
    assert dist.coverage == pytest.approx(0.9)
    assert rec.output is not None and rec.output["score"] == pytest.approx(17 / 9)
    kwargs = RatingModel.seen_kwargs[-1]
    assert kwargs["logprobs"] is True and kwargs["top_logprobs"] >= 5


def test_without_logprobs_the_score_line_counts() -> None:
    dim = SCALE.dimensions[0]
    dist, rec = asyncio.run(
        rate_dimension_probabilities(RatingModel(with_logprobs=False), SCALE, dim, ENTRIES, WHO)
    )
    assert dist is not None and dist.expected == 2.0 and dist.confidence == 1.0
    assert rec.extra["source"] == "sampled"
    dist, rec = asyncio.run(
        rate_dimension_probabilities(FakeChatModel(default="No idea."), SCALE, dim, ENTRIES, WHO, retries=1)
    )
    assert dist is None and rec.error and "Score" in rec.error and rec.attempts == 2


def test_score_line_takes_the_last_in_range() -> None:
    assert score_line("Score: 9 is too high. Score: 4", 1, 5) == 4.0
    assert score_line("**Score:** 3", 1, 5) == 3.0
    assert score_line("score = 2.5", 1, 5) == 2.5
    assert score_line("Score: 0", 1, 5) is None
    assert score_line("four", 1, 5) is None


def test_names_are_hidden_from_the_rater() -> None:
    seen: list[str] = []

    class Spy(FakeChatModel):
        async def _agenerate(self, messages: list[BaseMessage], *a: Any, **k: Any) -> ChatResult:
            seen.extend(str(m.content) for m in messages)
            return await super()._agenerate(messages, *a, **k)

    entries = [Entry("E1", "Holmes, do you like parties?", "Holmes never goes, Watson.")]
    asyncio.run(
        rate_dimension_probabilities(Spy(default="Score: 2"), SCALE, SCALE.dimensions[0], entries, WHO)
    )
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
    # item mean 17/9 on 1-5, SUM of 10 items
    assert ext["score"] == pytest.approx(170 / 9)
    var = (2 / 9) * (1 - 17 / 9) ** 2 + (6 / 9) * (2 - 17 / 9) ** 2 + (1 / 9) * (3 - 17 / 9) ** 2
    assert ext["score_sd"] == pytest.approx(math.sqrt(2 * var) / 2 * 10)
    assert out["result"]["dimension_ratings"][0]["distribution"]["expected"] == pytest.approx(17 / 9)
