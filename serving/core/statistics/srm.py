"""Sample-ratio mismatch: did the variants get the share of units the split promised?

A broken split (a variant that crashes before logging, a bot filter hitting one arm, a
redirect losing users) biases every metric in ways no test can correct, so an experiment with
a mismatch gets no verdict at all. The check is Pearson's chi-square goodness of fit, with a
strict threshold (p < 0.001, the industry norm) because it runs on every look.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scipy import stats

from serving.core.statistics._common import DictMixin

DEFAULT_SRM_THRESHOLD = 0.001


@dataclass(frozen=True)
class SrmResult(DictMixin):
    """Observed and expected unit counts per variant, the chi-square statistic, its p-value
    and whether the split is broken (``p_value < threshold``). ``degrees_of_freedom`` is 0
    when there is nothing to test (no units, or a single variant)."""

    observed: dict[str, int]
    expected: dict[str, float]
    chi2: float
    p_value: float
    mismatch: bool
    degrees_of_freedom: int = 0
    threshold: float = DEFAULT_SRM_THRESHOLD


def _normalised(shares: Mapping[str, float]) -> dict[str, float]:
    if any(share < 0 for share in shares.values()) or sum(shares.values()) <= 0:
        raise ValueError(f"traffic shares must be non-negative and not all zero: {shares}")
    total = sum(shares.values())
    return {variant: share / total for variant, share in shares.items()}


def _phase(observed: Mapping[str, int], shares: Mapping[str, float]):
    """Observed and expected counts and the chi-square contribution and df of one phase.

    Units in a variant with share 0 make the statistic infinite: that cannot happen by
    chance. Variants expected and observed at 0 add nothing, not even a degree of freedom.
    """
    shares = _normalised(shares)
    variants = sorted(set(observed) | set(shares))
    counts = {variant: int(observed.get(variant, 0)) for variant in variants}
    total = sum(counts.values())
    expected = {variant: total * shares.get(variant, 0.0) for variant in variants}
    tested = [variant for variant in variants if expected[variant] > 0]
    chi2 = sum((counts[v] - expected[v]) ** 2 / expected[v] for v in tested)
    if any(expected[v] == 0 and counts[v] > 0 for v in variants):
        chi2 = math.inf
    return counts, expected, chi2, max(len(tested) - 1, 0)


def _result(observed, expected, chi2: float, df: int, threshold: float) -> SrmResult:
    if math.isinf(chi2):
        p_value = 0.0
    else:
        p_value = float(stats.chi2.sf(chi2, df)) if df > 0 else 1.0
    return SrmResult(
        observed=observed,
        expected=expected,
        chi2=float(chi2),
        p_value=p_value,
        mismatch=p_value < threshold,
        degrees_of_freedom=df,
        threshold=threshold,
    )


def srm_check(
    observed: Mapping[str, int],
    shares: Mapping[str, float],
    *,
    threshold: float = DEFAULT_SRM_THRESHOLD,
) -> SrmResult:
    """Chi-square test of the units per variant against the configured traffic shares.

    Shares need not sum to one (weights 1:1 or 50:50 both work).
    """
    counts, expected, chi2, df = _phase(observed, shares)
    return _result(counts, expected, chi2, df, threshold)


def srm_check_phased(
    phases: Sequence[tuple[Mapping[str, int], Mapping[str, float]]],
    *,
    threshold: float = DEFAULT_SRM_THRESHOLD,
) -> SrmResult:
    """SRM check for a split that changed over time (a rollout going from 10% to 50%).

    Each phase is (units per variant assigned during it, that phase's shares). Pooling the
    counts against one average share would flag a correct rollout, so each phase is tested
    against its own shares and the independent chi-square statistics and their degrees of
    freedom are summed. The result's observed/expected are totals over the phases.
    """
    observed: dict[str, int] = {}
    expected: dict[str, float] = {}
    chi2, df = 0.0, 0
    for phase_observed, phase_shares in phases:
        counts, phase_expected, phase_chi2, phase_df = _phase(phase_observed, phase_shares)
        for variant, count in counts.items():
            observed[variant] = observed.get(variant, 0) + count
            expected[variant] = expected.get(variant, 0.0) + phase_expected[variant]
        chi2, df = chi2 + phase_chi2, df + phase_df
    return _result(observed, expected, chi2, df, threshold)
