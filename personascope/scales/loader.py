"""Finding and reading scale files: built-ins, our YAML/JSON, and imported formats."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

import personascope.safeio as safeio
from personascope.errors import InputError, from_validation_error
from personascope.scales.importers import (
    from_incharacter,
    from_psychobench,
    is_incharacter,
    is_psychobench,
)
from personascope.scales.schema import Scale

_SUFFIXES = (".yaml", ".yml", ".json")


def read_data_file(path: Path) -> Any:
    """Parse a YAML or JSON file, or raise one :class:`InputError` naming it.

    Bounded (size, regular files only, YAML aliases) and strict (duplicate keys are
    refused): see :mod:`personascope.safeio`.
    """
    return safeio.read_data_file(path)


def read_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    """``(line number, parsed value)`` of each non-blank line of a JSONL file, or one
    :class:`InputError` naming the line that is not JSON."""
    return safeio.read_jsonl(path)


def scale_from_data(data: Any, source: str | Path) -> Scale:
    """Build a :class:`Scale` from parsed data in any supported format."""
    if is_incharacter(data):
        return from_incharacter(data, source)
    if isinstance(data, list) or is_psychobench(data):
        raise InputError(
            source,
            "(top level)",
            "a PsychoBench questionnaires list holds several scales: use "
            "load_scales_from_file() or point personascope at the file as a folder entry",
        )
    if not isinstance(data, dict):
        raise InputError(
            source, "(top level)", f"expected a mapping of scale fields, got {type(data).__name__}"
        )
    try:
        return Scale.model_validate(data)
    except ValidationError as exc:
        raise _named_item_error(source, exc, data) from None


def _named_item_error(source: str | Path, exc: ValidationError, data: dict[str, Any]) -> InputError:
    """Like :func:`from_validation_error`, but says ``items[<id>]`` instead of an index."""
    err = from_validation_error(source, exc)
    parts = err.field.split(".")
    if len(parts) >= 2 and parts[0] in {"items", "fillers", "dimensions", "norms"}:
        try:
            entry = data[parts[0]][int(parts[1])]
            name = entry.get("id") or entry.get("dimension") if isinstance(entry, dict) else None
        except (KeyError, IndexError, ValueError, TypeError):
            name = None
        if name is not None:
            field = f"{parts[0]}[{name}]" + "".join(f".{p}" for p in parts[2:])
            return InputError(source, field, err.detail)
    return err


def load_scales_from_file(path: str | Path) -> list[Scale]:
    """Every scale in a file: one for our format or InCharacter, many for PsychoBench."""
    p = Path(path)
    try:
        stat = p.stat()
    except OSError:
        raise InputError(p, "(file)", "file does not exist") from None
    # Graph nodes look scales up on every step: parse a file once per version.
    return list(_load_scales_from_file(str(p), stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=256)
def _load_scales_from_file(path: str, mtime_ns: int, size: int) -> tuple[Scale, ...]:
    p = Path(path)
    data = read_data_file(p)
    if isinstance(data, list) or is_psychobench(data):
        items = data if isinstance(data, list) else [data]
        return tuple(from_psychobench(entry, p, index=i) for i, entry in enumerate(items))
    return (scale_from_data(data, p),)


def load_scales_from_dir(folder: str | Path) -> list[Scale]:
    """All scales of all supported files in ``folder`` (not recursive), sorted by id."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError(root, "(folder)", "expected a folder of scale files")
    scales: list[Scale] = []
    for path in sorted(root.iterdir()):
        if path.suffix.lower() in _SUFFIXES and path.is_file():
            scales.extend(load_scales_from_file(path))
    ids = [s.id for s in scales]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise InputError(root, "id", f"several files define scale(s) {dupes}; ids must be unique")
    return sorted(scales, key=lambda s: s.id)


def _builtin_dir() -> Any:
    return resources.files("personascope.scales") / "builtin"


@cache
def _builtin_scale(scale_id: str) -> Scale:
    entry = _builtin_dir() / f"{scale_id}.yaml"
    with resources.as_file(entry) as path:
        return load_scales_from_file(path)[0]


@cache
def _builtin_ids() -> tuple[str, ...]:
    return tuple(sorted(Path(e.name).stem for e in _builtin_dir().iterdir() if e.name.endswith(".yaml")))


def builtin_scale_ids() -> list[str]:
    """Ids of the scales shipped with personascope."""
    return list(_builtin_ids())


def list_scales() -> list[Scale]:
    """The built-in scales."""
    return [_builtin_scale(i) for i in builtin_scale_ids()]


def load_scale(id_or_path: str | Path) -> Scale:
    """A built-in scale by id, or the single scale in a file.

    Raises :class:`InputError` for an unknown id, a missing file or a malformed one.
    """
    text = str(id_or_path)
    if text in builtin_scale_ids():
        return _builtin_scale(text)
    path = Path(text)
    if path.suffix.lower() in _SUFFIXES or path.exists():
        scales = load_scales_from_file(path)
        if len(scales) != 1:
            raise InputError(
                path, "(top level)", f"holds {len(scales)} scales; pick one with load_scales_from_file()"
            )
        return scales[0]
    raise InputError(
        text, "scale", f"not a built-in scale ({', '.join(builtin_scale_ids())}) nor a scale file"
    )
