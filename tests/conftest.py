from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("LANGGRAPH_CLI_NO_ANALYTICS", "1")

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PERSONASCOPE_SHARED", ROOT.parent / "shared"))
REFERENCE = SHARED / "reference"
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def reference() -> Path:
    """The read-only reference data beside the checkout; skip when it is absent."""
    if not REFERENCE.is_dir():
        pytest.skip(f"reference data not found at {REFERENCE}")
    return REFERENCE
