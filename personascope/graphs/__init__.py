"""How they speak: graph state, nodes, graph builders and the experiment runner."""

from __future__ import annotations

from typing import TYPE_CHECKING

from personascope._lazy import lazy_getattr

if TYPE_CHECKING:
    from personascope.graphs.assessment import build_assessment_graph
    from personascope.graphs.behavior import BehaviorContext, behavior_test, build_behavior, build_subjects
    from personascope.graphs.context import Context
    from personascope.graphs.executors import run_with_ray
    from personascope.graphs.interview import build_interview_graph
    from personascope.graphs.nodes import Nodes
    from personascope.graphs.pipeline import build_pipeline_graph
    from personascope.graphs.runner import (
        ExperimentSpec,
        RunOutcome,
        RunPlan,
        load_spec,
        plan_runs,
        preflight,
        run_experiment,
        single_run_spec,
    )
    from personascope.graphs.state import AssessmentState, InterviewState, PipelineState

_EXPORTS = {
    "Context": "personascope.graphs.context",
    "Nodes": "personascope.graphs.nodes",
    "InterviewState": "personascope.graphs.state",
    "AssessmentState": "personascope.graphs.state",
    "PipelineState": "personascope.graphs.state",
    "build_interview_graph": "personascope.graphs.interview",
    "build_assessment_graph": "personascope.graphs.assessment",
    "build_pipeline_graph": "personascope.graphs.pipeline",
    "ExperimentSpec": "personascope.graphs.runner",
    "RunPlan": "personascope.graphs.runner",
    "RunOutcome": "personascope.graphs.runner",
    "load_spec": "personascope.graphs.runner",
    "plan_runs": "personascope.graphs.runner",
    "run_experiment": "personascope.graphs.runner",
    "single_run_spec": "personascope.graphs.runner",
    "preflight": "personascope.graphs.runner",
    "run_with_ray": "personascope.graphs.executors",
    "BehaviorContext": "personascope.graphs.behavior",
    "build_behavior": "personascope.graphs.behavior",
    "build_subjects": "personascope.graphs.behavior",
    "behavior_test": "personascope.graphs.behavior",
}
__all__ = [
    "AssessmentState",
    "BehaviorContext",
    "Context",
    "ExperimentSpec",
    "InterviewState",
    "Nodes",
    "PipelineState",
    "RunOutcome",
    "RunPlan",
    "behavior_test",
    "build_assessment_graph",
    "build_behavior",
    "build_interview_graph",
    "build_pipeline_graph",
    "build_subjects",
    "load_spec",
    "plan_runs",
    "preflight",
    "run_experiment",
    "run_with_ray",
    "single_run_spec",
]
__getattr__ = lazy_getattr("personascope.graphs", _EXPORTS)
