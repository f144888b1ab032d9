"""Fixed-horizon comparisons of a treatment arm against the control arm.

These are the classic tests, valid when the data are looked at once, at a sample size chosen in
advance. For monitoring while the experiment runs, use :mod:`.sequential` instead.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import special

from serving.core.statistics._common import DictMixin, as_values

NO_INFORMATION = (-math.inf, math.inf)


@dataclass(frozen=True)
class Comparison(DictMixin):
    """A fixed-horizon comparison of treatment against control.

    ``difference`` is treatment minus control, ``ci_low``/``ci_high`` its (1 - alpha) confidence
    interval. Too little data gives an infinite interval and ``p_value`` 1.0 rather than an
    error; a mean of an empty arm is NaN (``as_dict`` writes None for NaN and infinities).
    """

    method: str
    n_control: int
    n_treatment: int
    control_mean: float
    treatment_mean: float
    difference: float
    ci_low: float
    ci_high: float
    relative_lift: float | None
    p_value: float


def _comparison(method, n_control, n_treatment, control_mean, treatment_mean, ci, p_value):
    difference = treatment_mean - control_mean
    lift = None
    if math.isfinite(control_mean) and control_mean != 0 and math.isfinite(difference):
        lift = float(difference / control_mean)
    return Comparison(
        method=method,
        n_control=int(n_control),
        n_treatment=int(n_treatment),
        control_mean=float(control_mean),
        treatment_mean=float(treatment_mean),
        difference=float(difference),
        ci_low=float(ci[0]),
        ci_high=float(ci[1]),
        relative_lift=lift,
        p_value=float(p_value),
    )


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else math.nan


def _degenerate_normal(difference: float) -> tuple[tuple[float, float], float]:
    """Interval and p-value when the standard error is exactly zero: the data are constant
    within each arm, so the observed difference is the whole truth the sample can tell."""
    return (difference, difference), (1.0 if difference == 0 else 0.0)


def welch_t(
    control: Iterable[float], treatment: Iterable[float], *, alpha: float = 0.05
) -> Comparison:
    """Welch's unequal-variance t-test on per-unit values.

    Per-unit values, not per-event: events of one unit are correlated, and the unit is what
    was randomised. NaN values (units without a value) are ignored. Computed directly with
    the Welch-Satterthwaite degrees of freedom (it equals ``scipy.stats.ttest_ind(...,
    equal_var=False)``, tested) because scipy's wrapper costs milliseconds per call, too slow
    for a benchmark replaying thousands of peeks.
    """
    control, treatment = as_values(control), as_values(treatment)
    mean_c, mean_t = _mean(control), _mean(treatment)
    args = ("welch_t", control.size, treatment.size, mean_c, mean_t)
    if min(control.size, treatment.size) < 2:
        return _comparison(*args, NO_INFORMATION, 1.0)
    share_c = control.var(ddof=1) / control.size
    share_t = treatment.var(ddof=1) / treatment.size
    difference, se = mean_t - mean_c, math.sqrt(share_c + share_t)
    if se == 0:
        return _comparison(*args, *_degenerate_normal(difference))
    df = (share_c + share_t) ** 2 / (
        share_c**2 / (control.size - 1) + share_t**2 / (treatment.size - 1)
    )
    p_value = 2 * special.stdtr(df, -abs(difference) / se)
    half = special.stdtrit(df, 1 - alpha / 2) * se
    return _comparison(*args, (difference - half, difference + half), p_value)


def two_proportions(
    successes_control: int,
    n_control: int,
    successes_treatment: int,
    n_treatment: int,
    *,
    alpha: float = 0.05,
) -> Comparison:
    """Two-proportion z-test for a binary per-unit metric (one success or not per unit).

    The p-value uses the pooled standard error (the variance under "no difference"); the
    interval uses the unpooled (Wald) one, as statsmodels' ``proportions_ztest`` and
    ``confint_proportions_2indep(method="wald")`` do.
    """
    if min(n_control, n_treatment) < 1:
        rate_c = successes_control / n_control if n_control else math.nan
        rate_t = successes_treatment / n_treatment if n_treatment else math.nan
        return _comparison(
            "two_proportion_z", n_control, n_treatment, rate_c, rate_t, NO_INFORMATION, 1.0
        )
    rate_c, rate_t = successes_control / n_control, successes_treatment / n_treatment
    args = ("two_proportion_z", n_control, n_treatment, rate_c, rate_t)
    difference = rate_t - rate_c
    pooled = (successes_control + successes_treatment) / (n_control + n_treatment)
    se_null = math.sqrt(pooled * (1 - pooled) * (1 / n_control + 1 / n_treatment))
    se = math.sqrt(rate_c * (1 - rate_c) / n_control + rate_t * (1 - rate_t) / n_treatment)
    if se_null == 0:
        return _comparison(*args, *_degenerate_normal(difference))
    p_value = 2 * special.ndtr(-abs(difference) / se_null)
    half = special.ndtri(1 - alpha / 2) * se
    return _comparison(*args, (difference - half, difference + half), p_value)


def _bootstrap_ratios(
    numerators: np.ndarray, denominators: np.ndarray, *, resamples: int, rng
) -> np.ndarray:
    """sum(num) / sum(den) over units resampled with replacement, ``resamples`` times.

    Drawn in blocks of about two million indices, so memory stays bounded for large arms.
    """
    size = numerators.size
    block = max(1, 2_000_000 // size)
    ratios = []
    for start in range(0, resamples, block):
        picks = rng.integers(0, size, size=(min(block, resamples - start), size))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios.append(numerators[picks].sum(axis=1) / denominators[picks].sum(axis=1))
    return np.concatenate(ratios)


def _pairs(numerators: Iterable[float], denominators: Iterable[float]):
    numerators = np.asarray(list(numerators), dtype=float).reshape(-1)
    denominators = np.asarray(list(denominators), dtype=float).reshape(-1)
    if numerators.shape != denominators.shape:
        raise ValueError("each unit needs one numerator and one denominator")
    keep = ~(np.isnan(numerators) | np.isnan(denominators))
    return numerators[keep], denominators[keep]


def _ratio(numerators: np.ndarray, denominators: np.ndarray) -> float:
    total = denominators.sum()
    return float(numerators.sum() / total) if total != 0 else math.nan


def ratio_bootstrap(
    num_control: Iterable[float],
    den_control: Iterable[float],
    num_treatment: Iterable[float],
    den_treatment: Iterable[float],
    *,
    alpha: float = 0.05,
    resamples: int = 2000,
    seed: int = 0,
) -> Comparison:
    """Difference of ratio metrics (e.g. thumbs-up per response) by resampling units.

    Each arm's ratio is sum(numerator) / sum(denominator) over its units. Units, not events,
    are resampled, because the unit was randomised and its events are correlated: treating
    events as independent would make the interval too narrow. The interval is the percentile
    interval of the resampled differences; the p-value is the two-sided bootstrap tail share
    of zero (with the usual +1 correction, so it is never exactly 0).
    """
    num_c, den_c = _pairs(num_control, den_control)
    num_t, den_t = _pairs(num_treatment, den_treatment)
    ratio_c, ratio_t = _ratio(num_c, den_c), _ratio(num_t, den_t)
    args = ("ratio_bootstrap", num_c.size, num_t.size, ratio_c, ratio_t)
    if min(num_c.size, num_t.size) < 2 or math.isnan(ratio_c) or math.isnan(ratio_t):
        return _comparison(*args, NO_INFORMATION, 1.0)
    rng = np.random.default_rng(seed)
    differences = _bootstrap_ratios(num_t, den_t, resamples=resamples, rng=rng) - _bootstrap_ratios(
        num_c, den_c, resamples=resamples, rng=rng
    )
    differences = differences[np.isfinite(differences)]
    if differences.size == 0:
        return _comparison(*args, NO_INFORMATION, 1.0)
    low, high = np.quantile(differences, [alpha / 2, 1 - alpha / 2])
    below, above = np.sum(differences <= 0), np.sum(differences >= 0)
    p_value = min(1.0, 2 * (min(below, above) + 1) / (differences.size + 1))
    return _comparison(*args, (low, high), p_value)
