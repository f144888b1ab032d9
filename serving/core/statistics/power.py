"""Planning: units per arm needed to detect an effect, and the power a given size has.

Normal approximations for a two-sided test at level alpha with equal arms, the formulas the
usual calculators use (Fleiss's, without continuity correction, for proportions: the variance
under "no difference" for the critical value and under the effect for the power; the same as
statsmodels' ``samplesize_proportions_2indep_onetail``). They plan fixed-horizon tests; an
always-valid test needs somewhat more units for the same power (see the A/B benchmark).
"""

import math

from scipy import stats


def _variances(baseline: float, effect: float, sd: float | None) -> tuple[float, float]:
    """Per-arm-pair variance of one unit's difference, under no effect and under the effect."""
    if sd is not None:
        if not sd > 0:
            raise ValueError(f"sd must be positive, got {sd}")
        return 2 * sd**2, 2 * sd**2
    treated = baseline + effect
    if not (0 < baseline < 1 and 0 <= treated <= 1):
        raise ValueError(
            f"a proportion baseline must lie in (0, 1) and baseline + effect in [0, 1]; "
            f"got {baseline} and {treated}"
        )
    average = (baseline + treated) / 2
    return 2 * average * (1 - average), baseline * (1 - baseline) + treated * (1 - treated)


def _check_levels(alpha: float, power: float = 0.5) -> None:
    if not (0 < alpha < 1 and 0 < power < 1):
        raise ValueError(f"alpha and power must lie in (0, 1); got {alpha} and {power}")


def sample_size_per_arm(
    *,
    baseline: float,
    minimum_effect: float,
    sd: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
) -> int:
    """Units per arm for a two-sided fixed-horizon test to detect ``minimum_effect``.

    ``sd`` None: ``baseline`` is a proportion (0.20) and ``minimum_effect`` an absolute change
    of it (0.03 for 20% -> 23%). Otherwise ``baseline`` is a mean and ``sd`` the per-unit
    standard deviation. Raises ValueError for settings that cannot be planned (no effect,
    proportions outside [0, 1]), which a form can show as they are.
    """
    _check_levels(alpha, power)
    if minimum_effect == 0:
        raise ValueError("minimum_effect must be non-zero: no sample size detects no effect")
    null_variance, alternative_variance = _variances(baseline, minimum_effect, sd)
    critical = stats.norm.isf(alpha / 2) * math.sqrt(null_variance)
    spread = stats.norm.ppf(power) * math.sqrt(alternative_variance)
    return math.ceil(((critical + spread) / minimum_effect) ** 2)


def power_at(
    *,
    n_per_arm: int,
    baseline: float,
    effect: float,
    sd: float | None = None,
    alpha: float = 0.05,
) -> float:
    """Probability that a two-sided fixed-horizon test with ``n_per_arm`` units per arm
    rejects when the true effect is ``effect`` (both tails; equals alpha at no effect)."""
    _check_levels(alpha)
    if n_per_arm < 1:
        return 0.0
    null_variance, alternative_variance = _variances(baseline, effect, sd)
    critical = stats.norm.isf(alpha / 2) * math.sqrt(null_variance)
    shift = abs(effect) * math.sqrt(n_per_arm)
    spread = math.sqrt(alternative_variance)
    if spread == 0:
        return 1.0 if shift > critical else 0.0
    upper = stats.norm.cdf((shift - critical) / spread)
    lower = stats.norm.cdf((-shift - critical) / spread)
    return float(upper + lower)
