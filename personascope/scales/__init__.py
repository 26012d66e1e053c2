"""What is measured: scale schema, built-in scales, importers and scoring.

Pure: depends on pydantic, numpy, scipy and PyYAML only (no LLM library).

>>> from personascope.scales import load_scale
>>> scale = load_scale("ipip-bfm-50")
>>> len(scale.items), [d.id for d in scale.dimensions][:2]
(50, ['extraversion', 'agreeableness'])
"""

from personascope.scales.loader import (
    builtin_scale_ids,
    list_scales,
    load_scale,
    load_scales_from_dir,
    load_scales_from_file,
)
from personascope.scales.schema import (
    Dimension,
    Item,
    Norm,
    Pole,
    ReferenceAlpha,
    ResponseOption,
    Scale,
    ScoringMode,
)
from personascope.scales.scoring import (
    DimensionScore,
    NormScore,
    ScaleScores,
    ScoringError,
    classify_type,
    reverse_key,
    score_scale,
)

__all__ = [
    "Dimension",
    "DimensionScore",
    "Item",
    "Norm",
    "NormScore",
    "Pole",
    "ReferenceAlpha",
    "ResponseOption",
    "Scale",
    "ScaleScores",
    "ScoringError",
    "ScoringMode",
    "builtin_scale_ids",
    "classify_type",
    "list_scales",
    "load_scale",
    "load_scales_from_dir",
    "load_scales_from_file",
    "reverse_key",
    "score_scale",
]
