"""The validity study: designed personas, interviewed and assessed like any character.

``personascope validate`` (and :func:`run_validity`) writes one profile per persona into
``<dir>/personas/`` (plain-language description, the assigned levels as its labels),
runs them as an ordinary experiment — checkpointed, cached, resumable, runnable on a
fleet or on Ray — for every RPA model × assessor model × method asked for, and writes
the recovery tables (:mod:`personascope.evaluation.recovery`) to ``<dir>/validity/``:

* ``recovery.csv``: per configuration and dimension (and pooled), Pearson and Spearman r,
  H/L accuracy and bias with bootstrap intervals;
* ``summary.csv``: the same, the columns the report and ``run`` read;
* ``known_groups.csv`` (with ``known_groups``): the shipped characters' labelled groups.

The RPA ``oracle`` (a model spec) answers every item unambiguously from the persona's
assigned level ("Yes, absolutely, that describes me." / "No, not at all..."): it
measures the assessor alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from personascope.errors import InputError, from_validation_error
from personascope.evaluation.honesty import record_study
from personascope.evaluation.recovery import (
    graded_design,
    known_groups_table,
    level_of,
    persona_description,
    recovery_table,
    two_level_design,
)
from personascope.graphs.runner import ExperimentSpec, RunOutcome, run_experiment
from personascope.memories.characters import builtin_character_ids, load_character
from personascope.methods import DEFAULT_METHOD
from personascope.scales import Scale, load_scale

VALIDITY_DIR = "validity"
SUMMARY_FILE = "summary.csv"
#: Neutral first names for personas (a name is part of a role-play prompt).
NAMES = [
    "Alex Morgan",
    "Sam Taylor",
    "Jordan Lee",
    "Casey Brooks",
    "Riley Quinn",
    "Jamie Fox",
    "Morgan Reed",
    "Taylor Grant",
    "Robin Hale",
    "Drew Parker",
    "Avery Stone",
    "Cameron Ellis",
    "Quinn Harper",
    "Reese Carter",
    "Skyler James",
    "Rowan Blake",
    "Emerson Cole",
    "Finley Ward",
    "Hayden Cruz",
    "Jesse Lane",
]
PERSONA_SUFFIX = "Answer every question as this person would, honestly and in the first person."


class ValiditySpec(BaseModel):
    """A persona-recovery study: which scale, how many personas, which configurations."""

    model_config = ConfigDict(extra="forbid")

    name: str = "validity"
    scale: str = "ipip-bfm-50"
    personas: int = Field(
        default=8, ge=4, le=64, description="Personas (a power of two; graded: a multiple of 5)."
    )
    graded: bool = Field(default=False, description="Five levels per dimension instead of high/low.")
    methods: list[str] = Field(default_factory=lambda: [DEFAULT_METHOD], min_length=1)
    rpa_models: list[str] = Field(default_factory=lambda: ["local"], min_length=1)
    assessor_models: list[str] = Field(default_factory=lambda: ["local"], min_length=1)
    interviewer_model: str = "local"
    temperatures: list[float] = Field(default_factory=lambda: [0.0], min_length=1)
    trials: int = Field(default=1, ge=1)
    # One run at a time: the embedded server answers one request at a time, and two runs'
    # prompts interleaved defeat its prefix cache (each persona's long description is shared
    # by its 50 items); raise it for a fleet or a hosted endpoint.
    concurrency: int = Field(default=1, ge=1)
    run_concurrency: int = Field(default=4, ge=1)
    known_groups: bool = Field(default=False, description="Also run the shipped labelled characters.")
    database: str | None = None
    endpoints: dict[str, list[str]] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)
    seed: int = 0


def design(spec: ValiditySpec, scale: Scale) -> pd.DataFrame:
    """The design: one row per persona and dimension with its level 1..5 and ``assigned``
    on [−1, 1]."""
    dims = [d.id for d in scale.dimensions]
    matrix = (
        graded_design(len(dims), spec.personas) if spec.graded else two_level_design(len(dims), spec.personas)
    )
    rows = []
    for i, row in enumerate(matrix):
        for dim, value in zip(dims, row, strict=True):
            level = level_of(int(value), spec.graded)
            rows.append(
                {
                    "persona": f"persona-{i + 1:02d}",
                    "dimension": dim,
                    "level": level,
                    "assigned": (level - 3) / 2,
                }
            )
    return pd.DataFrame(rows)


def write_personas(spec: ValiditySpec, scale: Scale, folder: Path) -> dict[str, Path]:
    """One profile per persona (description and assigned levels as labels); returns id → file."""
    folder.mkdir(parents=True, exist_ok=True)
    plan = design(spec, scale)
    low, high = scale.range
    names = {d.id: d.name for d in scale.dimensions}
    files: dict[str, Path] = {}
    for k, (persona, g) in enumerate(plan.groupby("persona", sort=True)):
        levels = {str(d): int(v) for d, v in zip(g["dimension"], g["level"], strict=True)}
        labels = {
            dim: {
                "type": "H" if lv > 3 else "L" if lv < 3 else "X",
                "score": low + (lv - 1) / 4 * (high - low),
            }
            for dim, lv in levels.items()
        }
        profile = {
            "id": str(persona),
            "name": NAMES[k % len(NAMES)],
            "source": f"validity study persona ({'graded' if spec.graded else 'two-level'} design)",
            "experimenter": "the interviewer",
            "description": f"{persona_description(levels, names)} {PERSONA_SUFFIX}",
            "labels": {scale.id: labels},
        }
        path = (folder / f"{persona}.yaml").resolve()
        text = yaml.safe_dump(profile, sort_keys=False, allow_unicode=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        files[str(persona)] = path
    return files


def experiment_spec(spec: ValiditySpec, characters: list[str]) -> ExperimentSpec:
    """The ordinary experiment a validity study runs."""
    try:
        return ExperimentSpec(
            name=spec.name,
            characters=characters,
            scales=[spec.scale],
            methods=spec.methods,
            rpa_models=spec.rpa_models,
            assessor_models=spec.assessor_models,
            interviewer_model=spec.interviewer_model,
            temperatures=spec.temperatures,
            trials=spec.trials,
            concurrency=spec.concurrency,
            run_concurrency=spec.run_concurrency,
            database=spec.database,
            endpoints=spec.endpoints,
            context=spec.context,
        )
    except ValidationError as exc:
        raise from_validation_error("validity spec", exc) from None


def normalised_scores(scores: pd.DataFrame, scale: Scale) -> pd.Series:
    """Scores on [−1, 1]: ``2 (x − low) / (high − low) − 1`` with the dimension's bounds."""
    bounds = {d.id: scale.score_bounds(d.id) for d in scale.dimensions}
    lo = scores["dimension"].map(lambda d: bounds[d][0])
    hi = scores["dimension"].map(lambda d: bounds[d][1])
    return 2 * (scores["score"].astype(float) - lo) / (hi - lo) - 1


def recovery(exp_dir: Path, spec: ValiditySpec, scale: Scale, persona_files: dict[str, Path]) -> pd.DataFrame:
    """The recovery table of a finished (or partly finished) study."""
    from personascope import results

    scores = results.load(exp_dir)
    by_file = {str(p): pid for pid, p in persona_files.items()}
    scores = scores[scores["character"].isin(by_file) & (scores["scale"] == scale.id)].copy()
    if scores.empty:
        return pd.DataFrame()
    scores["persona"] = scores["character"].map(by_file)
    scores["measured"] = normalised_scores(scores, scale)
    data = scores.merge(design(spec, scale), on=["persona", "dimension"])
    return recovery_table(data, seed=spec.seed)


def known_groups(exp_dir: Path, scale: Scale) -> pd.DataFrame:
    """Known-groups validity on the shipped characters labelled on the scale."""
    from personascope import results
    from personascope.memories.labels import labels_frame

    scores = results.load(exp_dir)
    scores = scores[scores["character"].isin(builtin_character_ids()) & (scores["scale"] == scale.id)].copy()
    if scores.empty:
        return pd.DataFrame()
    scores["measured"] = normalised_scores(scores, scale)
    keys = ["scale", "method", "rpa_model", "assessor_model", "character", "dimension"]
    means = scores.groupby(keys)["measured"].mean().reset_index()
    return known_groups_table(means, labels_frame(sorted(scores["character"].unique())))


def labelled_characters(scale: Scale) -> list[str]:
    """Shipped characters with labels on ``scale``."""
    return [c for c in builtin_character_ids() if scale.id in load_character(c).labels]


async def run_validity(
    spec: ValiditySpec, exp_dir: str | Path, **inject: Any
) -> tuple[list[RunOutcome], pd.DataFrame]:
    """Run (or resume) the study and write its tables; ``inject`` goes to
    :func:`~personascope.graphs.runner.run_experiment` (e.g. ``rpa=``, ``assessor=``)."""
    exp = Path(exp_dir)
    scale = load_scale(spec.scale)
    if len(scale.dimensions) + 1 > spec.personas and not spec.graded:
        raise InputError(
            "validity spec",
            "personas",
            f"{scale.id} has {len(scale.dimensions)} dimensions: "
            f"expected at least {len(scale.dimensions) + 1} personas (a power of two)",
        )
    persona_files = write_personas(spec, scale, exp / "personas")
    characters = [str(p) for p in persona_files.values()]
    if spec.known_groups:
        characters += labelled_characters(scale)
    outcomes = await run_experiment(experiment_spec(spec, characters), exp, **inject)
    table = write_tables(exp, spec, scale, persona_files)
    return outcomes, table


def write_tables(exp: Path, spec: ValiditySpec, scale: Scale, persona_files: dict[str, Path]) -> pd.DataFrame:
    """``recovery.csv``, ``summary.csv`` and (with known groups) ``known_groups.csv``."""
    out = exp / VALIDITY_DIR
    out.mkdir(parents=True, exist_ok=True)
    table = recovery(exp, spec, scale, persona_files)
    table.to_csv(out / "recovery.csv", index=False)
    if not table.empty:
        summary = table.rename(columns={"pearson": "r", "pearson_lo": "r_lo", "pearson_hi": "r_hi"})
        summary.to_csv(out / SUMMARY_FILE, index=False)
        # Later runs of these configurations anywhere on this machine say how valid they are.
        record_study(summary, f"study in {out}")
    if spec.known_groups:
        known_groups(exp, scale).to_csv(out / "known_groups.csv", index=False)
    (out / "spec.json").write_text(json.dumps(spec.model_dump(mode="json"), indent=2))
    return table
