"""Assessors: turn interview answers into option choices (OC, d-OC) and item judgements
(expert rating, ER: :mod:`personascope.agents.rating`).

Answers are untrusted text. They are anonymised (the character's names become
"the participant", the experimenter "the experimenter"), escaped, delimited with
``<answer>`` tags, and announced as data; scores come only from the assessor's
structured output, never from the answer text. Answers that look like injection
attempts are flagged.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, create_model

from personascope.agents.prompts import (
    DATA_NOTICE,
    DIMENSION_OPTION_CONVERSION_PROMPT,
    OPTION_CONVERSION_PROMPT,
    RETRY_NOTE,
)
from personascope.scales.schema import Dimension, Scale

PARTICIPANT = "the participant"
EXPERIMENTER = "the experimenter"

_INJECTION = [
    re.compile(
        r"ignore\s+(all\s+|any\s+|the\s+|your\s+)?(previous|prior|above|earlier|other)\s+instructions", re.I
    ),
    re.compile(r"</?\s*answer\s*>", re.I),
    re.compile(r"\"\s*(score|choice|choices|analysis|result)\s*\"\s*:", re.I),
    re.compile(r"\b(system|assistant|developer)\s*(prompt|message|note)\s*:", re.I),
    re.compile(
        r"\b(rate|score|mark|grade)\s+(me|this|the participant|it|him|her|them)\s+(a|as|an|with)?\s*-?\d",
        re.I,
    ),
    # plain-language demands for a particular score
    re.compile(
        r"\b(must|should|have to|need to|shall|are to)\s+"
        r"(output|give|assign|return|award|rate|score|choose|pick)\b[^.!?\n]{0,60}\b(highest|maximum|max|lowest|minimum|min|top|perfect|full|best|worst)\b",
        re.I,
    ),
    re.compile(
        r"\b(highest|maximum|lowest|minimum|perfect|top)\s+(possible\s+)?(score|rating|mark|grade)\b", re.I
    ),
    # a forged sample header: the assessor's data block starts each answer with one
    re.compile(r"(?im)^\s*sample\s+\S+\s*:"),
    re.compile(
        r"\b(assessor|evaluator|grader|rater|psychologist)\b[^.!?\n]{0,40}\b(must|should|instructed|note)\b",
        re.I,
    ),
]
# Invisible characters that could split a keyword without changing how it reads.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)


def _scoped(pattern: re.Pattern[str]) -> str:
    # A pattern's flags (re.I, or its own leading "(?im)") scoped to its branch.
    body, flags = pattern.pattern, pattern.flags
    if body.startswith("(?im)"):
        body, flags = body[5:], flags | re.I | re.M
    inline = ("i" if flags & re.I else "") + ("m" if flags & re.M else "")
    return f"(?{inline}:{body})" if inline else f"(?:{body})"


# Every pattern at once: most answers match none, and one scan of them is cheaper than ten.
_ANY_INJECTION = re.compile("|".join(_scoped(p) for p in _INJECTION))


def normalise_for_detection(text: str) -> str:
    """What an answer says once disguises are undone: compatibility forms (fullwidth
    ``＜/answer＞``), HTML entities (``&lt;/answer&gt;``, twice-escaped too) and
    invisible characters.

    >>> normalise_for_detection("＜/answer＞ &amp;lt;b&amp;gt; sco\u200bre")
    '</answer> <b> score'
    """
    if text.isascii() and "&" not in text:
        return text  # NFKC, entities and the invisible characters leave it as it is
    text = unicodedata.normalize("NFKC", text)
    for _ in range(3):  # entities escaped more than once
        unescaped = html.unescape(text)
        if unescaped == text:
            break
        text = unescaped
    return text.translate(_INVISIBLE)


def injection_signals(text: str) -> list[str]:
    """Patterns in an answer (after :func:`normalise_for_detection`) that look like an
    attempt to steer the assessor."""
    plain = normalise_for_detection(text)
    if _ANY_INJECTION.search(plain) is None:
        return []
    return [p.pattern for p in _INJECTION if p.search(plain)]


def _name_pattern(name: str) -> re.Pattern[str]:
    # Whole names only: not inside a word, and not a contraction's tail ("I'm" is not "M").
    return re.compile(rf"(?<![\w'’]){re.escape(name)}(?!\w)")


def anonymize(text: str, names: Sequence[str], experimenter: str | None) -> str:
    """Replace the character's names and the experimenter's name, longest first, as
    whole words and with their case (names are proper nouns: "Will" the name, not "will").

    >>> anonymize("Holmes said: Watson, I am Sherlock Holmes.", ["Sherlock Holmes", "Holmes"], "Watson")
    'the participant said: the experimenter, I am the participant.'
    >>> anonymize("I'm sure, M. Holmes's friend", ["Holmes"], "M")
    "I'm sure, the experimenter. the participant's friend"
    """
    replacements = {n: PARTICIPANT for n in names if n.strip()}
    if experimenter and experimenter.strip():
        replacements[experimenter] = EXPERIMENTER
    for name in sorted(replacements, key=len, reverse=True):
        text = _name_pattern(name).sub(replacements[name], text)
    return text


def _escape(answer: str) -> str:
    # A fake closing tag must not end the data block early, in any disguise; a forged
    # "Sample <id>:" line must not read as the start of another sample.
    text = normalise_for_detection(answer)
    text = re.sub(r"<(\s*/?\s*answer)", r"‹\1", text, flags=re.I)
    return re.sub(r"(?im)^(\s*)(sample)(\s+\S+\s*:)", r"\1(quoted) \2\3", text)


def pole_anchors(
    low: int, high: int, low_pole: str, high_pole: str, order: Sequence[int] | None = None
) -> str:
    """Anchors such as "1 = very introverted, ..., 3 = neutral, ..., 5 = very extraverted"
    (listed in ``order`` when given: the option-order axis; values keep their meaning)."""
    values = list(range(low, high + 1))
    mid = (low + high) / 2
    half = (high - low) / 2
    words: list[str] = []
    for v in values:
        d = (v - mid) / half if half else 0.0
        pole = high_pole if d > 0 else low_pole
        a = abs(d)
        if a == 0:
            words.append(f"{v} = neutral")
        elif a >= 0.99:
            words.append(f"{v} = very {pole}")
        elif a >= 0.6:
            words.append(f"{v} = {'moderately' if len(values) > 5 else 'somewhat'} {pole}")
        else:
            words.append(f"{v} = {'somewhat' if len(values) > 5 else 'slightly'} {pole}")
    return ", ".join(_listed(dict(zip(values, words, strict=True)), order))


def _listed(by_value: dict[int, str], order: Sequence[int] | None) -> list[str]:
    # Values the order does not name keep their place after it (an order is a permutation).
    named = [v for v in order or () if v in by_value]
    return [by_value[v] for v in [*named, *(v for v in by_value if v not in named)]]


def option_anchors(scale: Scale, order: Sequence[int] | None = None) -> str:
    """The options as "1 = Disagree strongly, ..." in ``order`` (default: the scale's)."""
    return ", ".join(_listed({o.value: f"{o.value} = {o.label}" for o in scale.response_options}, order))


def _poles(dim: Dimension) -> tuple[str, str]:
    if dim.poles is not None:
        return dim.poles.low, dim.poles.high
    return f"low in {dim.name}", f"high in {dim.name}"


@dataclass
class Entry:
    """One answer as the assessor sees it."""

    item_id: str
    question: str
    answer: str
    statement: str = ""


@dataclass
class CallRecord:
    """What one assessor call sent and got back (for the results record)."""

    kind: str
    ids: list[str]
    output: dict[str, Any] | None
    error: str | None
    attempts: int
    prompt_chars: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _block(entries: Sequence[Entry], experimenter: str, with_statement: bool) -> str:
    lines = []
    for e in entries:
        lines.append(f"Sample {e.item_id}:")
        if with_statement and e.statement:
            lines.append(f"Statement: {e.statement}")
        lines.append(f"{experimenter}: {e.question}")
        lines.append(f"<answer>\n{_escape(e.answer)}\n</answer>")
        lines.append("")
    return "\n".join(lines)


async def _structured(
    model: BaseChatModel, schema: type[BaseModel], messages: list[BaseMessage], retries: int
) -> tuple[BaseModel | None, str | None, int]:
    """Invoke with structured output; on a parse failure retry with a note (a new prompt, so
    a cached bad reply is not simply returned again)."""
    runnable = model.with_structured_output(schema)
    error: str | None = None
    for attempt in range(1, retries + 2):
        msgs = messages if attempt == 1 else [*messages, HumanMessage(RETRY_NOTE.format(attempt=attempt))]
        try:
            out = await runnable.ainvoke(msgs)
        except Exception as exc:  # parse errors and exhausted transport retries alike
            error = f"{type(exc).__name__}: {str(exc)[:300]}"
            continue
        if isinstance(out, schema):
            return out, None, attempt
        if isinstance(out, dict):
            try:
                return schema.model_validate(out), None, attempt
            except Exception as exc:
                error = f"{type(exc).__name__}: {str(exc)[:300]}"
                continue
        error = f"unexpected output type {type(out).__name__}"
    return None, error, retries + 1


def _literal(values: Sequence[Any]) -> Any:
    # Literal of run-time values (a scale's options): the JSON schema gets an enum, which
    # llama.cpp's grammar and OpenAI's strict mode both enforce.
    return Literal.__getitem__(tuple(values))


def choices_schema(ids: Sequence[str], values: Sequence[int]) -> type[BaseModel]:
    return _choices_schema(tuple(ids), tuple(values))


@lru_cache(maxsize=1024)
def _choices_schema(ids: tuple[str, ...], values: tuple[int, ...]) -> type[BaseModel]:
    choice_fields: dict[str, Any] = {"id": (_literal(ids), ...), "choice": (_literal([*values, "x"]), ...)}
    choice = create_model("Choice", **choice_fields)
    list_fields: dict[str, Any] = {"choices": (list[choice], ...)}
    return create_model("Choices", **list_fields)


@dataclass
class Participant:
    """Who is assessed, as names to hide from the assessor."""

    names: list[str]
    experimenter: str


async def convert_options(
    model: BaseChatModel,
    scale: Scale,
    entries: Sequence[Entry],
    who: Participant,
    *,
    dimension: Dimension | None = None,
    anonymize_names: bool = True,
    retries: int = 2,
    option_order: Sequence[int] | None = None,
) -> tuple[dict[str, int | None], CallRecord]:
    """Option conversion (OC) of a batch of answers; d-OC when ``dimension`` is given;
    ``option_order`` lists the choices in another order (counterbalancing).

    Returns the chosen option per item id (``None`` for "x": no evidence/refusal;
    an id missing from the result could not be converted).
    """
    low, high = scale.range
    values = [o.value for o in scale.response_options]
    experimenter = EXPERIMENTER if anonymize_names else who.experimenter
    participant = PARTICIPANT if anonymize_names else who.names[0]
    if dimension is None:
        system = OPTION_CONVERSION_PROMPT.format(
            experimenter=experimenter,
            participant=participant,
            data_notice=DATA_NOTICE,
            anchors=option_anchors(scale, option_order),
        )
    else:
        low_pole, high_pole = _poles(dimension)
        system = DIMENSION_OPTION_CONVERSION_PROMPT.format(
            experimenter=experimenter,
            participant=participant,
            data_notice=DATA_NOTICE,
            dimension=dimension.name,
            description=dimension.description or dimension.name,
            anchors=pole_anchors(low, high, low_pole, high_pole, option_order),
            high_pole=high_pole,
            low_pole=low_pole,
        )
    user = _block(entries, experimenter, with_statement=dimension is None)
    if anonymize_names:
        system = anonymize(system, who.names, who.experimenter)
        user = anonymize(user, who.names, who.experimenter)
    ids = [e.item_id for e in entries]
    parsed, error, attempts = await _structured(
        model, choices_schema(ids, values), [SystemMessage(system), HumanMessage(user)], retries
    )
    out: dict[str, int | None] = {}
    if parsed is not None:
        given = [c.id for c in parsed.choices]  # type: ignore[attr-defined]
        repeated = sorted({i for i in given if given.count(i) > 1})
        if repeated:
            # Which of two choices counts is undecidable (a forged sample header can cause
            # it): the whole batch fails rather than the last one silently winning.
            error = f"duplicate choices for item(s) {repeated}: the batch is not scored"
        else:
            for c in parsed.choices:  # type: ignore[attr-defined]
                out[c.id] = None if c.choice == "x" else int(c.choice)
            missing = [i for i in ids if i not in out]
            if missing:
                error = f"no choice for item(s) {missing}"
    record = CallRecord(
        "d_oc" if dimension else "oc",
        ids,
        parsed.model_dump() if parsed else None,
        error,
        attempts,
        prompt_chars=len(system) + len(user),
    )
    return out, record


def parse_self_report(text: str, values: Sequence[int], *, cot: bool) -> int | None:
    """The option a self-report reply names, or ``None`` when it names none.

    SR: the reply must be just the number (after an optional "Name:" prefix and
    punctuation), as in InCharacter. SR-CoT: the last "Answer: N" line.

    >>> parse_self_report("Holmes: 4.", [1, 2, 3, 4, 5], cot=False)
    4
    >>> parse_self_report("I think so, maybe 4 or 5", [1, 2, 3, 4, 5], cot=False) is None
    True
    >>> parse_self_report("Hmm... parties bore me. Answer: 2", [1, 2, 3, 4, 5], cot=True)
    2
    """
    if cot:
        found = re.findall(r"answer\s*[:：]\s*(-?\d+)", text, flags=re.I)
        candidate = found[-1] if found else None
    else:
        body = text.split(":", 1)[-1] if re.match(r"^[^\d:]{1,40}:", text) else text
        cleaned = re.sub(r"[^\w-]", "", body)
        candidate = cleaned if re.fullmatch(r"-?\d+", cleaned) else None
    if candidate is None:
        return None
    value = int(candidate)
    return value if value in values else None


def lettered_options(scale: Scale) -> list[tuple[str, int, str]]:
    """(letter, value, label) from the highest option to the lowest, as RealBehavior's
    and MPI's multiple-choice prompts list them ("(A). Very Accurate" first)."""
    options = sorted(scale.response_options, key=lambda o: o.value, reverse=True)
    return [(chr(ord("A") + i), o.value, o.label) for i, o in enumerate(options)]


def parse_multiple_choice(text: str, letters: dict[str, int]) -> int | None:
    """The option a multiple-choice reply names: its first standalone option letter
    ("(B)", "B.", "B", "Answer: B"), or ``None``.

    >>> parse_multiple_choice("(B). Moderately Accurate", {"A": 5, "B": 4})
    4
    >>> parse_multiple_choice("A bit of both", {"A": 5, "B": 4}) is None
    True
    """
    patterns = (
        r"\(\s*([A-Z])\s*\)",  # (B)
        r"(?<![A-Za-z])([A-Z])\s*[.):](?![A-Za-z])",  # B. / B) / B:
        r"^\s*([A-Z])\s*$",  # the letter alone
        r"answer(?:\s+is)?\s*[:：]?\s*([A-Z])(?![A-Za-z])",  # Answer: B
    )
    for pattern in patterns:
        for found in re.finditer(pattern, text, flags=re.I if pattern.startswith("answer") else 0):
            if found.group(1) in letters:
                return letters[found.group(1)]
    return None
