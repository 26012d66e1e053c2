"""The work behind the assessment nodes: batching, assessor calls, failures and flags.

Each function takes what a node has already resolved (the method object, the scale,
the assessor model) and returns typed records; the nodes in :mod:`.nodes` stay a few
lines each.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from typing import Literal, TypeVar

from langchain_core.callbacks import UsageMetadataCallbackHandler
from langchain_core.language_models import BaseChatModel

from personascope.agents.assessors import (
    CallRecord,
    Entry,
    Participant,
    convert_options,
    injection_signals,
)
from personascope.agents.judgement import judge_item
from personascope.agents.rating import rate_dimension, rate_dimension_probabilities
from personascope.graphs import variants
from personascope.graphs.context import Context
from personascope.memories.characters import Character
from personascope.methods import Method
from personascope.records import Answer, AssessorOutput, DimensionRating, Failure, Flag, ItemDistribution
from personascope.scales import Scale
from personascope.scales.schema import Dimension
from personascope.scales.scoring import OptionDistribution

T = TypeVar("T")

#: One expert-rating call: its score, its distribution (er_prob) and its record.
_Rated = tuple[float | None, ItemDistribution | None, CallRecord]


def participant(character: Character) -> Participant:
    """The names the assessor must not see."""
    return Participant(names=character.all_names, experimenter=character.experimenter)


def entries(transcript: Sequence[Answer], scale: Scale) -> list[Entry]:
    """The answered items of a transcript, as the assessor sees them."""
    items = scale.item_map
    return [
        Entry(a["item_id"], a["question"], a["answer"] or "", items[a["item_id"]].text)
        for a in transcript
        if a.get("answer") is not None and a["item_id"] in items
    ]


def flags(transcript: Sequence[Answer]) -> list[Flag]:
    """Answers that carry prompt-injection signals."""
    return [
        Flag(item_id=a["item_id"], signals=sig)
        for a in transcript
        if a.get("answer") and (sig := injection_signals(a["answer"] or ""))
    ]


def injection_failures(flagged: Sequence[Flag], scale: Scale, score_flagged: bool = False) -> list[Failure]:
    """One ``injection`` failure per flagged answer left out of assessment (none when
    ``score_flagged``)."""
    items = scale.item_map
    return [
        Failure(
            stage="answer",
            item_id=f["item_id"],
            dimension=items[f["item_id"]].dimension,
            kind="injection",
            reason=f"flagged as an attempt to steer the assessor ({len(f['signals'])} signal(s)); not scored",
        )
        for f in ([] if score_flagged else flagged)
        if f["item_id"] in items
    ]


def scorable(
    transcript: Sequence[Answer], scale: Scale, score_flagged: bool = False
) -> tuple[list[Entry], list[Failure]]:
    """The entries the assessor may score, and one ``injection`` failure per flagged answer
    left out (all are scored when ``score_flagged``)."""
    failures = injection_failures(flags(transcript), scale, score_flagged)
    left_out = {f["item_id"] for f in failures}
    return [e for e in entries(transcript, scale) if e.item_id not in left_out], failures


def answer_failures(transcript: Sequence[Answer]) -> list[Failure]:
    """One failure per item the RPA did not answer."""
    return [
        Failure(
            stage="answer",
            item_id=a["item_id"],
            dimension=a["dimension"],
            kind=a.get("error_kind"),
            reason=a.get("error"),
        )
        for a in transcript
        if a.get("answer") is None
    ]


def call_output(rec: CallRecord) -> AssessorOutput:
    """An assessor call as stored in the run record."""
    out: AssessorOutput = {
        "kind": rec.kind,
        "ids": rec.ids,
        "output": rec.output,
        "error": rec.error,
        "attempts": rec.attempts,
        "prompt_chars": rec.prompt_chars,
        "extra": rec.extra,
    }
    return out


def usage_counts(handler: UsageMetadataCallbackHandler) -> dict[str, dict[str, int]]:
    """Token counts per model (input, output, total) from a usage handler."""
    counts: dict[str, dict[str, int]] = {}
    for model, u in handler.usage_metadata.items():
        counts[model] = {"input_tokens": u["input_tokens"], "output_tokens": u["output_tokens"]}
        counts[model]["total_tokens"] = u["total_tokens"]
    return counts


def _failure(item_id: str, dimension: str, kind: str, reason: str | None) -> Failure:
    return Failure(stage="assessment", item_id=item_id, dimension=dimension, kind=kind, reason=reason)


def split_batches(items: Sequence[T], n: int = 4) -> list[list[T]]:
    """InCharacter's ER_batch split: chunks of ``n``, the last topped up to ``n − 1`` by
    borrowing from earlier chunks; fewer than ``2(n − 1)`` entries stay one batch.

    >>> [len(b) for b in split_batches(list(range(10)))]
    [3, 4, 3]
    >>> [len(b) for b in split_batches(list(range(5)))]
    [5]
    """
    if len(items) < 2 * (n - 1):
        return [list(items)]
    result = [list(items[i : i + n]) for i in range(0, len(items), n)]
    for i in range(n - 1 - len(result[-1])):
        result[-1].append(result[i].pop())
    return result


def _chunks(items: Sequence[T], size: int | None) -> list[list[T]]:
    if size is None:
        return [list(items)]
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def item_distribution(dist: OptionDistribution, source: Literal["logprobs", "sampled"]) -> ItemDistribution:
    """An option distribution as the run record stores it."""
    return ItemDistribution(
        values=dist.values,
        probabilities=dist.probabilities,
        expected=dist.expected,
        variance=dist.variance,
        entropy=dist.entropy,
        confidence=dist.confidence,
        coverage=dist.coverage,
        source=source,
    )


def recorded_distribution(dist: OptionDistribution, rec: CallRecord) -> ItemDistribution:
    """:func:`item_distribution` of a one-digit reply, with the source its call recorded
    (:func:`~personascope.agents.judgement.digit_distribution`: log-probabilities or the
    sampled digit)."""
    return item_distribution(dist, "logprobs" if rec.extra.get("source") == "logprobs" else "sampled")


async def judge_entries(
    model: BaseChatModel,
    method: Method,
    ctx: Context,
    scale: Scale,
    character: Character,
    batch_entries: list[Entry],
) -> tuple[dict[str, float | None], dict[str, ItemDistribution], list[AssessorOutput], list[Failure]]:
    """Item judgement, one call per answer: values (probability-weighted where the
    endpoint gives log-probabilities), their distributions, outputs and failures."""
    items = scale.item_map
    sem = asyncio.Semaphore(max(1, ctx.concurrency))
    anonymize_names = method.anonymize if ctx.anonymize is None else ctx.anonymize

    async def run(entry: Entry) -> tuple[OptionDistribution | None, CallRecord]:
        async with sem:
            return await judge_item(
                model,
                scale,
                entry,
                participant(character),
                anonymize_names=anonymize_names,
                retries=ctx.parse_retries,
                option_order=variants.option_values(ctx, scale),
            )

    results = await asyncio.gather(*(run(e) for e in batch_entries))
    values: dict[str, float | None] = {}
    distributions: dict[str, ItemDistribution] = {}
    outputs: list[AssessorOutput] = []
    failures: list[Failure] = []
    for entry, (dist, rec) in zip(batch_entries, results, strict=True):
        outputs.append(call_output(rec))
        if dist is None:
            failures.append(_failure(entry.item_id, items[entry.item_id].dimension, "unparsed", rec.error))
            continue
        values[entry.item_id] = dist.expected
        distributions[entry.item_id] = recorded_distribution(dist, rec)
    return values, distributions, outputs, failures


async def convert_entries(
    model: BaseChatModel,
    method: Method,
    ctx: Context,
    scale: Scale,
    character: Character,
    batch_entries: list[Entry],
    dimension_specific: bool | None = None,
) -> tuple[dict[str, float | None], list[AssessorOutput], list[Failure]]:
    """Option conversion (OC, or d-OC for a dimension-specific method) in batches.

    Returns item values in agreement units (a d-OC pole choice of a reverse-keyed item
    is mirrored, ``min + max − choice``), the assessor outputs and the failures.
    """
    low, high = scale.range
    items = scale.item_map
    size = ctx.oc_batch_size if method.batch_size is None else method.batch_size
    size_or_all = None if size == "all" else int(size)
    specific = method.dimension_specific if dimension_specific is None else dimension_specific
    batches: list[tuple[Dimension | None, list[Entry]]] = []
    if specific:
        for dim in scale.dimensions:
            of_dim = [e for e in batch_entries if items[e.item_id].dimension == dim.id]
            batches += [(dim, b) for b in _chunks(of_dim, size_or_all) if b]
    else:
        batches += [(None, b) for b in _chunks(batch_entries, size_or_all) if b]
    sem = asyncio.Semaphore(max(1, ctx.concurrency))

    async def run(dim: Dimension | None, batch: list[Entry]) -> tuple[dict[str, int | None], CallRecord]:
        async with sem:
            return await convert_options(
                model,
                scale,
                batch,
                participant(character),
                dimension=dim,
                anonymize_names=method.anonymize if ctx.anonymize is None else ctx.anonymize,
                retries=ctx.parse_retries,
                option_order=variants.option_values(ctx, scale),
            )

    results = await asyncio.gather(*(run(d, b) for d, b in batches))
    values: dict[str, float | None] = {}
    outputs: list[AssessorOutput] = []
    failures: list[Failure] = []
    for (pole, batch), (choices, rec) in zip(batches, results, strict=True):
        outputs.append(call_output(rec))
        for e in batch:
            item = items[e.item_id]
            if e.item_id not in choices:
                failures.append(
                    _failure(e.item_id, item.dimension, "unparsed", rec.error or "no choice returned")
                )
                continue
            choice = choices[e.item_id]
            if choice is None:
                reason = "assessor chose 'x' (refusal or no evidence)"
                failures.append(_failure(e.item_id, item.dimension, "no_evidence", reason))
                values[e.item_id] = None
            elif pole is not None and item.key == "-":
                # d-OC rates the pole; a reverse-keyed item's agreement is the mirror image.
                values[e.item_id] = float(low + high - choice)
            else:
                values[e.item_id] = float(choice)
    return values, outputs, failures


async def rate_entries(
    model: BaseChatModel,
    method: Method,
    ctx: Context,
    scale: Scale,
    character: Character,
    answered: list[Entry],
) -> tuple[list[DimensionRating], list[Failure]]:
    """Expert rating (ER_all / ER_batch; er_prob from the rating token's probabilities) of every
    dimension; a failed call fails its items."""
    items = scale.item_map
    jobs: list[tuple[Dimension, list[Entry]]] = []
    for dim in scale.dimensions:
        of_dim = [e for e in answered if items[e.item_id].dimension == dim.id]
        if ctx.trial > 0:  # as InCharacter: later trials see another batching
            random.Random(ctx.trial).shuffle(of_dim)
        if not of_dim:
            continue
        if method.batch_size == "all":
            batches = [of_dim]
        else:
            size = ctx.er_batch_size if method.batch_size is None else method.batch_size
            batches = split_batches(of_dim, max(2, size))
        jobs += [(dim, b) for b in batches]
    sem = asyncio.Semaphore(max(1, ctx.concurrency))
    anonymize_names = method.anonymize if ctx.anonymize is None else ctx.anonymize

    async def run(dim: Dimension, batch: list[Entry]) -> _Rated:
        args = (model, scale, dim, batch, participant(character))
        async with sem:
            if not method.probabilities:
                score, rec = await rate_dimension(
                    *args, anonymize_names=anonymize_names, retries=ctx.parse_retries
                )
                return score, None, rec
            dist, rec = await rate_dimension_probabilities(
                *args, anonymize_names=anonymize_names, retries=ctx.parse_retries
            )
            if dist is None:
                return None, None, rec
            return dist.expected, recorded_distribution(dist, rec), rec

    results = await asyncio.gather(*(run(d, b) for d, b in jobs))
    ratings: list[DimensionRating] = []
    failures: list[Failure] = []
    for (dim, batch), (score, dist, rec) in zip(jobs, results, strict=True):
        rating = DimensionRating(
            dimension=dim.id,
            item_ids=[e.item_id for e in batch],
            score=score,
            analysis=(rec.output or {}).get("analysis"),
            error=rec.error,
            attempts=rec.attempts,
        )
        if dist is not None:
            rating["distribution"] = dist
        ratings.append(rating)
        if score is None:
            failures += [_failure(e.item_id, dim.id, "unparsed", rec.error) for e in batch]
    return ratings, failures
