"""The results store's held connection (one per experiment) and its cached spec lookup."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from personascope import results
from personascope.records import RunRecord


def _record(run_id: str) -> RunRecord:
    return RunRecord.model_validate(
        {
            "run_id": run_id,
            "character": "c",
            "scale": "s",
            "method": "er_batch",
            "rpa_model": "fake:echo",
            "assessor_model": "fake:neutral",
            "interviewer_model": "fake:echo",
            "temperature": 0.0,
            "trial": 0,
            "status": "complete",
            "finished_at": "2026-01-01T00:00:00+00:00",
            "provenance": {"personascope_version": "0", "python": "3"},
        }
    )


def test_records_written_while_held_are_committed_at_once_and_the_file_is_made_lazily(
    tmp_path: Path,
) -> None:
    db = tmp_path / results.RESULTS_FILE
    with results.keep_results_open(tmp_path):
        assert not db.exists()  # nothing written, nothing created (has_results stays false)
        results.write_record(tmp_path, _record("a"))
        results.write_record(tmp_path, _record("b"))
        # Committed: another connection (another process, a report) sees both now.
        with sqlite3.connect(db) as other:
            assert other.execute("SELECT count(*) FROM runs").fetchone() == (2,)
    assert [r.run_id for r in results.run_records(tmp_path)] == ["a", "b"]
    assert str(db) not in results._HELD  # released with its block
    results.write_record(tmp_path, _record("a"))  # not held: a connection of its own
    assert [r.run_id for r in results.run_records(tmp_path)] == ["a", "b"]


def test_a_failed_write_leaves_the_held_connection_usable(tmp_path: Path) -> None:
    with results.keep_results_open(tmp_path):
        results.write_record(tmp_path, _record("a"))
        held = results._HELD[str((tmp_path / results.RESULTS_FILE).absolute())]
        with pytest.raises(sqlite3.Error):
            held.write(("too", "few"))
        results.write_record(tmp_path, _record("b"))
    assert [r.run_id for r in results.run_records(tmp_path)] == ["a", "b"]


def test_the_spec_is_read_again_when_it_changes(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: one\n")
    assert isinstance(results.open_store(tmp_path), results.SqliteResults)
    spec.write_text("name: two\ndatabase: postgresql://u@localhost/db\n")
    store = results.open_store(tmp_path)
    assert isinstance(store, results.PostgresResults) and store.experiment == "two"


def test_a_location_under_a_file_has_no_spec_and_no_results(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x")
    assert not results.has_results(tmp_path / "f.txt" / "exp")  # as Path.exists(): no error
