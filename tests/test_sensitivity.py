"""Issue 20: counterbalancing, the interviewer-prompt ablation and drift in a conversation.

Fake RPAs whose answers depend on exactly one thing (the option listed first, the
question's wording, the number of turns so far) go through real experiments; the
sensitivity tables must recover the effect each was built with, by hand-derived numbers.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from langchain_core.messages import BaseMessage

from personascope import results
from personascope.agents.fakes import FakeChatModel, register_fake
from personascope.agents.rpa import RPARequest
from personascope.axes import permutation, variant_of, variants
from personascope.errors import InputError
from personascope.evaluation.report import build_report
from personascope.evaluation.sensitivity import (
    axis_scores,
    drift_by_round,
    drift_table,
    round_scores,
    sensitivity_tables,
    shift_table,
    variance_components,
    variance_table,
)
from personascope.graphs.context import Context
from personascope.graphs.conversation import build_conversation_graph
from personascope.graphs.runner import ExperimentSpec, plan_runs, run_experiment
from personascope.methods import get_method
from personascope.results import run_id

CHAR = "sherlock-holmes"
#: Items of the mini scale: two dimensions, two items each, all keyed "+" so that a
#: response bias shows in the score (a balanced scale would cancel it).
ITEMS = {
    "a1": ("A", "I enjoy meeting new people.", "How do you feel about meeting new people?"),
    "a2": ("A", "I talk a lot.", "How much do you talk?"),
    "b1": ("B", "I keep my room tidy.", "How tidy is your room?"),
    "b2": ("B", "I plan ahead.", "Do you plan ahead?"),
}


@pytest.fixture
def scale(tmp_path: Path) -> str:
    data = {
        "id": "mini",
        "name": "Mini",
        "scoring": "AVG",
        "range": [1, 5],
        "response_options": [
            {"value": v, "label": label}
            for v, label in enumerate(
                ["Disagree", "Slightly disagree", "Neutral", "Slightly agree", "Agree"], 1
            )
        ],
        "dimensions": [{"id": "A", "name": "Alpha"}, {"id": "B", "name": "Beta"}],
        "items": [
            {"id": i, "text": text, "dimension": dim, "key": "+", "rewrite": {"en": question}}
            for i, (dim, text, question) in ITEMS.items()
        ],
    }
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def spec(scale: str, **fields: Any) -> ExperimentSpec:
    base: dict[str, Any] = {
        "characters": [CHAR],
        "scales": [scale],
        "methods": ["sr"],
        "rpa_models": ["fake:rpa"],
        "assessor_models": ["fake:assessor"],
        "interviewer_model": "fake:interviewer",
        "context": {"k": 0},
    }
    return ExperimentSpec.model_validate({**base, **fields})


def run(spec: ExperimentSpec, exp: Path, rpa: Any, assessor: Any, interviewer: Any = None) -> list[Any]:
    # The interviewer is resolved from the context's spec: register the fake under that name.
    register_fake("interviewer", lambda: interviewer or FakeChatModel(default="NONE"))
    return asyncio.run(
        run_experiment(
            spec, exp, rpa=rpa, assessor=assessor, rpa_label="fake:rpa", assessor_label="fake:assessor"
        )
    )


def oc_reading_answers() -> FakeChatModel:
    """An OC assessor that takes the number the answer states ("My answer: N")."""

    def reply(messages: list[BaseMessage]) -> str:
        body = str(messages[-1].content)
        ids = re.findall(r"^Sample (\S+):", body, flags=re.M)
        found = re.findall(r"<answer>\n.*?My answer: (\d)", body, flags=re.S)
        return json.dumps({"choices": [{"id": i, "choice": int(n)} for i, n in zip(ids, found, strict=True)]})

    return FakeChatModel(default=reply)


# -- axes and run ids ----------------------------------------------------------------------


def test_default_runs_keep_their_ids() -> None:
    # The id formula of experiments made before the axes, written out independently.
    key = json.dumps([CHAR, "ipip-bfm-50", "oc", "local", "local", 0.7, 1])
    old = f"{CHAR}|ipip-bfm-50|oc|t0.7|1|{hashlib.sha256(key.encode()).hexdigest()[:12]}"
    assert run_id(CHAR, "ipip-bfm-50", "oc", "local", "local", 0.7, 1) == old
    assert run_id(CHAR, "ipip-bfm-50", "oc", "local", "local", 0.7, 1, {}) == old
    assert (
        variant_of({f.name: getattr(Context(), f.name) for f in Context.__dataclass_fields__.values()}) == {}
    )
    moved = run_id(CHAR, "ipip-bfm-50", "oc", "local", "local", 0.7, 1, {"option_order": "descending"})
    assert moved != old and "option_order=descending" in moved


def test_plan_runs_spans_the_axes_that_apply(scale: str) -> None:
    s = spec(
        scale,
        methods=["sr", "oc", "er_batch", "oc_item"],
        item_orders=["original", "shuffled"],
        option_orders=["ascending", "descending"],
        question_styles=["incharacter", "statement"],
        trials=2,
    )
    plans = plan_runs(s)
    per_method = Counter(p.method for p in plans)
    # sr: option order only; oc: items x options x styles; er_batch: items x styles;
    # oc_item: options x styles.
    assert per_method == {"sr": 2 * 2, "oc": 8 * 2, "er_batch": 4 * 2, "oc_item": 4 * 2}
    assert len({p.run_id for p in plans}) == len(plans) == len({s.thread_id(p) for p in plans})
    assert sum(1 for p in plans if not p.variant) == 4 * 2  # the baseline of each method and trial
    shuffled = next(p for p in plans if dict(p.variant) == {"item_order": "shuffled"})
    assert "[item_order=shuffled]" in shuffled.label


def test_axis_values_are_checked() -> None:
    with pytest.raises(InputError, match="option_order"):
        Context(option_order="sideways")
    with pytest.raises(InputError, match="question_style"):
        Context(question_style="mine")
    assert Context(question_style="mine", question_templates={"mine": "Is it true that {statement}?"})
    with pytest.raises(InputError, match=r"\{statement\}"):
        Context(question_templates={"mine": "no placeholder"})
    with pytest.raises(ValueError, match="question_style"):
        ExperimentSpec(characters=[CHAR], scales=["ipip-bfm-50"], question_styles=["shouty"])
    with pytest.raises(ValueError, match="spec-owned"):
        ExperimentSpec(characters=[CHAR], scales=["ipip-bfm-50"], context={"option_order": "descending"})


def test_variants_leave_out_axes_a_method_cannot_feel() -> None:
    spans = {"item_order": ["original", "shuffled"], "question_style": ["incharacter", "leading"]}
    assert variants(spans, get_method("oc_item")) == [{}, {"question_style": "leading"}]
    conversation = {**spans, "interview": ["isolated", "conversation"]}
    # In a conversation the item order is the order of asking: it applies to every method.
    assert {"item_order": "shuffled", "interview": "conversation"} in variants(
        conversation, get_method("oc_item")
    )


# -- counterbalancing ----------------------------------------------------------------------


class FirstOption:
    """Answers a self-report with the option the question lists first (pure primacy bias)."""

    def __init__(self) -> None:
        self.calls = 0

    async def areply(self, messages: Sequence[BaseMessage]) -> str:
        self.calls += 1
        return str(re.findall(r"(\d) denotes", str(messages[-1].content))[0])


class Plain:
    """Answers every open question the same way."""

    async def areply(self, messages: Sequence[BaseMessage]) -> str:
        return "My answer: 3"


def test_option_order_shift_is_measured(scale: str, tmp_path: Path) -> None:
    rpa = FirstOption()
    s = spec(scale, option_orders=["ascending", "descending", "shuffled"], trials=2)
    outcomes = run(s, tmp_path, lambda request: rpa, oc_reading_answers())
    assert [o.status for o in outcomes] == ["ran"] * 6 and rpa.calls == 6 * 4
    records = results.run_records(tmp_path)
    assert {r.provenance.parameters["option_order"] for r in records} == {
        "ascending",
        "descending",
        "shuffled",
    }
    shifts = shift_table(axis_scores(records)).set_index(["value", "dimension"])
    # Ascending lists 1 first, descending 5: every item moves from 1 to 5, each trial alike.
    for dim in ("A", "B"):
        row: Any = shifts.loc[("descending", dim)]
        assert (row["n"], row["shift"], row["sd"], row["default_mean"]) == (2, 4.0, 0.0, 1.0)
    # Shuffled: each trial lists another option first, the seeded permutation's first value.
    expected = [[1, 2, 3, 4, 5][permutation(5, seed=0, trial=t, salt="options:mini")[0]] - 1 for t in (0, 1)]
    assert shifts.loc[("shuffled", "A"), "shift"] == pytest.approx(sum(expected) / 2)
    # Resumed: every run is done, nothing is asked again.
    again = run(s, tmp_path, lambda request: rpa, oc_reading_answers())
    assert [o.status for o in again] == ["done"] * 6 and rpa.calls == 6 * 4


def test_option_order_reaches_option_conversion(scale: str, tmp_path: Path) -> None:
    def first_listed(messages: list[BaseMessage]) -> str:
        # An assessor with a primacy bias: the first value its prompt lists, for every sample.
        text = "\n".join(str(m.content) for m in messages)
        first = int(re.search(r"Choices: (\d) =", text).group(1))  # type: ignore[union-attr]
        ids = re.findall(r"^Sample (\S+):", str(messages[-1].content), flags=re.M)
        return json.dumps({"choices": [{"id": i, "choice": first} for i in ids]})

    assessor = FakeChatModel(default=first_listed)
    s = spec(scale, methods=["oc"], option_orders=["ascending", "descending"])
    run(s, tmp_path, lambda request: Plain(), assessor)
    shifts = shift_table(axis_scores(results.run_records(tmp_path)))
    assert set(shifts["shift"]) == {4.0} and set(shifts["axis"]) == {"option_order"}
    assert any("Choices: 5 = Agree, 4 = Slightly agree" in p for p in assessor.prompts)


def test_item_order_reaches_the_assessors_batches(scale: str, tmp_path: Path) -> None:
    def first_in_batch_high(messages: list[BaseMessage]) -> str:
        # An assessor whose judgement depends on a sample's place in the batch (5 first, else 1).
        ids = re.findall(r"^Sample (\S+):", str(messages[-1].content), flags=re.M)
        return json.dumps({"choices": [{"id": i, "choice": 5 if n == 0 else 1} for n, i in enumerate(ids)]})

    assessor = FakeChatModel(default=first_in_batch_high)
    s = spec(
        scale, methods=["oc"], item_orders=["original", "reversed"], context={"k": 0, "oc_batch_size": 4}
    )
    run(s, tmp_path, lambda request: Plain(), assessor)
    # The two runs are concurrent, so which batch reaches the assessor first is not fixed.
    batches = sorted(re.findall(r"^Sample (\S+):", p, flags=re.M) for p in assessor.prompts)
    assert batches == [["a1", "a2", "b1", "b2"], ["b2", "b1", "a2", "a1"]]
    shifts = shift_table(axis_scores(results.run_records(tmp_path))).set_index("dimension")["shift"]
    # Original: a1 first -> A = (5 + 1) / 2 = 3, B = 1; reversed: b2 first -> A = 1, B = 3.
    assert shifts.to_dict() == {"A": -2.0, "B": 2.0}


# -- interviewer-prompt ablation -------------------------------------------------------------


class StyleSensitive:
    """Answers "My answer: N": dimension A at 2 when asked InCharacter's question and 4
    when asked the bare statement; B at 3 whatever the wording; item a1 and b1 also carry
    the trial's sampling noise e = trial − 1 (−1, 0, +1)."""

    def __init__(self, trial: int) -> None:
        self.noise = trial - 1
        self.by_text = {t: (i, "statement") for i, (_, t, _) in ITEMS.items()}
        self.by_text |= {q: (i, "incharacter") for i, (_, _, q) in ITEMS.items()}
        self.names: set[str | None] = set()

    async def areply(self, messages: Sequence[BaseMessage]) -> str:
        self.names.add(messages[-1].name)
        item, style = self.by_text[str(messages[-1].content)]
        value = (2 if style == "incharacter" else 4) if ITEMS[item][0] == "A" else 3
        return f"My answer: {value + (self.noise if item in ('a1', 'b1') else 0)}"


def test_prompt_variance_next_to_sampling_variance(scale: str, tmp_path: Path) -> None:
    built: list[StyleSensitive] = []

    def factory(request: RPARequest) -> StyleSensitive:
        built.append(StyleSensitive(request.trial))
        return built[-1]

    s = spec(scale, methods=["oc"], question_styles=["incharacter", "statement"], trials=3)
    run(s, tmp_path, factory, oc_reading_answers())
    table = variance_table(axis_scores(results.run_records(tmp_path))).set_index("dimension")
    # A: cells [1.5, 2, 2.5] and [3.5, 4, 4.5] -> MS_P = 6, MS_E = 0.25, var_P = (6 - 0.25) / 3.
    a = table.loc["A"]
    assert a["var_prompt"] == pytest.approx(5.75 / 3) and a["var_sampling"] == pytest.approx(0.25)
    assert a["icc"] == pytest.approx((5.75 / 3) / (5.75 / 3 + 0.25)) and a["f"] == pytest.approx(24.0)
    assert a["sensitive"] and a["p"] < 0.01
    b = table.loc["B"]
    assert (b["var_prompt"], b["icc"], b["sensitive"]) == (0.0, 0.0, False)
    assert b["var_sampling"] == pytest.approx(0.25)
    by_scale = sensitivity_tables(results.run_records(tmp_path))["prompt sensitivity by scale"]
    assert by_scale.iloc[0]["sensitive_dimensions"] == 1 and by_scale.iloc[0]["dimensions"] == 2


def test_question_styles_and_persona(scale: str, tmp_path: Path) -> None:
    seen: list[tuple[str, str | None, str]] = []

    class Recorder:
        def __init__(self, request: RPARequest) -> None:
            self.experimenter = request.character.experimenter

        async def areply(self, messages: Sequence[BaseMessage]) -> str:
            seen.append((str(messages[-1].content), messages[-1].name, self.experimenter))
            return "My answer: 3"

    interviewer = FakeChatModel(rules=[(r"leading question", "You surely do, don't you?")], default="NONE")
    s = spec(
        scale,
        methods=["oc"],
        question_styles=["incharacter", "statement", "leading", "mine"],
        experimenter_personas=["character", "interviewer"],
        context={"k": 0, "question_templates": {"mine": "{experimenter} wonders, {name}: {statement}"}},
    )
    assessor = oc_reading_answers()
    outcomes = run(s, tmp_path, Recorder, assessor, interviewer)
    assert len(outcomes) == 8 and {o.status for o in outcomes} == {"ran"}
    asked = {q for q, _, _ in seen}
    assert {q for _, _, q in ITEMS.values()} <= asked and {t for _, t, _ in ITEMS.values()} <= asked
    assert "You surely do, don't you?" in asked
    assert "Dr. Watson wonders, Sherlock Holmes: I plan ahead." in asked
    assert "the interviewer wonders, Sherlock Holmes: I plan ahead." in asked
    # The persona reaches the RPA's request and each message's speaker name.
    assert {(name, who) for _, name, who in seen} == {
        ("Dr_Watson", "Dr. Watson"),
        ("the_interviewer", "the interviewer"),
    }
    assert any(
        "the interviewer: " in p for p in assessor.prompts
    )  # OC does not anonymise: it sees the persona


# -- drift within a conversation -------------------------------------------------------------


def drifting(messages: list[BaseMessage]) -> str:
    """States 1 + (the RPA's turns so far) // 4: one point higher every four turns."""
    turns = sum(1 for m in messages if m.type == "ai")
    return f"My answer: {min(5, 1 + turns // 4)}"


def test_drift_slope_and_baseline(scale: str, tmp_path: Path) -> None:
    # A model-spec RPA (the built-in character agent on a fake model): every RPA kind talks.
    register_fake("drifting", lambda: FakeChatModel(default=drifting))
    s = spec(
        scale,
        methods=["oc"],
        rpa_models=["fake:drifting"],
        interviews=["isolated", "conversation"],
        trials=2,
        context={"k": 0, "conversation_rounds": 3},
    )
    register_fake("interviewer", lambda: FakeChatModel(default="NONE"))
    outcomes = asyncio.run(
        run_experiment(s, tmp_path, assessor=oc_reading_answers(), assessor_label="fake:a")
    )
    assert [o.status for o in outcomes] == ["ran"] * 4
    records = results.run_records(tmp_path)
    talk = next(r for r in records if r.rounds)
    assert [t["position"] for t in talk.turns] == list(range(12)) and {t["kind"] for t in talk.turns} == {
        "item"
    }
    # Round r asks its four items at positions 4r..4r+3: every answer is 1 + r.
    assert [r["scores"] for r in talk.rounds] == [
        {"A": 1.0, "B": 1.0},
        {"A": 2.0, "B": 2.0},
        {"A": 3.0, "B": 3.0},
    ]
    assert talk.rounds[1]["positions"] == {"A": 4.5, "B": 6.5}
    assert talk.scores["A"]["score"] == 1.0  # the run's score: its first round, as isolated items are scored
    scores, rounds = axis_scores(records), round_scores(records)
    drift = drift_table(rounds, scores).set_index("dimension")
    # Slope: one point per round, a round every 4 turns -> 0.25 per turn; the isolated baseline is 1.
    for dim in ("A", "B"):
        row = drift.loc[dim]
        assert (row["runs"], row["slope"], row["baseline"]) == (2, 0.25, 1.0)
        assert (row["first_minus_baseline"], row["last_minus_baseline"]) == (0.0, 2.0)
    by_round = drift_by_round(rounds, scores)
    assert by_round[by_round["dimension"] == "A"]["diff"].tolist() == [0.0, 1.0, 2.0]
    # The report: standard tables from the default (isolated) runs only; drift beside them.
    report = build_report(results.load(tmp_path), results.load_items(tmp_path), records)
    assert {"drift", "drift by round"} <= set(report.tables) and "drift" in {f.kind for f in report.figures}
    assert any("vary an experiment axis" in n for n in report.notes)
    assert set(report.tables["scores"]["runs"]) == {2}  # the two isolated trials, not the conversations


class Evasive:
    """Dodges the first question it is asked, answers the rest; records what it saw."""

    def __init__(self) -> None:
        self.seen: list[list[str]] = []

    async def areply(self, messages: Sequence[BaseMessage]) -> str:
        self.seen.append([str(m.content) for m in messages])
        return "I would rather not say." if len(self.seen) == 1 else "My answer: 4"


def test_follow_up_and_small_talk(scale: str) -> None:
    rpa = Evasive()
    interviewer = FakeChatModel(
        rules=[
            (r"rather not say", "Could you tell me a little more?"),
            (r"small talk", "Lovely weather today, isn't it?"),
        ],
        default="Fine answer. NONE",
    )
    graph = build_conversation_graph(
        rpa=rpa, interviewer=interviewer, assessor=oc_reading_answers()
    ).compile()
    ctx = Context(method="oc", conversation_rounds=2, small_talk_every=2, k=0)
    out = asyncio.run(
        graph.ainvoke({"character": CHAR, "scale": str(scale)}, context=ctx, config={"recursion_limit": 100})
    )
    kinds = [t["kind"] for t in out["turns"]]
    # a1 (evasive) -> follow-up; a2; small talk; b1; b2; small talk; round 2 alike, without follow-up.
    round_two = ["item", "item", "small_talk", "item", "item"]
    assert kinds == ["item", "follow_up", "item", "small_talk", "item", "item", "small_talk", *round_two]
    assert (
        out["turns"][1]["question"] == "Could you tell me a little more?"
        and out["turns"][1]["item_id"] == "a1"
    )
    # The RPA sees the whole conversation: its last turn holds every earlier exchange.
    assert len(rpa.seen[-1]) == 2 * (len(kinds) - 1) + 1 and "Lovely weather today, isn't it?" in rpa.seen[-1]
    first = {a["item_id"]: a["answer"] for a in out["transcript"]}
    assert "Could you tell me a little more?" in first["a1"] and first["a1"].endswith("My answer: 4")
    assert [r["scores"] for r in out["rounds"]] == [{"A": 4.0, "B": 4.0}] * 2


class Crash(BaseException):
    """Stands in for the process being killed."""


def test_conversation_resumes_without_asking_again(scale: str, tmp_path: Path) -> None:
    asked: Counter[int] = Counter()
    armed = [True]

    class CrashingTalker:
        async def areply(self, messages: Sequence[BaseMessage]) -> str:
            turn = sum(1 for m in messages if m.type == "ai")
            if armed[0] and turn == 5:
                armed[0] = False
                raise Crash
            asked[turn] += 1
            return "My answer: 3"

    rpa = CrashingTalker()
    s = spec(scale, methods=["oc"], interviews=["conversation"], context={"k": 0, "conversation_rounds": 2})
    with pytest.raises(Crash):
        run(s, tmp_path, lambda request: rpa, oc_reading_answers())
    outcomes = run(s, tmp_path, lambda request: rpa, oc_reading_answers())
    assert [o.status for o in outcomes] == ["ran"]
    assert asked == Counter(range(8))  # every turn asked once, the crashed one after the resume
    (record,) = results.run_records(tmp_path)
    assert len(record.turns) == 8 and len(record.rounds) == 2


# -- the statistics by hand ---------------------------------------------------------------------


def test_variance_components_by_hand() -> None:
    # Two characters, two prompts, two trials; the prompt effect differs per character.
    v = variance_components([[[1, 3], [5, 7]], [[2, 2], [2, 2]]])
    # SS_P = 16 + 0, df 2; SS_E = 4 + 0, df 4 -> MS_P = 8, MS_E = 1, var_P = (8 - 1) / 2.
    assert (v["var_prompt"], v["var_sampling"], v["f"], v["df1"], v["df2"]) == (3.5, 1.0, 8.0, 2, 4)
    one_trial = variance_components([[[1], [5]]])
    assert one_trial["var_prompt"] == 8.0 and math.isnan(one_trial["var_sampling"])


def test_shift_pairs_only_runs_that_differ_in_one_axis() -> None:
    rows = []
    for trial, base, moved in ((0, 2.0, 3.0), (1, 2.0, 5.0)):
        for order, score in (("ascending", base), ("descending", moved)):
            rows.append({"option_order": order, "trial": trial, "score": score})
    # A descending run with another item order has no partner: it is not paired.
    rows.append({"option_order": "descending", "item_order": "shuffled", "trial": 0, "score": 100.0})
    frame = pd.DataFrame(rows)
    defaults: dict[str, Any] = {
        "scale": "s",
        "method": "sr",
        "rpa_model": "r",
        "assessor_model": "a",
        "character": "c",
    }
    defaults |= {
        "temperature": 0.0,
        "dimension": "A",
        "item_order": "original",
        "question_style": "incharacter",
    }
    defaults |= {"experimenter_persona": "character", "interview": "isolated"}
    for col, value in defaults.items():
        frame[col] = frame[col].fillna(value) if col in frame else value
    row = shift_table(frame).set_index("value").loc["descending"]
    # Differences 1 and 3: mean 2, sd √2, t(0.975, 1) = 12.706 -> 2 ± 12.706 · √2 / √2.
    assert (row["n"], row["shift"]) == (2, 2.0) and row["sd"] == pytest.approx(math.sqrt(2))
    assert row["ci_high"] - row["shift"] == pytest.approx(12.7062, abs=1e-3)
