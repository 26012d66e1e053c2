"""Character profiles: who a role-playing agent plays, and what it remembers.

A profile is a YAML/JSON file::

    id: sherlock-holmes
    name: Sherlock Holmes
    aliases: [Holmes, Sherlock]           # anonymised to "the participant" for assessors
    source: Arthur Conan Doyle, ... (1892)
    language: en
    experimenter: Dr. Watson              # the persona who asks the interview questions
    description: |                        # the role-play system prompt
      You are Sherlock Holmes ...
    memories:                             # inline scene summaries / dialogue lines ...
      - ...
    memories_file: holmes.txt             # ... or a file (blank-line separated, or .jsonl)
    labels:                               # optional human labels per scale and dimension
      ipip-bfm-50:
        extraversion: {type: L, score: 2.0}
    labels_source: who made the labels
"""

from __future__ import annotations

import os
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

import personascope.safeio as safeio
from personascope.errors import InputError, from_validation_error

_SUFFIXES = (".yaml", ".yml", ".json")


class Label(BaseModel):
    """A human personality label of one dimension: a type and, optionally, a score."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["H", "L", "X"]
    score: float | None = None


class Character(BaseModel):
    """A character profile (validated)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\- ]*$")
    name: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    source: str = ""
    language: str = "en"
    experimenter: str = Field(min_length=1)
    description: str = Field(min_length=1)
    memories: list[str] = Field(default_factory=list)
    labels: dict[str, dict[str, Label]] = Field(default_factory=dict)
    labels_source: str = ""

    @model_validator(mode="after")
    def _check(self) -> Character:
        empty = [i for i, m in enumerate(self.memories) if not m.strip()]
        if empty:
            raise ValueError(f"memories[{empty[0]}]: empty memory (expected non-empty text)")
        seen: set[str] = set()
        for i, m in enumerate(self.memories):
            if m in seen:
                raise ValueError(f"memories[{i}]: duplicate memory {m[:40]!r}")
            seen.add(m)
        return self

    @property
    def all_names(self) -> list[str]:
        """Name and aliases, longest first (so "Sherlock Holmes" is replaced before "Holmes")."""
        return sorted({self.name, *self.aliases}, key=len, reverse=True)


def _read(path: Path) -> Any:
    return safeio.read_data_file(path)


ALLOW_OUTSIDE_ENV = "PERSONASCOPE_ALLOW_OUTSIDE_FILES"


def _allow_outside(option: bool | None) -> bool:
    if option is not None:
        return option
    return os.environ.get(ALLOW_OUTSIDE_ENV, "").strip().lower() in {"1", "true", "yes"}


def memories_path(mem_file: str, source: str | Path, base_dir: Path | None, allow_outside: bool) -> Path:
    """Where a profile's ``memories_file`` lives: relative to the profile's folder, and
    inside it unless ``allow_outside`` (a profile from elsewhere must not be able to send
    ``/etc/passwd`` or ``~/.ssh/id_rsa`` into prompts)."""
    base = base_dir if base_dir is not None else Path(".")
    path = base / mem_file
    if allow_outside:
        return path
    if Path(mem_file).is_absolute():
        raise InputError(
            source,
            "memories_file",
            f"absolute path {mem_file!r} refused (expected a path relative to the profile's folder; "
            f"set {ALLOW_OUTSIDE_ENV}=1 to allow files elsewhere)",
        )
    # resolve() follows symbolic links: a link inside the folder to a file outside is refused too.
    root = base.resolve()
    if not path.resolve().is_relative_to(root):
        raise InputError(
            source,
            "memories_file",
            f"{mem_file!r} is outside the profile's folder {root} (expected a file inside it; "
            f"set {ALLOW_OUTSIDE_ENV}=1 to allow files elsewhere)",
        )
    return path


def _memories_from_file(path: Path, source: Path) -> list[str]:
    if not path.exists():
        raise InputError(source, "memories_file", f"{path} does not exist (expected a .txt or .jsonl file)")
    try:
        if path.suffix == ".jsonl":
            out = []
            for n, row in safeio.read_jsonl(path):
                chunk = row.get("text") if isinstance(row, dict) else row
                if not isinstance(chunk, str):
                    raise InputError(path, f"line {n}", "expected a string or an object with 'text'")
                out.append(chunk)
            return out
        text = safeio.read_text_bounded(path)
    except InputError as exc:
        if exc.field != "(file)":  # a line of a .jsonl file: that file and line say it best
            raise
        # The file as a whole (size, kind, encoding): name the profile's field and the file.
        raise InputError(source, "memories_file", f"{path}: {exc.detail}") from None
    return [c.strip() for c in text.split("\n\n") if c.strip()]


def character_from_data(
    data: Any, source: str | Path, base_dir: Path | None = None, *, allow_outside: bool | None = None
) -> Character:
    """Validate parsed profile data into a :class:`Character`.

    ``allow_outside``: accept a ``memories_file`` outside ``base_dir`` (default: the
    environment variable ``PERSONASCOPE_ALLOW_OUTSIDE_FILES``, else refused).
    """
    if not isinstance(data, dict):
        raise InputError(source, "(top level)", "expected a mapping of profile fields")
    data = dict(data)
    mem_file = data.pop("memories_file", None)
    if mem_file is not None:
        if not isinstance(mem_file, str):
            raise InputError(source, "memories_file", f"expected a relative path, got {mem_file!r}")
        path = memories_path(mem_file, source, base_dir, _allow_outside(allow_outside))
        data["memories"] = [*(data.get("memories") or []), *_memories_from_file(path, Path(source))]
    try:
        return Character.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(source, exc) from None


def validate_labels(character: Character, source: str | Path) -> None:
    """Check that labels name dimensions of their scales (built-in or loadable scales only)."""
    from personascope.scales import builtin_scale_ids, load_scale

    for scale_id, dims in character.labels.items():
        if scale_id not in builtin_scale_ids():
            continue
        known = {d.id for d in load_scale(scale_id).dimensions}
        for dim in dims:
            if dim not in known:
                raise InputError(
                    source,
                    f"labels.{scale_id}.{dim}",
                    f"not a dimension of {scale_id} (expected one of {sorted(known)})",
                )


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


# Nodes look characters up by path on every item: parse a profile once per version of
# the profile and of its memories file.
_FILE_CACHE: dict[str, tuple[tuple[Path, ...], tuple[Any, ...], Character]] = {}


def load_character_file(path: str | Path, *, allow_outside: bool | None = None) -> Character:
    """A profile file (parsed once per version of it and of its memories file)."""
    p = Path(path)
    outside = _allow_outside(allow_outside)
    # abspath, not resolve(): this runs once per item and resolve() walks the path with syscalls.
    key = os.path.abspath(p)
    cached = _FILE_CACHE.get(key)
    if cached is not None and cached[1] == (outside, *(_stamp(f) for f in cached[0])):
        return cached[2]
    data = _read(p)
    character = character_from_data(data, p, p.parent, allow_outside=outside)
    validate_labels(character, p)
    deps: tuple[Path, ...] = (p,)
    if isinstance(data, dict) and isinstance(data.get("memories_file"), str):
        deps = (p, p.parent / data["memories_file"])
    # The option is part of the key: a profile accepted with it must be refused without it.
    _FILE_CACHE[key] = (deps, (outside, *(_stamp(f) for f in deps)), character)
    return character


def _builtin_dir() -> Any:
    return resources.files("personascope.memories") / "characters"


@cache
def _builtin_ids() -> tuple[str, ...]:
    return tuple(sorted(Path(e.name).stem for e in _builtin_dir().iterdir() if e.name.endswith(".yaml")))


def builtin_character_ids() -> list[str]:
    return list(_builtin_ids())


@cache
def _builtin(character_id: str) -> Character:
    with resources.as_file(_builtin_dir() / f"{character_id}.yaml") as path:
        return load_character_file(path)


def list_characters() -> list[Character]:
    """The shipped characters."""
    return [_builtin(i) for i in builtin_character_ids()]


def load_character(id_or_path: str | Path, *, allow_outside: bool | None = None) -> Character:
    """A shipped character by id, or a profile file (``allow_outside``: see
    :func:`character_from_data`)."""
    text = str(id_or_path)
    if text in builtin_character_ids():
        return _builtin(text)
    path = Path(text)
    if path.suffix.lower() in _SUFFIXES or path.exists():
        return load_character_file(path, allow_outside=allow_outside)
    raise InputError(
        text,
        "character",
        f"not a shipped character ({', '.join(builtin_character_ids())}) nor a profile file",
    )
