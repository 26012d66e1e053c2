"""Prerequisites of a model spec, checked before any fan-out.

A run whose assessor needs a key that is not set, or whose endpoint does not accept
connections, would otherwise record one failure per item and a "partial" run; here it
fails once, with one line (:class:`~personascope.errors.ConfigurationError`, exit 2).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from personascope.errors import ConfigurationError, InputError

#: Seconds to wait for a TCP connection to an endpoint before calling it unreachable.
PROBE_TIMEOUT = 3.0


def reachable(url: str, timeout: float = PROBE_TIMEOUT) -> bool:
    """Whether ``url``'s host accepts a TCP connection (no request is sent)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


def check_model(spec: str, role: str = "model") -> None:
    """Raise :class:`ConfigurationError` when ``spec`` cannot be used as it stands: an
    unknown provider or malformed spec, a missing API key, missing local weights, or an
    OpenAI-compatible endpoint (every server of a fleet) refusing connections. RPA specs
    (``rpa:<name>``, ``module:factory``, ``langgraph:...``) go to :func:`check_rpa_spec`."""
    from personascope.agents.endpoints import pool_urls
    from personascope.agents.models import parse_spec
    from personascope.agents.rpa_specs import is_rpa_spec

    if is_rpa_spec(spec):
        check_rpa_spec(spec, role)
        return
    try:
        parsed = parse_spec(spec)
        if parsed.provider == "local":
            from personascope.agents.local_server import model_path

            model_path(parsed.model)
    except InputError as exc:
        raise ConfigurationError(f"{role} {spec!r}: {exc.field}: {exc.detail}") from None
    if parsed.provider == "openai" and not os.environ.get("OPENAI_API_KEY"):
        raise ConfigurationError(
            f"{role} {spec!r}: OPENAI_API_KEY is not set (keys are read from the environment)"
        )
    if parsed.provider == "openai-compatible" and parsed.base_url:
        urls = pool_urls(parsed.base_url) or [parsed.base_url]
        if not any(reachable(u) for u in urls):
            raise ConfigurationError(f"{role} {spec!r}: no server accepts connections at {', '.join(urls)}")


def check_rpa_spec(spec: str, role: str = "rpa model") -> None:
    """Raise :class:`ConfigurationError` when the RPA ``spec`` names cannot be built: a
    malformed spec, an unknown name, a factory that does not import (the plug-in's module
    is imported here), a LangGraph server refusing connections, or an unusable ``model=``."""
    from personascope.agents.rpa_specs import parse_rpa_spec, resolve_factory

    try:
        parsed = parse_rpa_spec(spec)
        resolve_factory(parsed)
    except InputError as exc:
        raise ConfigurationError(f"{role} {spec!r}: {exc.field}: {exc.detail}") from None
    except ConfigurationError as exc:
        raise ConfigurationError(f"{role} {spec!r}: {exc}") from None
    if parsed.url and not reachable(parsed.url):
        raise ConfigurationError(f"{role} {spec!r}: no LangGraph server accepts connections at {parsed.url}")
    if parsed.model and parsed.model != spec:
        check_model(parsed.model, role)


def check_models(specs: Iterable[tuple[str, str]]) -> None:
    """:func:`check_model` for each distinct ``(role, spec)``."""
    for role, spec in dict.fromkeys(specs):
        check_model(spec, role)
