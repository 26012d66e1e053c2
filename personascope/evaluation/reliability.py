"""Reliability: internal consistency, test-retest, agreement between raters.

Every function is pure (arrays / DataFrames in, numbers out) and documents its
formula and reference. Undefined results are ``nan`` with a
:class:`ReliabilityWarning` naming the reason, never a silently wrong number.
"""

from __future__ import annotations

import itertools
import warnings
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

NanPolicy = Literal["listwise", "pairwise", "median"]


class ReliabilityWarning(UserWarning):
    """A reliability statistic is undefined for the given data (the result is nan)."""


def _nan(reason: str) -> float:
    warnings.warn(reason, ReliabilityWarning, stacklevel=3)
    return float("nan")


def _frame(data: ArrayLike | pd.DataFrame) -> pd.DataFrame:
    df = data if isinstance(data, pd.DataFrame) else pd.DataFrame(np.asarray(data, dtype=float))
    return df.astype(float)


def cronbach_alpha(data: ArrayLike | pd.DataFrame, nan_policy: NanPolicy = "pairwise") -> float:
    """Cronbach's alpha of a respondents × items matrix (items already reverse-keyed).

    .. math:: \\alpha = \\frac{k}{k-1}\\left(1 - \\frac{\\operatorname{tr} C}{\\sum_{ij} C_{ij}}\\right)

    where ``C`` is the items' sample covariance matrix (``ddof = 1``) and ``k`` the
    number of items; equivalently ``k/(k-1) (1 - Σ var_i / var_total)``.

    Missing data: ``"listwise"`` drops respondents with any missing item;
    ``"pairwise"`` builds ``C`` from pairwise-complete observations (pingouin's
    default); ``"median"`` replaces a missing answer by its item's median (R psych
    ``alpha(impute="median")``).

    Reference: Cronbach, L. J. (1951). Coefficient alpha and the internal structure
    of tests. Psychometrika, 16, 297-334.

    By hand: item variances 10/3, 5/3, 5/3; totals 5, 8, 13, 14 have variance 18;
    alpha = 3/2 * (1 - (20/3) / 18) = 17/18.

    >>> round(cronbach_alpha([[1, 2, 2], [2, 3, 3], [4, 4, 5], [5, 5, 4]]), 4)
    0.9444
    """
    df = _frame(data)
    if nan_policy == "listwise":
        df = df.dropna(axis=0, how="any")
    elif nan_policy == "median":
        df = df.fillna(df.median())
    elif nan_policy != "pairwise":
        raise ValueError(f"nan_policy: expected 'listwise', 'pairwise' or 'median', got {nan_policy!r}")
    k = df.shape[1]
    if k < 2:
        return _nan("cronbach_alpha: needs at least 2 items")
    if df.shape[0] < 2:
        return _nan("cronbach_alpha: needs at least 2 complete respondents")
    cov = df.cov().to_numpy()
    total = float(cov.sum())
    if not np.isfinite(total) or total <= 0:
        return _nan("cronbach_alpha: total score has zero variance (constant items)")
    return float(k / (k - 1) * (1 - np.trace(cov) / total))


def alpha_if_deleted(data: ArrayLike | pd.DataFrame, nan_policy: NanPolicy = "pairwise") -> pd.Series:
    """Cronbach's alpha of the scale without each item in turn.

    Without the first item: variances 5/3, 5/3, covariance 4/3, so
    alpha = 2 * (1 - (10/3) / 6) = 8/9.

    >>> alpha_if_deleted([[1, 2, 2], [2, 3, 3], [4, 4, 5], [5, 5, 4]]).round(4).tolist()
    [0.8889, 0.8889, 0.9655]
    """
    df = _frame(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReliabilityWarning)
        return pd.Series({c: cronbach_alpha(df.drop(columns=c), nan_policy) for c in df.columns})


def item_audit(data: ArrayLike | pd.DataFrame, flag_below: float = 0.0) -> pd.DataFrame:
    """Corrected item-total correlations and alpha-if-deleted, flagging suspect items.

    The corrected item-total correlation of item ``j`` is Pearson's r between the
    item and the sum of the *other* items (pairwise complete). An item whose
    corrected correlation is below ``flag_below`` (default 0: it runs against the
    rest of the scale) behaves as if mis-keyed and is flagged.

    Reference: Nunnally, J. C. & Bernstein, I. H. (1994). Psychometric Theory, ch. 8.

    >>> audit = item_audit([[1, 1, 2, 1, 5], [2, 2, 2, 3, 4], [3, 3, 4, 3, 3],
    ...                     [4, 5, 4, 4, 2], [5, 4, 5, 5, 1]])   # last item keyed the wrong way
    >>> audit["flag_miskeyed"].tolist()
    [False, False, False, False, True]
    """
    df = _frame(data)
    rows = []
    deleted = alpha_if_deleted(df)
    for col in df.columns:
        rest = df.drop(columns=col).sum(axis=1, min_count=1)
        pair = pd.concat([df[col], rest], axis=1).dropna()
        r = float(pair.iloc[:, 0].corr(pair.iloc[:, 1])) if len(pair) > 2 else float("nan")
        rows.append(
            {
                "item": col,
                "corrected_item_total_r": r,
                "alpha_if_deleted": deleted[col],
                "flag_miskeyed": bool(np.isfinite(r) and r < flag_below),
            }
        )
    return pd.DataFrame(rows).set_index("item")


def mcdonald_omega(data: ArrayLike | pd.DataFrame, max_iter: int = 500, tol: float = 1e-9) -> float:
    """McDonald's omega (total) from a one-factor model of the item correlations.

    Loadings ``λ`` come from iterated principal-axis factoring of the correlation
    matrix ``R`` (communalities start at the squared multiple correlations). Then

    .. math:: \\omega = \\frac{(\\sum_j \\lambda_j)^2}{(\\sum_j \\lambda_j)^2 + \\sum_j (1 - \\lambda_j^2)}

    Returns nan (with a warning) when one factor does not fit: a Heywood case
    (a communality ≥ 1) or no convergence. Listwise deletion of missing rows.

    Reference: McDonald, R. P. (1999). Test Theory: A Unified Treatment, ch. 6.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> f = rng.normal(size=(500, 1))
    >>> 0.8 < mcdonald_omega(f + rng.normal(scale=0.6, size=(500, 4))) < 0.95
    True
    """
    df = _frame(data).dropna()
    if df.shape[1] < 3:
        return _nan("mcdonald_omega: a one-factor model needs at least 3 items")
    if (df.std(ddof=1) == 0).any():
        return _nan("mcdonald_omega: constant items have no correlation")
    if df.shape[0] <= df.shape[1]:
        return _nan(
            f"mcdonald_omega: {df.shape[0]} complete respondents for {df.shape[1]} items; "
            "a factor model needs more respondents than items"
        )
    r = np.corrcoef(df.to_numpy(), rowvar=False)
    if not np.all(np.isfinite(r)):
        return _nan("mcdonald_omega: the correlation matrix is undefined")
    try:
        h2 = 1 - 1 / np.diag(np.linalg.inv(r))
    except np.linalg.LinAlgError:
        h2 = np.full(r.shape[0], 0.5)
    loadings = np.zeros(r.shape[0])
    for _ in range(max_iter):
        reduced = r.copy()
        np.fill_diagonal(reduced, h2)
        try:
            vals, vecs = np.linalg.eigh(reduced)
        except np.linalg.LinAlgError:
            return _nan("mcdonald_omega: the factor solution did not converge")
        loadings = vecs[:, -1] * np.sqrt(max(vals[-1], 0.0))
        new_h2 = loadings**2
        if np.max(np.abs(new_h2 - h2)) < tol:
            h2 = new_h2
            break
        h2 = new_h2
    else:
        return _nan("mcdonald_omega: one-factor solution did not converge")
    if np.any(h2 >= 1):
        return _nan("mcdonald_omega: Heywood case (communality >= 1): one factor does not fit")
    if loadings.sum() < 0:
        loadings = -loadings
    common = loadings.sum() ** 2
    return float(common / (common + np.sum(1 - loadings**2)))


def _anova_two_way(x: NDArray[np.float64]) -> tuple[float, float, float, int, int]:
    n, k = x.shape
    grand = x.mean()
    ss_rows = k * np.sum((x.mean(axis=1) - grand) ** 2)
    ss_cols = n * np.sum((x.mean(axis=0) - grand) ** 2)
    ss_err = np.sum((x - grand) ** 2) - ss_rows - ss_cols
    msr = ss_rows / (n - 1)
    msc = ss_cols / (k - 1)
    mse = ss_err / ((n - 1) * (k - 1))
    return float(msr), float(msc), float(mse), n, k


def icc(data: ArrayLike | pd.DataFrame, kind: Literal["ICC2", "ICC3"] = "ICC2") -> float:
    """Intraclass correlation of a targets × raters (or × repetitions) matrix.

    With the two-way ANOVA mean squares for targets ``MSR``, raters ``MSC`` and
    error ``MSE`` (``n`` targets, ``k`` raters):

    * ``ICC2`` = ICC(2,1), two-way random, absolute agreement, single rating:
      ``(MSR − MSE) / (MSR + (k−1) MSE + k (MSC − MSE) / n)``
    * ``ICC3`` = ICC(3,1), two-way mixed, consistency, single rating:
      ``(MSR − MSE) / (MSR + (k−1) MSE)``

    Rows with a missing value are dropped. Reference: Shrout, P. E. & Fleiss, J. L.
    (1979). Intraclass correlations: uses in assessing rater reliability.
    Psychological Bulletin, 86, 420-428.
    """
    x = _frame(data).dropna().to_numpy()
    if x.shape[0] < 2 or x.shape[1] < 2:
        return _nan("icc: needs at least 2 complete targets and 2 raters")
    msr, msc, mse, n, k = _anova_two_way(x)
    if kind == "ICC2":
        den = msr + (k - 1) * mse + k * (msc - mse) / n
    elif kind == "ICC3":
        den = msr + (k - 1) * mse
    else:
        raise ValueError(f"kind: expected 'ICC2' or 'ICC3', got {kind!r}")
    if den == 0:
        return _nan("icc: no variance at all")
    return float((msr - mse) / den)


def mean_repeat_correlation(data: ArrayLike | pd.DataFrame) -> float:
    """Mean pairwise Pearson r between the columns (repeats) of one observations × repeats matrix.

    .. math:: \\bar r = \\frac{2}{m(m-1)} \\sum_{u<v} r(x_u, x_v)

    ``data`` is observations × repetitions (e.g. one subject's item responses in each
    of ``m`` repeated runs). Pairs are computed on pairwise-complete observations; a
    pair with a constant repetition has no correlation and makes the result nan. This
    is one subject's term of :func:`test_retest_consistency`.

    By hand: columns (1, 2, 3, 4) and (1, 3, 2, 4): r = 0.8.

    >>> round(mean_repeat_correlation([[1, 1], [2, 3], [3, 2], [4, 4]]), 6)
    0.8
    """
    df = _frame(data)
    m = df.shape[1]
    if m < 2:
        return _nan("mean_repeat_correlation: a single repetition has no test-retest")
    rs = []
    for a, b in itertools.combinations(df.columns, 2):
        pair = df[[a, b]].dropna()
        if len(pair) < 3 or pair[a].std() == 0 or pair[b].std() == 0:
            return _nan(f"mean_repeat_correlation: repetitions {a!r}, {b!r} are constant or too short")
        rs.append(float(np.corrcoef(pair[a], pair[b])[0, 1]))
    return float(np.mean(rs))


RESPONSE_COLUMNS = ("subject", "repeat", "item", "value")


def _responses(responses: pd.DataFrame, what: str) -> pd.DataFrame:
    if not isinstance(responses, pd.DataFrame):
        raise TypeError(
            f"{what}: expected a long DataFrame with columns {list(RESPONSE_COLUMNS)}; "
            "for one observations × repeats matrix use mean_repeat_correlation"
        )
    missing = [c for c in RESPONSE_COLUMNS if c not in responses.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {missing} (expected {list(RESPONSE_COLUMNS)})")
    dup = responses.duplicated(["subject", "repeat", "item"], keep=False)
    if dup.any():
        raise ValueError(
            f"{what}: several values for one (subject, repeat, item), e.g. "
            f"{responses.loc[dup, ['subject', 'repeat', 'item']].head(2).values.tolist()}"
        )
    return responses


def test_retest_by_subject(responses: pd.DataFrame) -> pd.Series:
    """Each subject's TrC term: the mean Pearson r between its repeats over pairs ``u < v``.

    ``responses`` as for :func:`test_retest_consistency`. Returns a Series indexed by
    subject (nan, with a warning, for a subject with fewer than 2 repeats or a constant
    repeat).

    >>> df = pd.DataFrame({"subject": "s", "repeat": [0] * 4 + [1] * 4, "item": list("abcd") * 2,
    ...                    "value": [1, 2, 3, 4, 1, 3, 2, 4]})
    >>> test_retest_by_subject(df).round(6).to_dict()
    {'s': 0.8}
    """
    df = _responses(responses, "test_retest_by_subject")
    out = {}
    for subject, g in df.groupby("subject", sort=True):
        matrix = g.pivot(index="item", columns="repeat", values="value")
        out[subject] = mean_repeat_correlation(matrix)
    return pd.Series(out, name="TrC", dtype=float)


def test_retest_consistency(responses: pd.DataFrame) -> float:
    """TrC: test-retest consistency (RealBehavior §3.1, Eq. 2), per subject then averaged.

    A subject ``s`` is one model or RPA under one condition (e.g. at one temperature);
    its repeats ``u = 1..m_s`` are its trials, each giving a response vector ``x_{s,u}``
    over the items. With ``r`` Pearson's correlation over the items answered in both
    repeats and ``S`` the subjects:

    .. math:: \\mathrm{TrC} = \\frac{1}{|S|} \\sum_{s \\in S} \\frac{2}{m_s(m_s-1)}
              \\sum_{u<v} r(x_{s,u}, x_{s,v})

    Unordered pairs ``u < v`` are used (``r`` is symmetric; ordered pairs give the same
    mean, and self-pairs ``u = v`` are left out because ``r(x, x) = 1`` says nothing
    about reproducibility). The literal text of RealBehavior's Eq. 2 could not be
    consulted when this was written, so no "literal" variant is offered: this is the
    definition the paper's §3.1 describes in words (correlation between repeated
    measurements of the same subject, averaged).

    Responses of different subjects are never correlated with each other, so mixing
    models, assessors or temperatures in one frame cannot lower the number: make each
    condition its own subject (e.g. ``subject = model|temperature``). Subjects whose TrC
    is undefined (fewer than 2 repeats, a constant repeat) are left out with a
    :class:`ReliabilityWarning`; if none is defined the result is nan.

    Parameters
    ----------
    responses : long DataFrame with columns ``subject``, ``repeat``, ``item``, ``value``
        (one value per subject, repeat and item; reverse-keyed or not, as long as every
        repeat is treated alike). Filter to one dimension for a per-dimension TrC.

    By hand: two subjects that repeat themselves exactly have TrC = 1 each, so TrC = 1
    (pooling their four runs in one matrix would have given a lower number).

    >>> df = pd.DataFrame({"subject": ["a"] * 6 + ["b"] * 6, "repeat": [0, 0, 0, 1, 1, 1] * 2,
    ...                    "item": list("xyz") * 4, "value": [1, 2, 3, 1, 2, 3, 5, 3, 4, 5, 3, 4]})
    >>> test_retest_consistency(df)
    1.0

    References
    ----------
    Zhou, E. et al. (2023). RealBehavior: A Framework for Faithfully Characterizing
    Foundation Models' Human-like Behavior Mechanisms. Findings of EMNLP 2023, §3.1.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ReliabilityWarning)
        per_subject = test_retest_by_subject(responses)
    defined = per_subject.dropna()
    if len(defined) < len(per_subject):
        reasons = sorted({str(w.message) for w in caught})[:3]
        warnings.warn(
            f"test_retest_consistency: {len(per_subject) - len(defined)} of {len(per_subject)} subject(s) "
            f"have no TrC and were left out: {reasons}",
            ReliabilityWarning,
            stacklevel=2,
        )
    if defined.empty:
        return float("nan")
    return float(defined.mean())


def majority_vote(responses: pd.DataFrame) -> pd.DataFrame:
    """Each subject's answer to each item by majority vote over its repeats (RealBehavior §3.2).

    Returns columns ``subject``, ``item``, ``value``, ``votes`` (how many repeats gave
    the winning value) and ``repeats`` (how many answered). RealBehavior does not say
    how a tie is broken; here the tied values are averaged (e.g. 2, 2, 4, 4 → 3), which
    favours neither pole. Missing answers do not vote; an item nobody answered is left out.

    >>> df = pd.DataFrame({"subject": "s", "repeat": [0, 1, 2, 0, 1, 2], "item": list("aaabbb"),
    ...                    "value": [4, 4, 2, 1, 5, None]})
    >>> majority_vote(df)[["item", "value", "votes"]].values.tolist()
    [['a', 4.0, 2], ['b', 3.0, 1]]
    """
    df = _responses(responses, "majority_vote").dropna(subset=["value"])
    rows = []
    for (subject, item), g in df.groupby(["subject", "item"], sort=True):
        counts = g["value"].astype(float).value_counts()
        top = counts[counts == counts.max()]
        rows.append(
            {
                "subject": subject,
                "item": item,
                "value": float(np.mean(top.index.to_numpy(dtype=float))),
                "votes": int(counts.max()),
                "repeats": len(g),
            }
        )
    return pd.DataFrame(rows, columns=["subject", "item", "value", "votes", "repeats"])


def internal_consistency(responses: pd.DataFrame, nan_policy: NanPolicy = "pairwise") -> float:
    """InC: Cronbach's α across subjects of their majority-vote answers (RealBehavior §3.2).

    The respondents are the subjects (models × conditions, e.g. temperatures), as human
    respondents are in a norm sample; each subject's answer to an item is the majority
    vote over its repeats (:func:`majority_vote`). Then :func:`cronbach_alpha` of the
    subjects × items matrix:

    .. math:: \\alpha = \\frac{k}{k-1}\\left(1 - \\frac{\\sum_i \\sigma^2_i}{\\sigma^2_{total}}\\right)

    ``responses`` as for :func:`test_retest_consistency`, with the items of one
    dimension, **already reverse-keyed**. α over one agent's own repeats is a different
    number: :func:`repeat_alpha`.

    By hand: the votes give subjects × items [[1, 2], [2, 3], [4, 4]]; item variances
    7/3 and 1, totals 3, 5, 8 with variance 19/3: α = 2 (1 − (10/3) / (19/3)) = 18/19.

    >>> df = pd.DataFrame({"subject": list("aabbcc") * 2, "repeat": [0, 1] * 6,
    ...                    "item": ["i"] * 6 + ["j"] * 6,
    ...                    "value": [1, 1, 2, 2, 4, 4, 2, 2, 3, 3, 4, 4]})
    >>> round(internal_consistency(df), 4)
    0.9474
    """
    votes = majority_vote(responses)
    matrix = votes.pivot(index="subject", columns="item", values="value")
    return cronbach_alpha(matrix, nan_policy)


def repeat_alpha(responses: pd.DataFrame, nan_policy: NanPolicy = "pairwise") -> pd.Series:
    """Cronbach's α of each subject over its own repeats (repeats as respondents).

    Not RealBehavior's InC (see :func:`internal_consistency`): it says whether one
    agent's items hang together across its reruns. Returns a Series indexed by subject.

    By hand: the repeats × items matrix is the one of :func:`cronbach_alpha`'s example
    (rows (1, 2, 2), (2, 3, 3), (4, 4, 5), (5, 5, 4)): α = 17/18.

    >>> df = pd.DataFrame({"subject": "s", "repeat": [0, 1, 2, 3] * 3,
    ...                    "item": ["a"] * 4 + ["b"] * 4 + ["c"] * 4,
    ...                    "value": [1, 2, 4, 5, 2, 3, 4, 5, 2, 3, 5, 4]})
    >>> round(float(repeat_alpha(df)["s"]), 4)
    0.9444
    """
    df = _responses(responses, "repeat_alpha")
    out = {}
    for subject, g in df.groupby("subject", sort=True):
        out[subject] = cronbach_alpha(g.pivot(index="repeat", columns="item", values="value"), nan_policy)
    return pd.Series(out, name="alpha_over_repeats", dtype=float)


Level = Literal["nominal", "ordinal", "interval", "ratio"]


def krippendorff_alpha(data: ArrayLike | pd.DataFrame, level: Level = "interval") -> float:
    """Krippendorff's alpha of a raters × units matrix (nan = no rating).

    .. math:: \\alpha = 1 - (n - 1) \\frac{\\sum_{c,k} o_{ck}\\, \\delta^2_{ck}}
                                         {\\sum_{c,k} n_c n_k\\, \\delta^2_{ck}}

    with the coincidence matrix ``o`` over pairable values (units rated by ≥ 2
    raters), value totals ``n_c`` and ``n = Σ n_c``; ``δ²`` is the metric of the
    level: nominal ``[c ≠ k]``, interval ``(c − k)²``, ratio ``((c − k)/(c + k))²``,
    ordinal ``(Σ_{g=c..k} n_g − (n_c + n_k)/2)²``.

    Reference: Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability.

    >>> krippendorff_alpha([[1, 2, 3, 4], [1, 2, 3, 4]])
    1.0
    >>> round(krippendorff_alpha([[1, 2, 1, 2], [2, 1, 2, 1]], "nominal"), 6)
    -0.75
    """
    x = np.asarray(data, dtype=float)
    values = np.unique(x[~np.isnan(x)])
    if len(values) < 2:
        return _nan("krippendorff_alpha: fewer than 2 distinct values")
    index = {v: i for i, v in enumerate(values)}
    o = np.zeros((len(values), len(values)))
    for unit in x.T:
        rated = unit[~np.isnan(unit)]
        m_u = len(rated)
        if m_u < 2:
            continue
        for i, j in itertools.permutations(range(m_u), 2):
            o[index[rated[i]], index[rated[j]]] += 1.0 / (m_u - 1)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    if n <= 1:
        return _nan("krippendorff_alpha: no unit has two ratings")
    c, k = np.meshgrid(values, values, indexing="ij")
    if level == "nominal":
        d2 = (c != k).astype(float)
    elif level == "interval":
        d2 = (c - k) ** 2
    elif level == "ratio":
        with np.errstate(invalid="ignore", divide="ignore"):
            d2 = np.nan_to_num(((c - k) / (c + k)) ** 2)
    elif level == "ordinal":
        cum = np.cumsum(n_c)
        d2 = np.zeros_like(o)
        for a in range(len(values)):
            for b in range(len(values)):
                lo, hi = min(a, b), max(a, b)
                d2[a, b] = (cum[hi] - (cum[lo - 1] if lo > 0 else 0) - (n_c[a] + n_c[b]) / 2) ** 2
    else:
        raise ValueError(f"level: expected nominal, ordinal, interval or ratio, got {level!r}")
    expected = float(np.sum(np.outer(n_c, n_c) * d2))
    if expected == 0:
        return _nan("krippendorff_alpha: no expected disagreement")
    return float(1 - (n - 1) * np.sum(o * d2) / expected)


# Their names (fixed by ARCHITECTURE.md) start with "test_": keep pytest from collecting them.
test_retest_consistency.__test__ = False  # type: ignore[attr-defined]
test_retest_by_subject.__test__ = False  # type: ignore[attr-defined]
