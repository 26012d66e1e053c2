"""Who speaks: interviewer, role-playing agents, assessors and model resolution."""

from __future__ import annotations

from typing import TYPE_CHECKING

from personascope._lazy import lazy_getattr

if TYPE_CHECKING:
    from personascope.agents.character_agent import CharacterAgent, build_character_agent_graph
    from personascope.agents.conformance import ConformanceReport, acheck_rpa, check_rpa
    from personascope.agents.fakes import FakeChatModel
    from personascope.agents.models import ModelParams, ModelSpec, parse_spec, resolve_model
    from personascope.agents.preflight import check_model
    from personascope.agents.rpa import (
        EndpointRPA,
        RolePlayingAgent,
        RPAError,
        RPARequest,
        RunnableRPA,
        safe_reply,
    )
    from personascope.agents.rpa_specs import (
        available_rpas,
        build_rpa,
        get_rpa,
        parse_rpa_spec,
        register_rpa,
        rpa_catalog,
    )

_EXPORTS = {
    "RolePlayingAgent": "personascope.agents.rpa",
    "RunnableRPA": "personascope.agents.rpa",
    "EndpointRPA": "personascope.agents.rpa",
    "RPAError": "personascope.agents.rpa",
    "RPARequest": "personascope.agents.rpa",
    "register_rpa": "personascope.agents.rpa_specs",
    "get_rpa": "personascope.agents.rpa_specs",
    "available_rpas": "personascope.agents.rpa_specs",
    "build_rpa": "personascope.agents.rpa_specs",
    "parse_rpa_spec": "personascope.agents.rpa_specs",
    "rpa_catalog": "personascope.agents.rpa_specs",
    "check_rpa": "personascope.agents.conformance",
    "acheck_rpa": "personascope.agents.conformance",
    "ConformanceReport": "personascope.agents.conformance",
    "safe_reply": "personascope.agents.rpa",
    "CharacterAgent": "personascope.agents.character_agent",
    "build_character_agent_graph": "personascope.agents.character_agent",
    "ModelParams": "personascope.agents.models",
    "ModelSpec": "personascope.agents.models",
    "parse_spec": "personascope.agents.models",
    "resolve_model": "personascope.agents.models",
    "FakeChatModel": "personascope.agents.fakes",
    "check_model": "personascope.agents.preflight",
}
__all__ = [
    "CharacterAgent",
    "ConformanceReport",
    "EndpointRPA",
    "FakeChatModel",
    "ModelParams",
    "ModelSpec",
    "RPAError",
    "RPARequest",
    "RolePlayingAgent",
    "RunnableRPA",
    "acheck_rpa",
    "available_rpas",
    "build_character_agent_graph",
    "build_rpa",
    "check_model",
    "check_rpa",
    "get_rpa",
    "parse_rpa_spec",
    "parse_spec",
    "register_rpa",
    "resolve_model",
    "rpa_catalog",
    "safe_reply",
]
__getattr__ = lazy_getattr("personascope.agents", _EXPORTS)
