"""Resuming an experiment directory: only with ``--resume``, and only with the spec it
was started with unless ``--force``.

Run ids do not change when, say, ``context.k`` or ``run_concurrency`` changes, so a
resumed run with a changed spec would finish a measurement under other settings than it
started with and mix both in one record. The stored ``spec.yaml`` is compared field by
field with the new spec, and the differences are named in the error.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from personascope.errors import InputError, PersonascopeError
from personascope.graphs.lock import SPEC_FILE
from personascope.safeio import read_data_file, redact

if TYPE_CHECKING:
    from personascope.graphs.runner import ExperimentSpec

#: Fields whose values are not shown (a database URL may hold a password).
_HIDDEN = frozenset({"database", "checkpointer"})
_SHOWN_CHANGES = 4


def _show(value: Any) -> str:
    text = redact(repr(value))
    return text if len(text) <= 60 else text[:57] + "..."


def spec_changes(old: Any, new: Any, path: str = "") -> list[str]:
    """Field-level differences between two specs in their JSON form, as
    ``field: old → new`` (``+field`` added, ``-field`` removed).

    >>> spec_changes({"trials": 1, "context": {"k": 4}}, {"trials": 2, "context": {"k": 4, "seed": 1}})
    ['trials: 1 → 2', '+context.seed: 1']
    """
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for key in [*old, *(k for k in new if k not in old)]:
            where = f"{path}.{key}" if path else str(key)
            hidden = str(key) in _HIDDEN
            if key not in new:
                out.append(f"-{where}" + ("" if hidden else f": {_show(old[key])}"))
            elif key not in old:
                out.append(f"+{where}" + ("" if hidden else f": {_show(new[key])}"))
            elif hidden:
                out += [f"{where}: changed"] if old[key] != new[key] else []
            else:
                out += spec_changes(old[key], new[key], where)
        return out
    if old == new:
        return []
    return [f"{path or '(spec)'}: {_show(old)} → {_show(new)}"]


def _stored(spec_file: Path) -> Any:
    from pydantic import ValidationError

    from personascope.graphs.runner import ExperimentSpec

    data = read_data_file(spec_file)
    try:
        # Through the model, so that fields added since (with defaults) are not changes.
        return ExperimentSpec.model_validate(data).model_dump(mode="json")
    except (ValidationError, PersonascopeError):
        return data


def check_resume(spec: ExperimentSpec, exp_dir: str | Path, *, resume: bool, force: bool = False) -> None:
    """Refuse to write into a directory that already holds an experiment unless
    ``resume``; refuse to resume it with a changed spec unless ``force``."""
    spec_file = Path(exp_dir) / SPEC_FILE
    if not spec_file.is_file():
        return
    if not resume:
        raise InputError(
            exp_dir,
            "--resume",
            "this experiment directory already has runs: pass --resume to continue it "
            "(finished runs are not re-run) or choose --dir",
        )
    changes = spec_changes(_stored(spec_file), spec.model_dump(mode="json"))
    if changes and not force:
        shown = "; ".join(changes[:_SHOWN_CHANGES])
        more = f"; and {len(changes) - _SHOWN_CHANGES} more" if len(changes) > _SHOWN_CHANGES else ""
        raise InputError(
            spec_file,
            "--resume",
            f"the spec differs from the one this experiment started with ({shown}{more}): "
            "pass --force to continue with the new spec, or choose another --dir",
        )


__all__ = ["check_resume", "spec_changes"]
