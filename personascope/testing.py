"""The RPA conformance kit as pytest tests, for your package's own test suite.

Subclass :class:`RPAConformanceTests` (one test per check, run once per class)::

    from personascope.testing import RPAConformanceTests

    class TestMyRPA(RPAConformanceTests):
        rpa = "rpa:my-rpa"          # an RPA spec; or staticmethod(factory); or an RPA object
        timeout = 30.0

or load the plugin (``pytest_plugins = ["personascope.testing"]`` in your top-level
``conftest.py``) and use its fixture, which fails with the table of checks::

    def test_my_rpa_conforms(assert_rpa_conforms):
        assert_rpa_conforms("rpa:my-rpa", timeout=30)

The checks are those of ``personascope check-rpa`` (:mod:`personascope.agents.conformance`);
a skipped check (determinism not promised; one object, so no second character) is a
pytest skip.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import pytest

from personascope.agents.conformance import DEFAULT_CHARACTERS, ConformanceReport, check_rpa


def _expect(report: ConformanceReport, name: str) -> None:
    result = report.get(name)
    if result is None:
        failed = [c.name for c in report.checks if not c.passed]
        pytest.fail(f"{name}: not run, an earlier check failed ({', '.join(failed)})")
    elif result.skipped:
        pytest.skip(f"{name}: {result.detail}")
    elif not result.passed:
        pytest.fail(f"{name}: {result.detail}")


class RPAConformanceTests:
    """Base class of a conformance test class: set ``rpa`` (and optionally the rest)."""

    rpa: ClassVar[Any] = None
    timeout: ClassVar[float] = 60.0
    characters: ClassVar[Sequence[str]] = DEFAULT_CHARACTERS
    #: None: check determinism only where the agent promises it (``deterministic = True``).
    deterministic: ClassVar[bool | None] = None

    @pytest.fixture(scope="class")
    @classmethod
    def rpa_report(cls) -> ConformanceReport:
        """The kit, run once per test class; each test reads its check."""
        assert cls.rpa is not None, "set `rpa` on the test class"
        return check_rpa(
            cls.rpa, timeout=cls.timeout, characters=cls.characters, deterministic=cls.deterministic
        )

    def test_protocol(self, rpa_report: ConformanceReport) -> None:
        _expect(rpa_report, "protocol")

    def test_async_areply(self, rpa_report: ConformanceReport) -> None:
        _expect(rpa_report, "async areply")

    def test_answers_text_in_time(self, rpa_report: ConformanceReport) -> None:
        _expect(rpa_report, "answers text in time")

    def test_does_not_mutate_input(self, rpa_report: ConformanceReport) -> None:
        _expect(rpa_report, "does not mutate input")

    def test_isolated_conversations(self, rpa_report: ConformanceReport) -> None:
        _expect(rpa_report, "isolated conversations")

    def test_no_leakage_across_characters(self, rpa_report: ConformanceReport) -> None:
        _expect(rpa_report, "no leakage across characters")

    def test_deterministic_at_temperature_0(self, rpa_report: ConformanceReport) -> None:
        _expect(rpa_report, "deterministic at temperature 0")

    def test_malformed_message(self, rpa_report: ConformanceReport) -> None:
        _expect(rpa_report, "malformed message")


@pytest.fixture
def assert_rpa_conforms() -> Callable[..., ConformanceReport]:
    """``assert_rpa_conforms(target, **options)``: run the kit, fail listing every check."""

    def run(target: Any, **options: Any) -> ConformanceReport:
        report = check_rpa(target, **options)
        if not report.passed:
            pytest.fail(f"{target!r} does not conform:\n{report}")
        return report

    return run


__all__ = ["RPAConformanceTests", "assert_rpa_conforms"]
