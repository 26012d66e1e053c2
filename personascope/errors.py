"""One error family.

- :class:`InputError`: a bad file or argument (exit code 2, one line naming the file,
  the field and what was expected).
- :class:`ConfigurationError`: a missing prerequisite (unknown provider, missing API
  key, unreachable endpoint, broken plug-in), raised before any fan-out so that a
  misconfigured run fails fast with one line instead of recording per-item failures.

Every other personascope error (an RPA that fails to answer, a local model that does
not start, answers that cannot be scored) derives from :class:`PersonascopeError` too,
so ``except PersonascopeError`` catches the whole family.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError


class PersonascopeError(Exception):
    """Base of every error personascope raises on purpose."""


class ConfigurationError(PersonascopeError):
    """A prerequisite of a run is missing: the run cannot start (exit code 2)."""


class InputError(PersonascopeError, ValueError):
    """A user-supplied file or argument is malformed.

    The message always has the form ``<source>: <field>: <what was expected>`` so
    a user can find and fix the problem without reading a traceback.
    """

    def __init__(self, source: str | Path, field: str, message: str) -> None:
        self.source = str(source)
        self.field = field
        self.detail = message
        super().__init__(f"{self.source}: {field}: {message}")


def from_validation_error(source: str | Path, exc: ValidationError) -> InputError:
    """Turn pydantic's (possibly multi-line) error into one :class:`InputError`.

    Only the first problem is reported: fixing files one error at a time is what
    users do, and a wall of cascading errors hides the real one.
    """
    first = exc.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in first["loc"]) or "(top level)"
    msg = str(first["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
        # Model-level validators already name their field as "<field>: <msg>".
        if loc == "(top level)" and ": " in msg:
            loc, msg = msg.split(": ", 1)
    elif first["type"] == "missing":
        msg = "required field is missing"
    elif first["type"] == "extra_forbidden":
        msg = "unknown field (check the spelling against the documented format)"
    else:
        msg = f"{msg} (got {first.get('input')!r})"
    return InputError(source, loc, msg)


__all__ = ["ConfigurationError", "InputError", "PersonascopeError", "from_validation_error"]
