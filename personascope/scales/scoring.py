"""Scoring of scale answers: reverse keying, dimension scores, types, norms.

Pure functions (no LLM, no I/O). Every rule that decides a published number lives
here, so it is tested once and used everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict
from scipy.stats import norm as _normal

from personascope.errors import PersonascopeError
from personascope.scales.schema import Item, Norm, Scale, ScoringMode

TypeLabel = Literal["H", "L", "X"]


class ScoringError(PersonascopeError, ValueError):
    """Answers that cannot be scored (unknown item, value outside the range or options)."""


class NormScore(BaseModel):
    """A dimension score placed against one human norm."""

    model_config = ConfigDict(frozen=True)

    population: str
    source: str
    z: float
    t: float
    percentile: float


class DimensionScore(BaseModel):
    """Score of one dimension with everything needed to audit it.

    ``score`` is ``None`` when too many items are missing: never a midpoint.
    ``item_mean`` is the mean of keyed item scores whatever the scoring mode.
    ``prorated`` says a SUM score was extrapolated from the answered items.
    """

    model_config = ConfigDict(frozen=True)

    dimension: str
    score: float | None
    item_mean: float | None
    n_items: int
    n_answered: int
    missing: list[str]
    prorated: bool
    type: TypeLabel | None
    norms: list[NormScore]
    n_failed: int = 0
    batch_scores: list[float] = []
    score_sd: float | None = None
    confidence: float | None = None


class ScaleScores(BaseModel):
    """Scores of every dimension of a scale for one set of answers."""

    model_config = ConfigDict(frozen=True)

    scale: str
    scoring: ScoringMode
    dimensions: dict[str, DimensionScore]

    def as_dict(self) -> dict[str, float | None]:
        """``{dimension: score}``, ``None`` for missing scores."""
        return {k: v.score for k, v in self.dimensions.items()}


def reverse_key(value: float, low: float, high: float) -> float:
    """Reverse-key an answer: ``x' = min + max - x``.

    >>> reverse_key(1, 1, 5)
    5
    >>> reverse_key(0, 0, 3)
    3
    """
    return low + high - value


def keyed_value(item: Item, value: float, low: float, high: float) -> float:
    """The item's contribution after keying: unchanged for ``+``, reversed for ``-``."""
    return value if item.key == "+" else reverse_key(value, low, high)


def aggregate(
    keyed: list[float], n_items: int, mode: ScoringMode, low: float, high: float
) -> tuple[float, bool]:
    """Dimension score from keyed item scores.

    AVG: ``mean(x)``. SUM: ``sum(x)``, or, when some items are missing, the
    prorated sum ``mean(x) * n_items`` (the usual person-mean imputation, flagged).
    PERCENT: ``(mean(x) - min) / (max - min) * 100`` (InCharacter's 16P conversion).

    >>> aggregate([4.0, 2.0], 2, ScoringMode.SUM, 1, 5)
    (6.0, False)
    >>> aggregate([4.0, 2.0], 3, ScoringMode.SUM, 1, 5)
    (9.0, True)
    >>> aggregate([7.0, 4.0], 2, ScoringMode.PERCENT, 1, 7)
    (75.0, False)
    """
    if not keyed:
        raise ScoringError("aggregate: no answered items")
    mean = math.fsum(keyed) / len(keyed)
    if mode is ScoringMode.AVG:
        return mean, False
    if mode is ScoringMode.SUM:
        if len(keyed) == n_items:
            return math.fsum(keyed), False
        return mean * n_items, True
    return (mean - low) / (high - low) * 100.0, False


def classify_type(score: float, low: float, high: float, band: float = 0.0) -> TypeLabel:
    """H/L/X type of a score on ``[low, high]``.

    ``mid = (low + high) / 2``; H if ``score > mid + band * (high - low)``, L if
    ``score < mid - band * (high - low)``, else X (the marginal band). With
    ``band = 0`` only a score exactly at the midpoint is X. (InCharacter's code calls
    a tie L; a score on the midpoint has no direction, so we say X.)

    >>> classify_type(3.4, 1, 5)
    'H'
    >>> classify_type(3.4, 1, 5, band=0.125)
    'X'
    >>> classify_type(20.0, 0, 100)
    'L'
    """
    if band < 0 or band >= 0.5:
        raise ValueError(f"band: expected 0 <= band < 0.5 (a fraction of the span), got {band}")
    mid = (low + high) / 2
    margin = band * (high - low)
    if score > mid + margin:
        return "H"
    if score < mid - margin:
        return "L"
    return "X"


def norm_score(
    score: float, norm: Norm, *, n_items: int, low: float, high: float, mode: ScoringMode
) -> NormScore:
    """z, T and percentile of ``score`` against a human norm.

    ``z = (x - mean) / sd``, ``T = 50 + 10 z``, percentile ``= 100 * Phi(z)`` (normal
    approximation of the population distribution). When the norm is given in a
    different unit than the scale's score (item mean vs sum vs percent), the score
    is first converted linearly into the norm's unit.
    """
    x = convert_score(score, mode, norm.metric, n_items=n_items, low=low, high=high)
    z = (x - norm.mean) / norm.sd
    return NormScore(
        population=norm.population,
        source=norm.source,
        z=z,
        t=50.0 + 10.0 * z,
        percentile=float(100.0 * _normal.cdf(z)),
    )


def convert_score(
    score: float, src: ScoringMode, dst: ScoringMode, *, n_items: int, low: float, high: float
) -> float:
    """Convert a dimension score between item-mean, sum and percent units.

    >>> convert_score(3.0, ScoringMode.AVG, ScoringMode.SUM, n_items=10, low=1, high=5)
    30.0
    >>> convert_score(50.0, ScoringMode.PERCENT, ScoringMode.AVG, n_items=4, low=1, high=7)
    4.0
    """
    if src is dst:
        return float(score)
    if src is ScoringMode.SUM:
        mean = score / n_items
    elif src is ScoringMode.PERCENT:
        mean = low + score / 100.0 * (high - low)
    else:
        mean = score
    if dst is ScoringMode.SUM:
        return float(mean * n_items)
    if dst is ScoringMode.PERCENT:
        return float((mean - low) / (high - low) * 100.0)
    return float(mean)


def score_scale(
    scale: Scale,
    answers: Mapping[str, float | None],
    *,
    max_missing: float = 0.2,
    band: float = 0.0,
    options_only: bool = True,
    failed: Mapping[str, int] | None = None,
    distributions: Mapping[str, OptionDistribution] | None = None,
) -> ScaleScores:
    """Score answers to ``scale``.

    Rules: each answer must belong to a scored item and be one of the scale's
    response options (any value inside the range when ``options_only`` is false, e.g.
    probability-weighted means; filler items are accepted and ignored); ``None`` or
    an absent item is missing.
    Negative-keyed items are reversed (``min + max - x``); the dimension score
    follows the scale's scoring mode (:func:`aggregate`). A dimension whose missing
    fraction exceeds ``max_missing`` gets ``score=None`` and is reported with the
    ids of its missing items; it is never imputed with a midpoint.

    Parameters
    ----------
    scale : Scale
    answers : mapping of item id to answer value (``None`` for missing)
    max_missing : float
        Largest tolerated fraction of missing items per dimension (0 = all required).
    band : float
        Half-width of the marginal X band as a fraction of the score span.
    options_only : bool
        Refuse values that are not response options (default).
    failed : mapping of dimension id to the number of failed items, for the record
    distributions : item id → the assessor's distribution over the options, when known.
        Then ``score_sd`` is the score's standard deviation implied by them (items taken
        as independent; reverse keying leaves a variance unchanged): ``√Σ Var_i / n`` for
        AVG, ``√Σ Var_i`` for SUM (times ``n / answered`` when prorated), and the AVG
        value ``· 100 / (max − min)`` for PERCENT; ``confidence`` is the mean item
        confidence (:func:`option_distribution`).
    """
    if not 0.0 <= max_missing < 1.0:
        raise ValueError(f"max_missing: expected 0 <= max_missing < 1, got {max_missing}")
    low, high = scale.range
    items = scale.item_map
    options = {float(o.value) for o in scale.response_options}
    fillers = {f.id for f in scale.fillers}
    for item_id, value in answers.items():
        if item_id not in items:
            if item_id in fillers:
                continue
            raise ScoringError(f"answers[{item_id}]: not an item of scale {scale.id!r}")
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise ScoringError(f"answers[{item_id}]: expected a number or null, got {value!r}")
        if not low <= value <= high:
            raise ScoringError(f"answers[{item_id}]: {value} is outside the scale range [{low}, {high}]")
        if options_only and value not in options:
            raise ScoringError(
                f"answers[{item_id}]: {value:g} is not a response option (expected one of "
                f"{', '.join(f'{o:g}' for o in sorted(options))})"
            )

    dimensions: dict[str, DimensionScore] = {}
    for dim in scale.dimensions:
        dim_items = scale.items_of(dim.id)
        keyed: list[float] = []
        missing: list[str] = []
        for item in dim_items:
            value = answers.get(item.id)
            if value is None:
                missing.append(item.id)
            else:
                keyed.append(keyed_value(item, float(value), low, high))
        n = len(dim_items)
        enough = bool(keyed) and len(missing) / n <= max_missing + 1e-12
        score: float | None = None
        item_mean: float | None = math.fsum(keyed) / len(keyed) if keyed else None
        prorated = False
        if enough:
            score, prorated = aggregate(keyed, n, scale.scoring, low, high)
        known = [distributions[i.id] for i in dim_items if distributions and i.id in distributions]
        score_sd = confidence = None
        if score is not None and known and len(known) == len(keyed):
            sd = math.sqrt(math.fsum(d.variance for d in known))
            if scale.scoring is ScoringMode.SUM:
                score_sd = sd * (n / len(keyed) if prorated else 1.0)
            else:
                score_sd = (
                    sd / len(keyed) * (100.0 / (high - low) if scale.scoring is ScoringMode.PERCENT else 1.0)
                )
            confidence = math.fsum(d.confidence for d in known) / len(known)
        dimensions[dim.id] = _dimension_score(
            scale,
            dim.id,
            score,
            item_mean=item_mean,
            n_answered=len(keyed),
            missing=missing,
            prorated=prorated,
            band=band,
            n_failed=(failed or {}).get(dim.id, 0),
            score_sd=score_sd,
            confidence=confidence,
        )
    return ScaleScores(scale=scale.id, scoring=scale.scoring, dimensions=dimensions)


def _dimension_score(
    scale: Scale,
    dimension: str,
    score: float | None,
    *,
    item_mean: float | None,
    n_answered: int,
    missing: list[str],
    prorated: bool,
    band: float,
    n_failed: int,
    batch_scores: list[float] | None = None,
    score_sd: float | None = None,
    confidence: float | None = None,
) -> DimensionScore:
    # Type and norms are derived here only, for item- and dimension-level methods alike.
    low, high = scale.range
    n = len(scale.items_of(dimension))
    s_low, s_high = scale.score_bounds(dimension)
    return DimensionScore(
        dimension=dimension,
        score=score,
        item_mean=item_mean,
        n_items=n,
        n_answered=n_answered,
        missing=missing,
        prorated=prorated,
        type=None if score is None else classify_type(score, s_low, s_high, band),
        norms=[]
        if score is None
        else [
            norm_score(score, nm, n_items=n, low=low, high=high, mode=scale.scoring)
            for nm in scale.norms_of(dimension)
        ],
        n_failed=n_failed,
        batch_scores=list(batch_scores or []),
        score_sd=score_sd,
        confidence=confidence,
    )


class Rating(BaseModel):
    """One dimension-level rating: the assessor's score (item-mean units, on the scale's
    response range) of the answers to ``item_ids``; ``None`` when the call failed.
    ``variance`` and ``confidence`` come from the rating's distribution over the options
    when it was scored from probabilities (``er_prob``)."""

    model_config = ConfigDict(frozen=True)

    dimension: str
    item_ids: list[str]
    score: float | None
    variance: float | None = None
    confidence: float | None = None


def score_ratings(
    scale: Scale,
    ratings: Sequence[Rating],
    *,
    failed_items: Mapping[str, Sequence[str]] | None = None,
    max_missing: float = 0.2,
    band: float = 0.0,
) -> ScaleScores:
    """Score dimension-level ratings (expert rating, ER_all / ER_batch).

    The dimension's item mean is the mean of its successful batch ratings,
    ``m = (1/B) Σ_b r_b`` (InCharacter averages the batch scores, §3.4); the score is
    ``m`` converted into the scale's scoring unit (:func:`convert_score`: ``m · n``
    for SUM, ``(m − min)/(max − min) · 100`` for PERCENT). A dimension whose failed
    items (answer or assessment failures, ``failed_items``) exceed ``max_missing`` of
    its items, or that has no successful rating, gets ``score=None``: never a midpoint.

    When every successful rating carries a variance (a distribution over the options,
    ``er_prob``), the score's standard deviation follows from the batches taken as
    independent: ``SD(m) = √(Σ_b Var_b) / B`` in item-mean units, times ``n`` for SUM
    and ``100 / (max − min)`` for PERCENT; ``confidence`` is the mean of the ratings'.

    Parameters
    ----------
    scale : Scale
    ratings : sequence of :class:`Rating`
    failed_items : mapping of dimension id to the ids of its failed items
    max_missing : float
        Largest tolerated fraction of failed items per dimension.
    band : float
        Half-width of the marginal X band as a fraction of the score span.

    Examples
    --------
    Two batches rated 4 and 5 on BFM-50 (1-5, SUM of 10 items): the item mean is
    (4 + 5) / 2 = 4.5 and the score 4.5 · 10 = 45 of 10-50, type H.

    >>> from personascope.scales import load_scale
    >>> s = load_scale("ipip-bfm-50")
    >>> ids = [i.id for i in s.items_of("extraversion")]
    >>> r = [Rating(dimension="extraversion", item_ids=ids[:5], score=4),
    ...      Rating(dimension="extraversion", item_ids=ids[5:], score=5)]
    >>> d = score_ratings(s, r).dimensions["extraversion"]
    >>> d.item_mean, d.score, d.type, d.batch_scores
    (4.5, 45.0, 'H', [4.0, 5.0])

    The same batches scored from probabilities with variances 0.25 and 0.36: the SD of
    the mean is √(0.25 + 0.36) / 2 = 0.3905, times 10 items = 3.905 on the SUM score.

    >>> r = [Rating(dimension="extraversion", item_ids=ids[:5], score=4, variance=0.25, confidence=0.6),
    ...      Rating(dimension="extraversion", item_ids=ids[5:], score=5, variance=0.36, confidence=0.4)]
    >>> d = score_ratings(s, r).dimensions["extraversion"]
    >>> round(d.score_sd, 3), d.confidence
    (3.905, 0.5)
    """
    if not 0.0 <= max_missing < 1.0:
        raise ValueError(f"max_missing: expected 0 <= max_missing < 1, got {max_missing}")
    low, high = scale.range
    dims = scale.dimension_map
    for r in ratings:
        if r.dimension not in dims:
            raise ScoringError(f"ratings: {r.dimension!r} is not a dimension of scale {scale.id!r}")
        if r.score is not None and not low <= r.score <= high:
            raise ScoringError(f"ratings[{r.dimension}]: {r.score} is outside the range [{low}, {high}]")
    dimensions: dict[str, DimensionScore] = {}
    for dim in scale.dimensions:
        n = len(scale.items_of(dim.id))
        rated = [r for r in ratings if r.dimension == dim.id and r.score is not None]
        good = [float(r.score) for r in rated if r.score is not None]
        missing = sorted(set((failed_items or {}).get(dim.id, ())))
        mean = math.fsum(good) / len(good) if good else None
        value: float | None = None
        score_sd = confidence = None
        if mean is not None and len(missing) / n <= max_missing + 1e-12:
            value = convert_score(mean, ScoringMode.AVG, scale.scoring, n_items=n, low=low, high=high)
            variances = [r.variance for r in rated if r.variance is not None]
            if len(variances) == len(rated):
                sd = math.sqrt(math.fsum(variances)) / len(rated)
                if scale.scoring is ScoringMode.SUM:
                    score_sd = sd * n
                elif scale.scoring is ScoringMode.PERCENT:
                    score_sd = sd * 100.0 / (high - low)
                else:
                    score_sd = sd
                confs = [r.confidence for r in rated if r.confidence is not None]
                confidence = math.fsum(confs) / len(confs) if confs else None
        dimensions[dim.id] = _dimension_score(
            scale,
            dim.id,
            value,
            item_mean=mean,
            n_answered=n - len(missing),
            missing=missing,
            prorated=False,
            band=band,
            n_failed=len(missing),
            batch_scores=good,
            score_sd=score_sd,
            confidence=confidence,
        )
    return ScaleScores(scale=scale.id, scoring=scale.scoring, dimensions=dimensions)


class OptionDistribution(BaseModel):
    """An item's value as a distribution over the response options."""

    model_config = ConfigDict(frozen=True)

    values: list[float]
    probabilities: list[float]
    expected: float
    variance: float
    entropy: float
    confidence: float
    coverage: float


def option_distribution(mass: Mapping[float, float]) -> OptionDistribution:
    """Probability-weighted score of an item from the probabilities of its options.

    With ``p_v`` the probability mass on option ``v`` (e.g. ``exp`` of the token
    log-probabilities of the option labels), renormalised over the options:

    ``E = Σ v p_v``, ``Var = Σ (v − E)² p_v``, ``H = −Σ p_v ln p_v``,
    confidence ``= 1 − H / ln k`` for ``k`` options (1: all mass on one option; 0:
    uniform), ``coverage = Σ p_v`` before renormalising (how much of the model's
    probability went to an option at all).

    >>> d = option_distribution({1: 0.0, 2: 0.0, 3: 0.0, 4: 0.6, 5: 0.2})
    >>> round(d.expected, 3), round(d.variance, 4), round(d.coverage, 2)
    (4.25, 0.1875, 0.8)
    >>> option_distribution({1: 1.0, 2: 0.0, 3: 0.0}).confidence
    1.0
    """
    values = sorted(float(v) for v in mass)
    raw = [max(0.0, float(mass[v] if v in mass else mass[int(v)])) for v in values]
    total = math.fsum(raw)
    if total <= 0:
        raise ScoringError("option_distribution: no probability on any option")
    probs = [p / total for p in raw]
    expected = math.fsum(v * p for v, p in zip(values, probs, strict=True))
    variance = math.fsum((v - expected) ** 2 * p for v, p in zip(values, probs, strict=True))
    entropy = -math.fsum(p * math.log(p) for p in probs if p > 0)
    confidence = 1.0 - entropy / math.log(len(values)) if len(values) > 1 else 1.0
    return OptionDistribution(
        values=values,
        probabilities=probs,
        expected=expected,
        variance=variance,
        entropy=entropy,
        confidence=max(0.0, min(1.0, confidence)),
        coverage=min(1.0, total),
    )
