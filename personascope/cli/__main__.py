"""``python -m personascope.cli``."""

from personascope.cli import _entry

_entry()
