"""Where an experiment's runs execute: in this process, or as Ray tasks across a cluster.

The Ray executor does no scheduling of its own. The driver plans the runs, cuts the
plan into chunks of ``spec.concurrency`` runs and submits one Ray task per chunk; each
task runs :func:`~personascope.graphs.runner.run_experiment` on its chunk, against the
experiment's shared PostgreSQL database (checkpoints and results) and the model
endpoints named in the spec. Ray places the tasks on the cluster's CPUs and retries a
task whose worker died; the retry resumes each of its runs from the last checkpoint,
so nothing answered before the crash is asked again, and finished runs cost nothing.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from personascope.errors import InputError
from personascope.graphs.lock import hold_experiment, prepare_experiment_dir
from personascope.graphs.runner import (
    ExperimentSpec,
    ProgressHook,
    RunOutcome,
    RunPlan,
    plan_runs,
    preflight,
    run_experiment,
)
from personascope.safeio import error_text

EXECUTORS = ("local", "ray")

# Variables a worker needs to behave like the driver: offline model hubs, no telemetry.
_PASSED_ENV = (
    "HF_HUB_OFFLINE",
    "HF_HUB_DISABLE_PROGRESS_BARS",
    "LANGGRAPH_CLI_NO_ANALYTICS",
    "PERSONASCOPE_CACHE",
)


def run_chunk(spec_data: dict[str, Any], exp_dir: str, plans: Sequence[RunPlan]) -> list[RunOutcome]:
    """One Ray task: run (or resume) these runs of the experiment in this worker.

    The driver holds the experiment's lock; workers coordinate through the database
    (each run is one thread of the shared checkpointer, and each chunk one task)."""
    spec = ExperimentSpec.model_validate(spec_data)
    return asyncio.run(run_experiment(spec, exp_dir, runs=plans, hold_lock=False))


def chunks(plans: Sequence[RunPlan], size: int) -> list[list[RunPlan]]:
    size = max(1, size)
    return [list(plans[i : i + size]) for i in range(0, len(plans), size)]


def run_with_ray(
    spec: ExperimentSpec,
    exp_dir: str | Path,
    *,
    address: str | None = None,
    on_done: ProgressHook | None = None,
    max_retries: int = 3,
    num_cpus: float = 1.0,
) -> list[RunOutcome]:
    """Run ``spec`` as Ray tasks; ``address`` joins a running cluster (``auto`` or
    ``ray://host:10001``), none starts a single-node cluster on this machine.

    The experiment must have a shared ``database`` (PostgreSQL): workers on other
    machines cannot see this machine's SQLite files.
    """
    if not spec.database:
        raise InputError(
            "spec",
            "database",
            "the Ray executor needs a shared postgresql:// database for checkpoints and results",
        )
    preflight(spec)  # before any worker starts: a misconfigured experiment fails here, once
    try:
        import ray
    except ImportError:
        raise InputError(
            "executor", "ray", "install personascope[distributed] to use the Ray executor"
        ) from None

    exp = prepare_experiment_dir(exp_dir)
    # One driver per experiment: a second one would submit every run again.
    with hold_experiment(exp, spec.model_dump(mode="json"), spec.database_url, spec.name):
        return _run_on_ray(ray, spec, exp, address, on_done, max_retries, num_cpus)


def _run_on_ray(
    ray: Any,
    spec: ExperimentSpec,
    exp: Path,
    address: str | None,
    on_done: ProgressHook | None,
    max_retries: int,
    num_cpus: float,
) -> list[RunOutcome]:
    started_here = not ray.is_initialized()
    if started_here:
        env = {k: os.environ[k] for k in _PASSED_ENV if k in os.environ}
        ray.init(
            address=address,
            include_dashboard=False,
            log_to_driver=False,
            runtime_env={"env_vars": env} if env else None,
        )
    try:
        task = ray.remote(num_cpus=num_cpus, max_retries=max_retries)(run_chunk)
        spec_data = spec.model_dump(mode="json")
        plans = plan_runs(spec)
        pending = {
            task.remote(spec_data, str(exp.resolve()), chunk): chunk
            for chunk in chunks(plans, spec.concurrency)
        }
        outcomes: list[RunOutcome] = []
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                chunk = pending.pop(ref)
                try:
                    got: list[RunOutcome] = ray.get(ref)
                except Exception as exc:  # the task failed after its retries
                    got = [RunOutcome(p, "failed", 0.0, error=error_text(exc)) for p in chunk]
                for outcome in got:
                    outcomes.append(outcome)
                    if on_done:
                        on_done(outcome)
        order = {p.run_id: i for i, p in enumerate(plans)}
        return sorted(outcomes, key=lambda o: order[o.plan.run_id])
    finally:
        if started_here:
            ray.shutdown()
