"""The plain-model subject: a bare model answering items, no role-play (RealBehavior).

RealBehavior (Zhou et al., 2023, §3 and Fig. 7) tests foundation models themselves: the
item is put to the model with lettered options and a short answer budget (20 tokens),
with no persona. ``rpa:plain?model=<model spec>`` is that subject: each question goes to
the model as the only message, without a system prompt or memories. Use it with the
``mc`` method (multiple choice, options A–E) to redo RealBehavior's tables with a model
of your choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage

from personascope.agents.rpa import RolePlayingAgent, RPARequest

#: RealBehavior's answer budget.
PLAIN_MAX_TOKENS = 20


class PlainModelRPA:
    """A bare chat model as the subject: the question is the whole conversation."""

    def __init__(self, model: BaseChatModel) -> None:
        self.model = model

    async def areply(self, messages: Sequence[BaseMessage]) -> str:
        # Only the question itself: no persona, no name of an experimenter.
        reply = await self.model.ainvoke([HumanMessage(str(messages[-1].content))])
        return reply.content if isinstance(reply.content, str) else str(reply.text)


def build_plain_rpa(request: RPARequest) -> RolePlayingAgent:
    """``rpa:plain?model=<model spec>`` (default ``local``)."""
    params = replace(request.model_params, max_tokens=PLAIN_MAX_TOKENS)
    return PlainModelRPA(replace(request, model_params=params).chat_model())
