"""Behaviour test arithmetic (RealBehavior section 4.2): criterion scores and BC.

Pure: the classifiers that label behaviours live in
:mod:`personascope.agents.behavior`; this module only counts and correlates.
"""

from __future__ import annotations

import pandas as pd

from personascope.evaluation.validity import behavioral_consistency


def criterion_scores(labels: pd.DataFrame) -> pd.DataFrame:
    """CrS (RealBehavior Eq. 6): per subject and dimension, the fraction of the subject's
    described behaviours that the dimension's classifier puts at the positive pole.

    ``labels`` has columns ``subject``, ``dimension``, ``occasion``, ``label`` (1 = the
    behaviour of someone high on the dimension, 0 = low).

    >>> df = pd.DataFrame({"subject": ["a"] * 4, "dimension": ["E"] * 4,
    ...                    "occasion": list("wxyz"), "label": [1, 1, 0, 1]})
    >>> criterion_scores(df)["crs"].tolist()
    [0.75]
    """
    out = labels.groupby(["subject", "dimension"])["label"].agg(["mean", "count"]).reset_index()
    return out.rename(columns={"mean": "crs", "count": "n_behaviours"})


def subject_keys(scores: pd.DataFrame) -> pd.Series:
    """The subject of each scale-score row as ``behavior test`` names it:
    ``character|rpa_model|temperature|trial``.

    >>> subject_keys(pd.DataFrame({"character": ["alice"], "rpa_model": ["local"],
    ...                            "temperature": [0.5], "trial": [1]})).tolist()
    ['alice|local|0.5|1']
    """
    temps = scores["temperature"].map(lambda t: f"{t:g}")
    return scores["character"] + "|" + scores["rpa_model"] + "|" + temps + "|" + scores["trial"].astype(str)


def behavioral_consistency_table(scale_scores: pd.DataFrame, crs: pd.DataFrame) -> pd.DataFrame:
    """BC per dimension: Pearson r across subjects between scale score and CrS (RB Eq. 5).

    ``scale_scores``: columns ``subject``, ``dimension``, ``score``; ``crs``: the output
    of :func:`criterion_scores`.
    """
    rows = []
    for dim, g in crs.groupby("dimension"):
        s = scale_scores[scale_scores["dimension"] == dim].groupby("subject")["score"].mean()
        c = g.set_index("subject")["crs"]
        rows.append(
            {
                "dimension": dim,
                "subjects": len(s.index.intersection(c.index)),
                "BC": behavioral_consistency(s, c),
            }
        )
    return pd.DataFrame(rows, columns=["dimension", "subjects", "BC"])
