"""Studio out of the box (issue 18, item 3): a validated, described context; input schemas
with the valid ids; demo defaults that need no server."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from pydantic import TypeAdapter

from personascope.errors import InputError
from personascope.graphs.assessment import graph as assessment_graph
from personascope.graphs.context import Context
from personascope.graphs.interview import graph as interview_graph
from personascope.graphs.pipeline import graph as pipeline_graph
from personascope.graphs.state import RunInput
from personascope.memories.characters import builtin_character_ids
from personascope.scales.loader import builtin_scale_ids


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("method", "ER-batch", "expected one of sr"),
        ("er_batch_size", 0, "er_batch_size: Input should be greater than or equal to 2"),
        ("k", -1, "k: Input should be greater than or equal to 0"),
        ("temperature", 3.0, "temperature: Input should be less than or equal to 2"),
        ("concurrency", 0, "concurrency"),
        ("max_missing", 1.5, "max_missing"),
        ("item_limit", 0, "item_limit"),
        ("max_retries", "many", "max_retries"),
    ],
)
def test_bad_context_values_are_one_line_errors(field: str, value: object, expected: str) -> None:
    with pytest.raises(InputError, match=expected) as info:
        Context(**{field: value})  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


def test_replace_validates_too() -> None:
    with pytest.raises(InputError, match="oc_batch_size"):
        dataclasses.replace(Context(), oc_batch_size=0)


def test_every_context_field_is_described_and_methods_are_listed() -> None:
    schema = TypeAdapter(Context).json_schema()
    undescribed = [name for name, prop in schema["properties"].items() if not prop.get("description")]
    assert undescribed == []
    assert {"er_batch", "oc", "sr"} <= set(schema["properties"]["method"]["enum"])
    assert schema["properties"]["er_batch_size"]["minimum"] == 2


def test_input_schemas_show_only_the_ids_with_their_choices() -> None:
    for graph in (pipeline_graph, interview_graph):
        schema = graph.get_input_jsonschema()
        assert sorted(schema["properties"]) == ["character", "scale"]
        assert schema["properties"]["character"]["enum"] == builtin_character_ids()
        assert schema["properties"]["scale"]["enum"] == builtin_scale_ids()
    assessment_input = assessment_graph.get_input_jsonschema()["properties"]
    assert sorted(assessment_input) == ["character", "scale", "transcript"]


def test_defaults_run_without_a_server_or_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "PERSONASCOPE_LOCAL_MODEL"):
        monkeypatch.delenv(name, raising=False)
    ctx = Context()
    assert "local" not in (ctx.rpa_model, ctx.assessor_model, ctx.interviewer_model)
    # The context as Studio sends it: a dict, made into a Context (and checked) by LangGraph.
    studio_context: Any = {"k": 0, "item_limit": 5}
    out = asyncio.run(
        pipeline_graph.ainvoke(RunInput(character="alice", scale="ipip-bfm-50"), context=studio_context)
    )
    assert len(out["transcript"]) == 5
    assert out["result"]["status"] in {"complete", "complete_with_failures", "partial"}
