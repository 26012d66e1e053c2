"""Every docstring example of the pure packages runs and is right."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "personascope.scales",
    "personascope.scales.scoring",
    "personascope.evaluation.reliability",
    "personascope.evaluation.alignment",
    "personascope.evaluation.validity",
    "personascope.evaluation.behavior",
    "personascope.agents.behavior",
    "personascope.agents.models",
    "personascope.agents.rpa_specs",
    "personascope.agents.assessors",
    "personascope.agents.rating",
    "personascope.agents.judgement",
    "personascope.graphs.assessing",
    "personascope.evaluation.summary",
    "personascope.evaluation.recovery",
]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert result.attempted > 0
