"""Who speaks: interviewer, role-playing agents, assessors and model resolution."""

from __future__ import annotations

from typing import TYPE_CHECKING

from personascope._lazy import lazy_getattr

if TYPE_CHECKING:
    from personascope.agents.character_agent import CharacterAgent, build_character_agent_graph
    from personascope.agents.fakes import FakeChatModel
    from personascope.agents.models import ModelParams, ModelSpec, parse_spec, resolve_model
    from personascope.agents.preflight import check_model
    from personascope.agents.rpa import (
        EndpointRPA,
        RolePlayingAgent,
        RPAError,
        RunnableRPA,
        acheck_rpa,
        available_rpas,
        check_rpa,
        get_rpa,
        register_rpa,
        safe_reply,
    )

_EXPORTS = {
    "RolePlayingAgent": "personascope.agents.rpa",
    "RunnableRPA": "personascope.agents.rpa",
    "EndpointRPA": "personascope.agents.rpa",
    "RPAError": "personascope.agents.rpa",
    "register_rpa": "personascope.agents.rpa",
    "get_rpa": "personascope.agents.rpa",
    "available_rpas": "personascope.agents.rpa",
    "check_rpa": "personascope.agents.rpa",
    "acheck_rpa": "personascope.agents.rpa",
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
    "EndpointRPA",
    "FakeChatModel",
    "ModelParams",
    "ModelSpec",
    "RPAError",
    "RolePlayingAgent",
    "RunnableRPA",
    "acheck_rpa",
    "available_rpas",
    "build_character_agent_graph",
    "check_model",
    "check_rpa",
    "get_rpa",
    "parse_spec",
    "register_rpa",
    "resolve_model",
    "safe_reply",
]
__getattr__ = lazy_getattr("personascope.agents", _EXPORTS)
