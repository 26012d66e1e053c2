"""Reading user files safely, and keeping secrets out of error texts.

Every file a user names (scale, character profile, memories, experiment spec) is
read through :func:`read_bytes_bounded`: only regular files are opened (``/dev/zero``
or a FIFO would otherwise read or block forever), and at most ``limit + 1`` bytes are
read, so an oversized file fails at once with one line instead of exhausting memory.
YAML goes through :class:`BoundedSafeLoader`, which refuses alias bombs ("billion
laughs") and recursive aliases, and duplicate mapping keys (YAML and JSON both keep
the last value silently, so ``key: '+'`` followed by ``key: '-'`` would flip an item).

:func:`redact` removes every configured API key from a text before it is stored or
printed: some endpoints echo the ``Authorization`` header in their error bodies.

This module imports only the standard library, PyYAML, pydantic (through
:mod:`personascope.errors`) and :mod:`personascope.errors`, so every layer may use it.
"""

from __future__ import annotations

import json
import os
import re
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from personascope.errors import InputError

MB = 1024 * 1024
# A scale or profile is a few hundred KB; the largest memories files (ChatHaruhi dumps)
# reach a few MB. 64 MB leaves room for those and still fails long before memory runs out.
MAX_FILE_BYTES = 64 * MB
# Hand-written scale/spec files rarely use aliases at all; an alias bomb needs many.
MAX_YAML_ALIASES = 1000
# Nodes of the document with every alias expanded: what code walking the data will visit.
MAX_YAML_NODES = 2_000_000


def max_file_bytes() -> int:
    """The size limit for user files: ``PERSONASCOPE_MAX_FILE_MB`` or :data:`MAX_FILE_BYTES`."""
    raw = os.environ.get("PERSONASCOPE_MAX_FILE_MB", "").strip()
    try:
        return int(float(raw) * MB) if raw else MAX_FILE_BYTES
    except ValueError:
        return MAX_FILE_BYTES


def _size_text(limit: int) -> str:
    return f"{limit / MB:g} MB" if limit >= MB else f"{limit} bytes"


_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def read_bytes_bounded(path: str | Path, *, field: str = "(file)", limit: int | None = None) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, or one :class:`InputError`.

    The kind of file is checked before opening (opening a FIFO blocks) and again on the
    open descriptor (the path may have been swapped in between); at most ``limit + 1``
    bytes are read, so a file that grows or lies about its size (``/proc``) is still bounded.
    """
    p = Path(path)
    cap = max_file_bytes() if limit is None else limit
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise InputError(p, field, "file does not exist") from None
    except OSError as exc:
        raise InputError(p, field, f"cannot read the file ({exc.strerror or exc})") from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError(p, field, f"expected a regular file, got {_kind(st.st_mode)}")
    if st.st_size > cap:
        raise InputError(p, field, f"file is larger than {_size_text(cap)} ({st.st_size} bytes)")
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(p, field, f"cannot read the file ({exc.strerror or exc})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InputError(p, field, "expected a regular file (it changed while being opened)")
        chunks: list[bytes] = []
        got = 0
        while got <= cap:
            chunk = os.read(fd, min(1 * MB, cap + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    except OSError as exc:
        raise InputError(p, field, f"cannot read the file ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if got > cap:
        raise InputError(p, field, f"file is larger than {_size_text(cap)}")
    return b"".join(chunks)


def read_text_bounded(path: str | Path, *, field: str = "(file)", limit: int | None = None) -> str:
    """UTF-8 text of a bounded regular file (a BOM is dropped), or one :class:`InputError`."""
    data = read_bytes_bounded(path, field=field, limit=limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            path,
            field,
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); save the file as UTF-8",
        ) from None


# -- YAML -------------------------------------------------------------------------


class YAMLLimitError(ConstructorError):
    """The document expands beyond the limits of :class:`BoundedSafeLoader`."""


class BoundedSafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses alias bombs, recursive aliases and duplicate keys.

    PyYAML shares an aliased node rather than copying it, so loading a "billion laughs"
    document is cheap; the gigabytes appear later, when validation or serialisation
    walks the data. The document is therefore measured as if every alias were expanded
    (memoised over the shared nodes, so measuring is linear in the text) and refused
    above :data:`MAX_YAML_NODES`; aliases are also counted while composing.
    """

    max_aliases = MAX_YAML_ALIASES
    max_nodes = MAX_YAML_NODES

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._aliases = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > self.max_aliases:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise YAMLLimitError(
                    None,
                    None,
                    f"more than {self.max_aliases} aliases (*name); refusing a possible alias bomb",
                    event.start_mark,
                )
        return super().compose_node(parent, index)

    def construct_document(self, node: Node) -> Any:
        _check_expanded_size(node, self.max_nodes)
        return super().construct_document(node)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            self._check_duplicates(node)
        return super().construct_mapping(node, deep=deep)

    def _check_duplicates(self, node: MappingNode) -> None:
        # Merge keys (<<) may be overridden by explicit keys: that is their purpose.
        seen: dict[Any, Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, ScalarNode):
                continue
            key = self.construct_object(key_node, deep=False)
            try:
                first = seen.setdefault(key, key_node)
            except TypeError:  # unhashable: SafeConstructor reports it
                continue
            if first is not key_node:
                raise ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first on line {first.start_mark.line + 1}; "
                    "each key may appear once)",
                    key_node.start_mark,
                )


def _check_expanded_size(root: Node, limit: int) -> None:
    """Refuse a node graph whose alias-expanded size exceeds ``limit``, or that is cyclic."""
    sizes: dict[int, int] = {}
    # Iterative post-order walk: a deeply nested document must not hit the recursion limit.
    stack: list[tuple[Node, bool]] = [(root, False)]
    on_path: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        children: list[Node] = []
        if isinstance(node, SequenceNode):
            children = list(node.value)
        elif isinstance(node, MappingNode):
            children = [n for pair in node.value for n in pair]
        if done:
            on_path.discard(key)
            total = 1 + sum(sizes[id(c)] for c in children)
            if total > limit:
                raise YAMLLimitError(
                    None,
                    None,
                    f"expands to more than {limit} nodes through aliases; refusing a possible alias bomb",
                    node.start_mark,
                )
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise YAMLLimitError(None, None, "recursive alias (a node contains itself)", node.start_mark)
        on_path.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)


def _yaml_where(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    return f"line {mark.line + 1} column {mark.column + 1}" if mark else "(document)"


def load_yaml(text: str, source: str | Path) -> Any:
    """Parse YAML with :class:`BoundedSafeLoader`, or raise one :class:`InputError`."""
    try:
        return yaml.load(text, Loader=BoundedSafeLoader)  # a SafeLoader subclass: safe
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(source, _yaml_where(exc), f"invalid YAML: {problem}") from None
    except RecursionError:
        raise InputError(source, "(document)", "invalid YAML: nested too deeply") from None


def _no_duplicate_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateJSONKey(key)
        out[key] = value
    return out


class _DuplicateJSONKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def load_json(text: str, source: str | Path, *, where: str | None = None) -> Any:
    """Parse JSON refusing duplicate keys, or raise one :class:`InputError`."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_pairs)
    except json.JSONDecodeError as exc:
        at = where or f"line {exc.lineno} column {exc.colno}"
        raise InputError(source, at, f"invalid JSON: {exc.msg}") from None
    except _DuplicateJSONKey as exc:
        raise InputError(
            source, where or "(document)", f"duplicate key {exc.key!r} (each key may appear once)"
        ) from None
    except RecursionError:
        raise InputError(source, where or "(document)", "invalid JSON: nested too deeply") from None


def read_data_file(path: str | Path, *, limit: int | None = None) -> Any:
    """Parse a bounded YAML or JSON file (by suffix; YAML otherwise), or one :class:`InputError`."""
    p = Path(path)
    text = read_text_bounded(p, limit=limit)
    if p.suffix.lower() == ".json":
        return load_json(text, p)
    return load_yaml(text, p)


def read_jsonl(path: str | Path, *, limit: int | None = None) -> Iterator[tuple[int, Any]]:
    """``(line number, value)`` of each non-blank line of a bounded JSONL file; one
    :class:`InputError` naming the first line that is not JSON."""
    p = Path(path)
    for n, line in enumerate(read_text_bounded(p, limit=limit).splitlines(), 1):
        if line.strip():
            yield n, load_json(line, p, where=f"line {n}")


# -- bounded answers ------------------------------------------------------------------

# An answer to one interview question is a few hundred words; anything far beyond that
# is a runaway or hostile model, and every copy (checkpoints, results, assessor prompts)
# multiplies it. 20,000 characters is ~5,000 tokens.
MAX_ANSWER_CHARS = 20_000
TRUNCATION_NOTE = "\n[answer truncated by personascope: {chars} characters, limit {limit}]"


def bound_text(text: str, limit: int | None = MAX_ANSWER_CHARS) -> tuple[str, bool]:
    """``(text cut to limit, truncated?)``; a cut text ends with a note saying so, because a
    reader of the transcript, and the assessor, must know the answer did not end there."""
    if limit is None or len(text) <= limit:
        return text, False
    return text[:limit] + TRUNCATION_NOTE.format(chars=len(text), limit=limit), True


# -- secrets ------------------------------------------------------------------------

REDACTED = "[REDACTED]"
# Environment variables whose values are secrets: the documented ones and the usual naming.
SECRET_ENV = ("OPENAI_API_KEY", "PERSONASCOPE_API_KEY")
_SECRET_ENV_PATTERN = re.compile(r"(API_?KEY|TOKEN|SECRET|PASSWORD)$", re.IGNORECASE)
# Shapes of credentials that are redacted even when not configured here (an endpoint may
# echo a key we never saw, e.g. one injected by a proxy).
_SECRET_SHAPES = re.compile(
    r"(?i)(bearer\s+|api[_-]?key[\"']?\s*(?:=|:\s*[\"'])\s*)([A-Za-z0-9._~+/=-]{8,})|\bsk-[A-Za-z0-9_-]{12,}"
)
# Values shorter than this are not treated as secrets: "not-needed" or "1" would turn
# ordinary words of error texts into [REDACTED].
_MIN_SECRET = 8
_PLACEHOLDERS = {"not-needed", "none", "null", "dummy", "changeme"}
_EXTRA: set[str] = set()
_EXTRA_LOCK = threading.Lock()


def register_secret(value: str | None) -> None:
    """Redact ``value`` too from now on (e.g. a key given in a spec, not in the environment)."""
    if value and len(value) >= _MIN_SECRET and value.lower() not in _PLACEHOLDERS:
        with _EXTRA_LOCK:
            _EXTRA.add(value)


def configured_secrets() -> list[str]:
    """Secrets to redact, longest first (so a key containing another is removed whole)."""
    found = set(_EXTRA)
    for name, value in os.environ.items():
        named = name in SECRET_ENV or _SECRET_ENV_PATTERN.search(name)
        if named and len(value) >= _MIN_SECRET and value.lower() not in _PLACEHOLDERS:
            found.add(value)
    return sorted(found, key=len, reverse=True)


def redact(text: str) -> str:
    """``text`` with every configured API key and credential-shaped token replaced by
    ``[REDACTED]``.

    >>> redact("401: bad header 'Authorization: Bearer sk-abcdefghijklmnop1234'")
    "401: bad header 'Authorization: Bearer [REDACTED]'"
    """
    for secret in configured_secrets():
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _SECRET_SHAPES.sub(lambda m: (m.group(1) or "") + REDACTED, text)


# -- failures of the machine, not of a model ----------------------------------------

#: errno values that say the disk (or the file system) refused a write.
_STORAGE_ERRNOS = frozenset({28, 122, 30})  # ENOSPC, EDQUOT, EROFS
_SQLITE_STORAGE = ("disk is full", "disk i/o error", "readonly database")


def is_storage_failure(exc: BaseException) -> bool:
    """Whether ``exc`` (or an error it was raised from) is a full or read-only disk.

    Such a failure belongs to the machine: recorded as an RPA's or an assessor's failure it
    would blame the model, and the run would be scored from fewer answers. It stops the
    run instead; a resume after freeing space re-asks only what was not checkpointed."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _STORAGE_ERRNOS:
            return True
        # sqlite3 errors carry no errno; their messages are fixed by SQLite.
        if type(current).__module__ == "sqlite3" and any(s in str(current).lower() for s in _SQLITE_STORAGE):
            return True
        current = current.__cause__ or current.__context__
    return False


def error_text(exc: BaseException) -> str:
    """One line for a stored or printed error: its type and message, secrets redacted;
    a full disk says so and how to continue."""
    text = redact(f"{type(exc).__name__}: {exc}")
    if is_storage_failure(exc):
        return f"storage full or read-only ({text}): free space, then resume (--resume)"
    return text
