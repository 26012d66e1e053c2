"""The personascope conformance kit, run on this package's RPA as a third party would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from personascope.testing import RPAConformanceTests


class TestQuoter(RPAConformanceTests):
    """One pytest test per check, on the entry point's name."""

    rpa = "rpa:quoter"
    timeout = 10.0


class TestQuoterByModulePath(RPAConformanceTests):
    """The same factory named by its module path, with a parameter, warm."""

    rpa = "quoting_rpa:build?quotes=2"
    timeout = 10.0


def test_quoter_conforms_through_the_fixture(assert_rpa_conforms: Callable[..., Any]) -> None:
    report = assert_rpa_conforms("rpa:quoter?quotes=2", timeout=10.0)
    assert report.get("deterministic at temperature 0").passed
