"""The run record and its provenance, derived from the run context (never a hand list)."""

from __future__ import annotations

import dataclasses
import hashlib
import platform
import subprocess
from datetime import UTC, datetime
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from personascope import __version__
from personascope.agents import prompts
from personascope.axes import variant_of
from personascope.graphs.context import Context
from personascope.graphs.state import PipelineState
from personascope.records import Provenance, RPAProvenance, RunRecord, Status
from personascope.results import run_id

#: Context fields that are record columns (or where the record lives) rather than parameters.
_NOT_PARAMETERS = frozenset(
    {
        "rpa_model",
        "assessor_model",
        "interviewer_model",
        "method",
        "temperature",
        "trial",
        "experiment_dir",
        "experiment",
        "database",  # may hold a password
    }
)

#: Distributions whose versions change what a run computes.
_DISTRIBUTIONS = (
    "langgraph",
    "langchain-core",
    "langchain-openai",
    "chromadb",
    "llama-cpp-python",
    "pydantic",
)


def prompt_hashes() -> dict[str, str]:
    """sha256 (first 16 hex) of every prompt template, for provenance."""
    return {
        name: hashlib.sha256(value.encode()).hexdigest()[:16]
        for name, value in vars(prompts).items()
        if name.endswith("_PROMPT") and isinstance(value, str)
    }


@cache
def package_versions() -> dict[str, str]:
    """Installed versions of the libraries a run depends on (the model server included)."""
    found: dict[str, str] = {}
    for dist in _DISTRIBUTIONS:
        try:
            found[dist] = version(dist)
        except PackageNotFoundError:
            continue
    return found


@cache
def git_commit() -> str | None:
    """The commit of the personascope source tree, when it is a git checkout."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def provenance(ctx: Context, rpa: RPAProvenance | None = None) -> Provenance:
    """Versions, prompt hashes, every context field that is not a record column, and
    the RPA (name, parameters, providing package and version) when known."""
    parameters = {
        f.name: getattr(ctx, f.name) for f in dataclasses.fields(ctx) if f.name not in _NOT_PARAMETERS
    }
    return Provenance(
        personascope_version=__version__,
        python=platform.python_version(),
        versions=package_versions(),
        git_commit=git_commit(),
        prompt_hashes=prompt_hashes(),
        parameters=parameters,
        rpa=rpa,
    )


def run_status(state: PipelineState) -> Status:
    """complete; complete_with_failures (some items failed, every dimension scored); partial."""
    scores = state.get("scores") or {}
    if any(s.get("score") is None for s in scores.values()):
        return "partial"
    return "complete_with_failures" if state.get("failures") else "complete"


def build_record(
    state: PipelineState,
    ctx: Context,
    rpa_model: str,
    assessor_model: str,
    rpa: RPAProvenance | None = None,
) -> RunRecord:
    """The typed, versioned record of a finished run."""
    transcript = state.get("transcript") or []
    return RunRecord(
        run_id=run_id(
            state["character"],
            state["scale"],
            ctx.method,
            rpa_model,
            assessor_model,
            ctx.temperature,
            ctx.trial,
            variant_of(dataclasses.asdict(ctx)),
        ),
        character=state["character"],
        scale=state["scale"],
        method=ctx.method,
        rpa_model=rpa_model,
        assessor_model=assessor_model,
        interviewer_model=ctx.interviewer_model,
        temperature=ctx.temperature,
        trial=ctx.trial,
        status=run_status(state),
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        provenance=provenance(ctx, rpa),
        timings={
            # Answering and queueing for a concurrency slot, apart: their sum is not the RPA's speed.
            "answer_seconds": round(sum(a.get("seconds", 0.0) for a in transcript), 3),
            "wait_seconds": round(sum(a.get("wait_seconds", 0.0) for a in transcript), 3),
        },
        usage=state.get("usage") or {},
        questions=state.get("questions") or [],
        transcript=transcript,
        item_values=state.get("item_values") or {},
        item_distributions=state.get("item_distributions") or {},
        dimension_ratings=state.get("dimension_ratings") or [],
        assessor_outputs=state.get("assessor_outputs") or [],
        failures=state.get("failures") or [],
        flags=state.get("flags") or [],
        scores=state.get("scores") or {},
        turns=state.get("turns") or [],
        rounds=state.get("rounds") or [],
    )
