"""How good the measurement is: alignment, reliability, validity, behaviour test, reports.

Pure: numpy, scipy, pandas and pydantic only (no LLM library). The report module
(matplotlib) is not imported here.
"""

from personascope.evaluation.alignment import (
    GROUP_COLUMNS,
    PDB_SCALES,
    REPEAT_COLUMNS,
    Alignment,
    alignment_by_run,
    assessor_agreement,
    incharacter_labels,
    measured_alignment,
    personality_consistency,
    predicted_type,
)
from personascope.evaluation.behavior import (
    behavioral_consistency_table,
    criterion_scores,
    subject_keys,
)
from personascope.evaluation.consistency import consistency_table, std_dim, std_item, std_score
from personascope.evaluation.faithfulness import (
    REALBEHAVIOR_HUMAN_ALPHA,
    REALBEHAVIOR_HUMAN_ALPHA_SOURCE,
    faithfulness_table,
    keyed_item_matrix,
)
from personascope.evaluation.reliability import (
    ReliabilityWarning,
    alpha_if_deleted,
    cronbach_alpha,
    icc,
    internal_consistency,
    item_audit,
    krippendorff_alpha,
    majority_vote,
    mcdonald_omega,
    mean_repeat_correlation,
    repeat_alpha,
    test_retest_by_subject,
    test_retest_consistency,
)
from personascope.evaluation.units import (
    dimension_bounds,
    dimension_info,
    dimension_midpoint,
    label_bounds,
    scale_units,
    scores_in_label_units,
    to_label_units,
)
from personascope.evaluation.validity import (
    BIG_FIVE_CONSTRUCTS,
    CONSTRUCT_MAP,
    behavioral_consistency,
    construct_pairs,
    external_consistency,
    external_consistency_table,
    norm_table,
)

__all__ = [
    "BIG_FIVE_CONSTRUCTS",
    "CONSTRUCT_MAP",
    "GROUP_COLUMNS",
    "PDB_SCALES",
    "REALBEHAVIOR_HUMAN_ALPHA",
    "REALBEHAVIOR_HUMAN_ALPHA_SOURCE",
    "REPEAT_COLUMNS",
    "Alignment",
    "ReliabilityWarning",
    "alignment_by_run",
    "alpha_if_deleted",
    "assessor_agreement",
    "behavioral_consistency",
    "behavioral_consistency_table",
    "consistency_table",
    "construct_pairs",
    "criterion_scores",
    "cronbach_alpha",
    "dimension_bounds",
    "dimension_info",
    "dimension_midpoint",
    "external_consistency",
    "external_consistency_table",
    "faithfulness_table",
    "icc",
    "incharacter_labels",
    "internal_consistency",
    "item_audit",
    "keyed_item_matrix",
    "krippendorff_alpha",
    "label_bounds",
    "majority_vote",
    "mcdonald_omega",
    "mean_repeat_correlation",
    "measured_alignment",
    "norm_table",
    "personality_consistency",
    "predicted_type",
    "repeat_alpha",
    "scale_units",
    "scores_in_label_units",
    "std_dim",
    "std_item",
    "std_score",
    "subject_keys",
    "test_retest_by_subject",
    "test_retest_consistency",
    "to_label_units",
]
