"""RPA specs: one string names a role-playing agent wherever a model spec can be.

==============================================  ================================================
spec                                            RPA
==============================================  ================================================
any model spec (``local``, ``openai:gpt-4o``)   the built-in character agent on that model
                                                (the same as ``rpa:character?model=<spec>``)
``rpa:<name>?key=value&key=value``              the factory registered as ``<name>``
                                                (:func:`register_rpa` or the entry-point group
                                                ``personascope.rpas``)
``package.module:attribute?key=value``          a factory importable from Python, unregistered
``langgraph:<assistant>@http://host:port``      a deployed LangGraph assistant (``RemoteGraph``)
==============================================  ================================================

A factory is any callable ``factory(request: RPARequest) -> RPA`` (a function or a
class); it is called once per (character, temperature, trial) with the character's
profile, the memory store, the spec's parameters and the run's sampling settings
(:class:`~personascope.agents.rpa.RPARequest`). Parameters are strings,
percent-decoded; ``model=<model spec>`` names the chat model an RPA runs on.

Built-in names: ``character`` (the default agent: memories from the store, the
role-play prompt, ``model=``), ``endpoint`` (an OpenAI-compatible endpoint serving a
character model: ``model=`` required, ``system=character|none``). The ``langgraph:``
form takes ``system=character|none`` (default ``character``: the character's role-play
prompt as a system message), ``context=character,name,temperature,seed,trial`` (sent
as the run's context) and ``input_key=messages``.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib.metadata import EntryPoint, PackageNotFoundError, entry_points, packages_distributions, version
from typing import Any, Literal
from urllib.parse import unquote

from personascope.agents.models import PROVIDERS, ModelSpec, parse_spec
from personascope.agents.oracle import build_oracle_rpa
from personascope.agents.plain import build_plain_rpa
from personascope.agents.rpa import EndpointRPA, RolePlayingAgent, RPAFactory, RPARequest, RunnableRPA
from personascope.errors import ConfigurationError, InputError
from personascope.records import RPAProvenance
from personascope.safeio import redact

ENTRY_POINT_GROUP = "personascope.rpas"

Kind = Literal["model", "registry", "module", "langgraph"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_DOTTED = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"
_MODULE_ATTR = re.compile(rf"{_DOTTED}:{_DOTTED}")
_SECRET_PARAM = re.compile(r"key|token|secret|password|auth", re.IGNORECASE)
_SYSTEM_VALUES = ("character", "none")
_CONTEXT_FIELDS = ("character", "name", "temperature", "seed", "trial")
#: Parameters the built-in names understand (a typo fails before the run, not silently).
_BUILTIN_PARAMS: dict[str, frozenset[str]] = {
    "character": frozenset({"model"}),
    "endpoint": frozenset({"model", "system"}),
    "oracle": frozenset(),
    "plain": frozenset({"model"}),
    "langgraph": frozenset({"system", "context", "input_key"}),
}
_FORMS = (
    "a model spec (local, openai:<model>, ...), rpa:<name>?key=value, "
    "package.module:factory, or langgraph:<assistant>@http://host:port"
)


@dataclass(frozen=True)
class RPASpec:
    """A parsed RPA spec: ``name`` is the registry name, ``module:attribute``, the
    assistant id, or ``character`` for a plain model spec; ``model`` the chat-model spec
    the RPA runs on (the model spec itself, or the ``model=`` parameter)."""

    text: str
    kind: Kind
    name: str
    params: Mapping[str, str] = field(default_factory=dict)
    model: str | None = None
    url: str | None = None

    def model_spec(self) -> ModelSpec | None:
        """The parsed chat-model spec, when the RPA names one."""
        return parse_spec(self.model) if self.model else None


def _head(text: str) -> str:
    return text.strip().partition("?")[0].partition(":")[0]


def is_rpa_spec(spec: str) -> bool:
    """Whether ``spec`` is one of the RPA forms (not a plain model spec)."""
    base = spec.strip().partition("?")[0]
    head = _head(spec)
    if head in PROVIDERS:
        return False
    return head in ("rpa", "langgraph") or _MODULE_ATTR.fullmatch(base) is not None


def _parse_params(query: str, spec: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in query.split("&") if query else []:
        key, eq, value = pair.partition("=")
        if not eq or not _KEY.fullmatch(key):
            raise InputError(spec, "parameters", f"expected key=value pairs joined by '&', got {pair!r}")
        if key in params:
            raise InputError(spec, "parameters", f"{key!r} is given twice")
        params[key] = unquote(value)  # not unquote_plus: '+' is literal in model names
    return params


def _check_builtin(spec: str, name: str, params: Mapping[str, str]) -> None:
    allowed = _BUILTIN_PARAMS.get(name)
    if allowed is None:
        return
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise InputError(spec, "parameters", f"{name} takes {', '.join(sorted(allowed))}; got {unknown}")
    if params.get("system", "character") not in _SYSTEM_VALUES:
        raise InputError(spec, "system", f"expected one of {', '.join(_SYSTEM_VALUES)}")
    bad = [f for f in params.get("context", "").split(",") if f and f not in _CONTEXT_FIELDS]
    if bad:
        raise InputError(spec, "context", f"expected fields among {', '.join(_CONTEXT_FIELDS)}; got {bad}")
    if name == "endpoint" and "model" not in params:
        raise InputError(
            spec, "model", "rpa:endpoint needs model=openai-compatible:<model>@http://host:port/v1"
        )


def parse_rpa_spec(spec: str) -> RPASpec:
    """Parse any spec an RPA may be named by; raise :class:`InputError` naming what is wrong.

    >>> parse_rpa_spec("local:smollm2").name, parse_rpa_spec("local:smollm2").model
    ('character', 'local:smollm2')
    >>> s = parse_rpa_spec("rpa:my-rpa?voice=gruff&model=fake:echo")
    >>> s.kind, s.name, dict(s.params), s.model
    ('registry', 'my-rpa', {'voice': 'gruff', 'model': 'fake:echo'}, 'fake:echo')
    >>> parse_rpa_spec("langgraph:character@http://127.0.0.1:8123").url
    'http://127.0.0.1:8123'
    """
    text = spec.strip()
    base, _, query = text.partition("?")
    head, _, rest = base.partition(":")
    if not is_rpa_spec(text):
        if query:
            raise InputError(
                spec, "parameters", "a model spec takes no ?parameters; use rpa:character?model=..."
            )
        try:
            parse_spec(base)
        except InputError as exc:
            if exc.field != "provider":
                raise
            raise InputError(
                spec, "rpa", f"unknown provider {head!r}; expected {_FORMS}{_hint(base)}"
            ) from None
        return RPASpec(text, "model", "character", {}, base)
    params = _parse_params(query, spec)
    if "model" in params:
        try:
            parse_spec(params["model"])
        except InputError as exc:
            raise InputError(spec, "model", f"{params['model']!r}: {exc.field}: {exc.detail}") from None
    model = params.get("model")
    if head == "rpa":
        if not _NAME.fullmatch(rest):
            raise InputError(spec, "name", "expected rpa:<name> (letters, digits, '_', '.', '-')")
        _check_builtin(spec, rest, params)
        return RPASpec(text, "registry", rest, params, model)
    if head == "langgraph":
        assistant, at, url = rest.partition("@")
        if not at or not assistant or not url.startswith(("http://", "https://")):
            raise InputError(spec, "url", "expected langgraph:<assistant>@http(s)://host:port")
        _check_builtin(spec, "langgraph", params)
        return RPASpec(text, "langgraph", assistant, params, model, url.rstrip("/"))
    top = head.split(".")[0]
    if not _findable(top):
        # `claude:opus` is a mistyped provider far more often than a missing module.
        raise InputError(
            spec, "rpa", f"unknown provider {head!r}; expected {_FORMS} (no module {top!r} either)"
        )
    return RPASpec(text, "module", base, params, model)


def _findable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None  # finds, does not import
    except (ImportError, ValueError):
        return False


def _hint(base: str) -> str:
    if base in available_rpas():
        return f" (an RPA registered as {base!r} is named rpa:{base})"
    return ""


# -- registry -----------------------------------------------------------------------

_REGISTRY: dict[str, RPAFactory] = {}


class EntryPointFactory:
    """A factory shipped by a package (entry point), imported when first used."""

    def __init__(self, ep: EntryPoint) -> None:
        self.ep = ep

    def load(self) -> RPAFactory:
        try:
            factory: RPAFactory = self.ep.load()
        except Exception as exc:
            raise ConfigurationError(
                f"entry point {ENTRY_POINT_GROUP}:{self.ep.name} ({self.ep.value}) cannot be loaded: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        return factory

    def __call__(self, request: RPARequest) -> RolePlayingAgent:
        return self.load()(request)


def register_rpa(name: str, factory: RPAFactory) -> None:
    """Register ``factory(request) -> RPA`` as ``name`` (then ``rpa:<name>`` names it)."""
    if not _NAME.fullmatch(name):
        raise InputError(name, "rpa", "expected a name of letters, digits, '_', '.', '-'")
    _REGISTRY[name] = factory


def available_rpas() -> dict[str, RPAFactory]:
    """Registered RPA factories, including those of installed entry points (registered
    names win over an entry point of the same name)."""
    found: dict[str, RPAFactory] = dict(_REGISTRY)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, EntryPointFactory(ep))
    return found


def get_rpa(name: str, request: RPARequest) -> RolePlayingAgent:
    """Build the RPA registered (or shipped by an entry point) as ``name`` for ``request``."""
    return build_rpa(f"rpa:{name}", request)


def _module_factory(spec: RPASpec) -> RPAFactory:
    module_name, _, attribute = spec.name.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as exc:  # a missing module, or one that fails on import
        raise InputError(
            spec.text, "module", f"cannot import {module_name!r}: {type(exc).__name__}: {exc}"
        ) from None
    for part in attribute.split("."):
        if not hasattr(obj, part):
            raise InputError(spec.text, "attribute", f"{module_name!r} has no attribute {attribute!r}")
        obj = getattr(obj, part)
    if not callable(obj) or (isinstance(obj, RolePlayingAgent) and not isinstance(obj, type)):
        raise InputError(
            spec.text,
            "attribute",
            f"{attribute!r} is a {type(obj).__name__}, not a factory: expose "
            "`def factory(request: RPARequest) -> RPA` (one object cannot play several characters)",
        )
    factory: RPAFactory = obj
    return factory


def resolve_factory(spec: RPASpec) -> RPAFactory:
    """The factory ``spec`` names (imported now, so a broken plug-in fails before the run)."""
    if spec.kind == "model":
        return build_character_rpa
    if spec.kind == "langgraph":
        return build_remote_graph_rpa
    if spec.kind == "module":
        return _module_factory(spec)
    factories = available_rpas()
    if spec.name not in factories:
        raise InputError(spec.text, "rpa", f"no RPA registered as {spec.name!r} (known: {sorted(factories)})")
    factory = factories[spec.name]
    return factory.load() if isinstance(factory, EntryPointFactory) else factory


def _takes_request(factory: RPAFactory) -> bool:
    try:
        inspect.signature(factory).bind(None)
    except TypeError:
        return False
    except ValueError:  # no signature (a builtin): let the call decide
        return True
    return True


def is_agent_object(obj: object) -> bool:
    """An RPA instance (not a class, not a factory).

    What ``isinstance(obj, RolePlayingAgent)`` checks (the protocol's one member,
    ``areply``, present and not None), without the runtime protocol machinery: asked
    for every item asked, it was a tenth of a millisecond each."""
    return not isinstance(obj, type) and getattr(obj, "areply", None) is not None


def build_rpa(
    spec: str | RPASpec | None, request: RPARequest, *, factory: RPAFactory | None = None
) -> RolePlayingAgent:
    """The RPA ``spec`` names, built for ``request`` (its ``spec``, ``params`` and ``model``
    filled from the spec). ``factory`` (an injected one) replaces the spec's."""
    parsed = parse_rpa_spec(spec) if isinstance(spec, str) else spec
    if parsed is None and factory is None:
        raise InputError("rpa", "spec", "an RPA spec or a factory is needed")
    make = factory or resolve_factory(parsed)  # type: ignore[arg-type]  # one of them is set
    label = parsed.text if parsed else getattr(make, "__name__", type(make).__name__)
    if not _takes_request(make):
        raise InputError(label, "factory", "a factory takes one argument, the RPARequest: factory(request)")
    if parsed is not None:
        request = replace(request, spec=parsed.text, params=parsed.params, model=parsed.model)
    try:
        agent = make(request)
    except (InputError, ConfigurationError):
        raise
    except Exception as exc:  # the factory is the plug-in's code: say whose and for whom
        raise ConfigurationError(
            f"rpa {label!r}: the factory failed for character {request.character.id!r}: "
            f"{type(exc).__name__}: {redact(str(exc))}"
        ) from None
    if not is_agent_object(agent):
        raise InputError(label, "rpa", f"the factory returned {type(agent).__name__}, which has no areply()")
    return agent


def check_injected(rpa: object | None, characters: Sequence[str]) -> None:
    """Refuse one injected RPA object for several characters: it would interview the
    same agent, blind to who it plays, under each character's name."""
    distinct = sorted(set(characters))
    if rpa is not None and is_agent_object(rpa) and len(distinct) > 1:
        raise InputError(
            "rpa",
            "object",
            f"one {type(rpa).__name__} object cannot play {len(distinct)} characters "
            f"({', '.join(distinct)}); "
            "pass a factory, rpa=lambda request: MyRPA(request.character), or an RPA spec in rpa_models",
        )


# -- the built-in factories ------------------------------------------------------------


def build_character_rpa(request: RPARequest) -> RolePlayingAgent:
    """``rpa:character`` and every plain model spec: the default character agent."""
    from personascope.agents.character_agent import CharacterAgent

    return CharacterAgent.from_request(request)


def _system_prompt(request: RPARequest) -> str | None:
    return request.role_play_prompt() if request.params.get("system", "character") == "character" else None


def build_endpoint_rpa(request: RPARequest) -> RolePlayingAgent:
    """``rpa:endpoint?model=openai-compatible:<model>@<url>``: a served character model."""
    if not request.model:
        raise InputError(request.spec or "rpa:endpoint", "model", "rpa:endpoint needs model=<model spec>")
    return EndpointRPA(request.model, system_prompt=_system_prompt(request), params=request.model_params)


def _context_value(request: RPARequest, name: str) -> Any:
    values = {
        "character": request.character.id,
        "name": request.character.name,
        "temperature": request.temperature,
        "seed": request.seed,
        "trial": request.trial,
    }
    return values[name]


def build_remote_graph_rpa(request: RPARequest) -> RolePlayingAgent:
    """``langgraph:<assistant>@<url>``: each question is a stateless run (no thread) of a
    deployed assistant, so no history is kept between questions."""
    from langgraph.pregel.remote import RemoteGraph

    spec = parse_rpa_spec(request.spec)
    remote = RemoteGraph(spec.name, url=spec.url)
    fields = [f for f in request.params.get("context", "").split(",") if f]
    return RunnableRPA(
        remote,
        input_key=request.params.get("input_key", "messages"),
        system_prompt=_system_prompt(request),
        is_graph=True,
        context={f: _context_value(request, f) for f in fields},
    )


register_rpa("character", build_character_rpa)
register_rpa("endpoint", build_endpoint_rpa)
register_rpa("oracle", build_oracle_rpa)
register_rpa(
    "plain", build_plain_rpa
)  # RealBehavior's bare-model subject  # validity studies: unambiguous answers from the labels


# -- provenance and listing ------------------------------------------------------------


_DISTRIBUTIONS_LOCK = threading.Lock()


@cache
def _distributions() -> Mapping[str, list[str]]:
    return packages_distributions()


def distribution_of(module: str) -> tuple[str | None, str | None]:
    """The installed distribution (name, version) that provides ``module``, if any.

    Cached, under a lock: ``packages_distributions()`` reads every installed
    distribution's file list (~100 ms) and every run's record asks; runs that finish
    together (bench_engine part 1: 32) would otherwise each scan in its own thread."""
    with _DISTRIBUTIONS_LOCK:
        return _distribution_of(module)


@cache
def _distribution_of(module: str) -> tuple[str | None, str | None]:
    top = module.split(".")[0]
    if top == "personascope":
        from personascope import __version__

        return "personascope", __version__
    if top in ("", "__main__", "builtins"):  # a script or the interpreter: no distribution
        return None, None
    names = _distributions().get(top) or []
    for name in names:
        try:
            return name, version(name)
        except PackageNotFoundError:
            continue
    return None, None


def _factory_package(factory: object) -> tuple[str | None, str | None]:
    if isinstance(factory, EntryPointFactory):
        dist = factory.ep.dist
        if dist is not None:
            return dist.name, dist.version
        return distribution_of(factory.ep.module)
    return distribution_of(getattr(factory, "__module__", "") or "")


def _public_params(params: Mapping[str, str]) -> dict[str, str]:
    # Records are shared: a parameter that looks like a credential is never stored.
    return {k: "***" if _SECRET_PARAM.search(k) else redact(v) for k, v in params.items()}


def _qualname(obj: object) -> str:
    target = obj if inspect.isfunction(obj) or isinstance(obj, type) else type(obj)
    return f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', type(obj).__name__)}"


def rpa_provenance(spec: str, injected: object | None = None) -> RPAProvenance:
    """Which RPA answered a run: its name, parameters and the package (and version) that
    provides it. ``injected``: the object or factory passed to the graph, if any."""
    package: str | None
    ver: str | None
    if injected is not None:
        kind: Literal["object", "factory"] = "object" if is_agent_object(injected) else "factory"
        target = type(injected) if kind == "object" else injected
        package, ver = distribution_of(getattr(target, "__module__", "") or "")
        return RPAProvenance(spec=spec, kind=kind, name=_qualname(injected), package=package, version=ver)
    parsed = parse_rpa_spec(spec)
    params = dict(parsed.params)
    if parsed.kind == "model":
        params = {"model": parsed.text}
        package, ver = distribution_of("personascope")
    elif parsed.kind == "langgraph":
        params = {"url": parsed.url or "", **params}
        package, ver = distribution_of("personascope")  # the adapter; the assistant is remote
    elif parsed.kind == "module":
        package, ver = distribution_of(parsed.name.partition(":")[0])
    else:
        package, ver = _factory_package(available_rpas().get(parsed.name))
    return RPAProvenance(
        spec=parsed.text,
        kind=parsed.kind,
        name=parsed.name,
        params=_public_params(params),
        package=package,
        version=ver,
    )


@dataclass(frozen=True)
class RPAEntry:
    """One named RPA: where it comes from."""

    name: str
    source: str
    package: str | None
    version: str | None


def rpa_catalog() -> list[RPAEntry]:
    """Every RPA name ``rpa:<name>`` can use, with its package and version, by name."""
    rows = []
    for name, factory in sorted(available_rpas().items()):
        package, ver = _factory_package(factory)
        source = (
            f"entry point {factory.ep.value}"
            if isinstance(factory, EntryPointFactory)
            else _qualname(factory)
        )
        rows.append(RPAEntry(name, source, package, ver))
    return rows


def default_assessor(rpa_spec: str | None) -> str | None:
    """The model an RPA spec runs on (the assessor's default in ``personascope run``)."""
    if not rpa_spec:
        return None
    try:
        return parse_rpa_spec(rpa_spec).model
    except InputError:
        return rpa_spec  # reported by the spec check, with its field


__all__ = [
    "ENTRY_POINT_GROUP",
    "EntryPointFactory",
    "RPAEntry",
    "RPASpec",
    "available_rpas",
    "build_character_rpa",
    "build_endpoint_rpa",
    "build_remote_graph_rpa",
    "build_rpa",
    "check_injected",
    "default_assessor",
    "distribution_of",
    "get_rpa",
    "is_agent_object",
    "is_rpa_spec",
    "parse_rpa_spec",
    "register_rpa",
    "resolve_factory",
    "rpa_catalog",
    "rpa_provenance",
]
