"""personascope: measure the personality of LLMs and role-playing agents, and check the measurement."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from personascope._lazy import lazy_getattr

try:
    __version__ = version("personascope")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

if TYPE_CHECKING:
    from personascope.agents.models import resolve_model
    from personascope.errors import ConfigurationError, InputError, PersonascopeError
    from personascope.graphs.context import Context
    from personascope.graphs.pipeline import build_pipeline_graph
    from personascope.graphs.runner import ExperimentSpec, load_spec, run_experiment
    from personascope.memories.characters import list_characters, load_character
    from personascope.methods import Method, available_methods, get_method, register_method
    from personascope.records import RunRecord
    from personascope.results import export, load, load_records, run_records
    from personascope.scales import Scale, list_scales, load_scale, score_scale

_EXPORTS = {
    "load_scale": "personascope.scales",
    "list_scales": "personascope.scales",
    "score_scale": "personascope.scales",
    "Scale": "personascope.scales",
    "load_character": "personascope.memories.characters",
    "list_characters": "personascope.memories.characters",
    "Method": "personascope.methods",
    "get_method": "personascope.methods",
    "register_method": "personascope.methods",
    "available_methods": "personascope.methods",
    "RunRecord": "personascope.records",
    "load": "personascope.results",
    "load_records": "personascope.results",
    "run_records": "personascope.results",
    "export": "personascope.results",
    "ExperimentSpec": "personascope.graphs.runner",
    "run_experiment": "personascope.graphs.runner",
    "load_spec": "personascope.graphs.runner",
    "Context": "personascope.graphs.context",
    "build_pipeline_graph": "personascope.graphs.pipeline",
    "resolve_model": "personascope.agents.models",
    "InputError": "personascope.errors",
    "ConfigurationError": "personascope.errors",
    "PersonascopeError": "personascope.errors",
}
__all__ = [
    "ConfigurationError",
    "Context",
    "ExperimentSpec",
    "InputError",
    "Method",
    "PersonascopeError",
    "RunRecord",
    "Scale",
    "__version__",
    "available_methods",
    "build_pipeline_graph",
    "export",
    "get_method",
    "list_characters",
    "list_scales",
    "load",
    "load_character",
    "load_records",
    "load_scale",
    "load_spec",
    "register_method",
    "resolve_model",
    "run_experiment",
    "run_records",
    "score_scale",
]
__getattr__ = lazy_getattr("personascope", _EXPORTS)
