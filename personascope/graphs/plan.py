"""What an experiment will do, before it does it: runs, model calls, a token estimate.

``personascope run/experiment --dry-run`` prints this and calls nothing. Calls are
counted from the scale and the method exactly as the nodes batch them (ER_batch's
InCharacter split, OC batches, d-OC per dimension), and for a conversation interview from
its turns (rounds, small talk, follow-ups); runs already finished in the experiment
directory are not counted, since they would be skipped. Tokens are an upper estimate:
prompts at about four characters per token, every answer at its token limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from personascope.graphs.assessing import split_batches
from personascope.graphs.context import Context
from personascope.graphs.runner import ExperimentSpec, RunPlan, plan_runs
from personascope.methods import Method, get_method
from personascope.results import has_results, run_records
from personascope.scales import Scale, load_scale

#: Prompt overhead per call (instructions, role-play frame), in tokens: a round figure
#: measured on the shipped prompts (1.5-2.5k characters).
PROMPT_TOKENS = 500
CHARS_PER_TOKEN = 4


@dataclass(frozen=True)
class RunCost:
    """Calls and tokens of one run."""

    plan: RunPlan
    items: int
    rpa_calls: int
    interviewer_calls: int
    assessor_calls: int
    tokens: int

    @property
    def calls(self) -> int:
        return self.rpa_calls + self.interviewer_calls + self.assessor_calls


@dataclass
class PlanEstimate:
    """The runs still to do and what they will cost."""

    runs: list[RunCost] = field(default_factory=list)
    finished: int = 0

    @property
    def calls(self) -> int:
        return sum(r.calls for r in self.runs)

    @property
    def tokens(self) -> int:
        return sum(r.tokens for r in self.runs)

    @property
    def items(self) -> int:
        return sum(r.items for r in self.runs)


def assessor_calls(method: Method, ctx: Context, scale: Scale, item_ids: list[str]) -> int:
    """Assessor calls of ``method`` on these answered items, batched as the nodes batch."""
    per_dim = [sum(1 for i in item_ids if scale.item_map[i].dimension == d.id) for d in scale.dimensions]
    if method.assessor == "self_report_parse":
        return 0  # only answers that name no option go to option conversion
    if method.assessor == "dimension_rating":
        if method.batch_size == "all":
            return sum(1 for n in per_dim if n)
        size = max(2, int(method.batch_size or ctx.er_batch_size))
        return sum(len(split_batches(list(range(n)), size)) for n in per_dim if n)
    size_or_all = method.batch_size if method.batch_size is not None else ctx.oc_batch_size
    if size_or_all == "all":
        return sum(1 for n in per_dim if n) if method.dimension_specific else int(bool(item_ids))
    size = int(size_or_all)
    if method.dimension_specific:
        return sum(math.ceil(n / size) for n in per_dim)
    return math.ceil(len(item_ids) / size)


#: Tokens of an interviewer's turn (a question, a follow-up, small talk), a round figure.
TURN_TOKENS = 40


def run_cost(plan: RunPlan, base: Context) -> RunCost:
    # The run's axis values (interview, orders, ...) as the runner puts them in its context.
    variant = dict[str, Any](plan.variant)
    ctx = replace(base, method=plan.method, temperature=plan.temperature, trial=plan.trial, **variant)
    method = get_method(plan.method)
    scale = load_scale(plan.scale)
    items = scale.items[: ctx.item_limit]
    ids = [i.id for i in items]
    rewrites = sum(1 for i in items if not i.question(ctx.language)) if method.questions == "open" else 0
    n_assessor = assessor_calls(method, ctx, scale, ids)
    memories = ctx.max_chars // CHARS_PER_TOKEN if ctx.k else 0
    # Each assessor call sees its batch of answers (at most max_tokens each) and replies.
    answers_seen = len(ids) * ctx.max_tokens
    assessor_tokens = n_assessor * (PROMPT_TOKENS + ctx.assessor_max_tokens) + answers_seen
    if ctx.interview == "conversation":
        return _conversation_cost(plan, ctx, len(ids), rewrites, n_assessor, assessor_tokens)
    rpa_tokens = len(ids) * (PROMPT_TOKENS + memories + ctx.max_tokens)
    tokens = rpa_tokens + assessor_tokens + rewrites * (PROMPT_TOKENS + 60)
    return RunCost(plan, len(ids), len(ids), rewrites, n_assessor, tokens)


def _conversation_cost(
    plan: RunPlan, ctx: Context, items: int, rewrites: int, n_assessor: int, assessor_tokens: int
) -> RunCost:
    """A conversation interview (:mod:`personascope.graphs.conversation`): every item asked
    ``conversation_rounds`` times, a small-talk turn after every ``small_talk_every`` items,
    and, as an upper bound, one follow-up per item turn. The RPA sees the whole
    conversation at every turn, so its prompt grows by one exchange per turn; each round
    is assessed on its own; the interviewer writes the small talk and judges every item
    answer for a follow-up."""
    item_turns = items * ctx.conversation_rounds
    small_talk = (item_turns - 1) // ctx.small_talk_every if ctx.small_talk_every and item_turns else 0
    follow_ups = item_turns if ctx.follow_ups else 0
    turns = item_turns + small_talk + follow_ups
    exchange = TURN_TOKENS + ctx.max_tokens
    rpa_tokens = turns * (PROMPT_TOKENS + exchange) + exchange * turns * (turns - 1) // 2
    judged = item_turns if ctx.follow_ups else 0  # the follow-up prompt quotes the answer
    interviewer_calls = rewrites + small_talk + judged
    interviewer_tokens = rewrites * (PROMPT_TOKENS + 60) + (small_talk + judged) * (PROMPT_TOKENS + exchange)
    tokens = rpa_tokens + interviewer_tokens + assessor_tokens * ctx.conversation_rounds
    return RunCost(plan, items, turns, interviewer_calls, n_assessor * ctx.conversation_rounds, tokens)


def estimate_plan(spec: ExperimentSpec, exp_dir: str | Path | None = None) -> PlanEstimate:
    """The runs of ``spec`` not yet finished in ``exp_dir`` and their calls and tokens."""
    base = Context(interviewer_model=spec.interviewer_model, concurrency=spec.run_concurrency, **spec.context)
    done: set[str] = set()
    if spec.database_url:
        done = {r.run_id for r in run_records(spec.database_url, spec.name)}
    elif exp_dir is not None and has_results(exp_dir):
        done = {r.run_id for r in run_records(exp_dir)}
    estimate = PlanEstimate()
    for plan in plan_runs(spec):
        if plan.run_id in done:
            estimate.finished += 1
        else:
            estimate.runs.append(run_cost(plan, base))
    return estimate


__all__ = ["PlanEstimate", "RunCost", "assessor_calls", "estimate_plan", "run_cost"]
