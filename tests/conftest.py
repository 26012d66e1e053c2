from __future__ import annotations

import os
from pathlib import Path
from typing import Any

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


@pytest.fixture(scope="session")
def postgres_server() -> Any:
    """A real PostgreSQL server on a free loopback port for the session; skip without one."""
    from pg_server import PostgresServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not found (scripts/test.sh installs Debian's postgresql)")
    server = PostgresServer(bindir).start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: Any) -> str:
    """URL of a fresh, empty database on the session's server."""
    return str(postgres_server.create_database())


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest) -> str | None:
    """An experiment's ``database``: tests using it run on SQLite files and on PostgreSQL."""
    if request.param == "sqlite":
        return None
    return str(request.getfixturevalue("postgres_url"))
