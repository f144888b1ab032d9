"""From statistics to an action a person can take: guardrails and the experiment verdict."""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from serving.core.statistics._common import DictMixin, as_values
from serving.core.statistics.sequential import SequentialResult, msprt
from serving.core.statistics.srm import SrmResult


@dataclass(frozen=True)
class GuardrailResult(DictMixin):
    """A metric the challenger must not make worse by more than ``tolerance`` (in the metric's
    units). ``status`` is "ok", "breached" or "insufficient data"; ``cs_low``/``cs_high`` is the
    always-valid interval of treatment minus control; ``reason`` says why, with numbers."""

    metric: str
    status: str
    difference: float
    cs_low: float
    cs_high: float
    tolerance: float
    reason: str
    n_control: int = 0
    n_treatment: int = 0


@dataclass(frozen=True)
class Verdict(DictMixin):
    """What to do with the experiment now: "ship", "keep running", "roll back" or "blocked",
    and one plain sentence saying why."""

    action: str
    reason: str


def _number(value: float) -> str:
    return f"{value:+.4g}" if math.isfinite(value) else "unknown"


def _interval(low: float, high: float, alpha: float) -> str:
    level = f"{100 * (1 - alpha):g}%"
    if not (math.isfinite(low) and math.isfinite(high)):
        return f"{level} always-valid interval not yet bounded"
    return f"{level} always-valid interval {_number(low)} to {_number(high)}"


def guardrail_check(
    metric: str,
    control: Iterable[float],
    treatment: Iterable[float],
    *,
    higher_is_better: bool,
    tolerance: float = 0.0,
    min_units: int,
    alpha: float = 0.05,
) -> GuardrailResult:
    """Is the challenger worse than the control on ``metric`` by more than ``tolerance``?

    Breached only when the whole always-valid interval (the mSPRT's, so the guardrail may be
    checked on every look) lies beyond ``tolerance`` on the bad side: for a higher-is-better
    metric, treatment - control < -tolerance; for lower-is-better (latency), > +tolerance.
    Below ``min_units`` per arm the status is "insufficient data".
    """
    control, treatment = as_values(control), as_values(treatment)
    result = msprt(control, treatment, alpha=alpha)
    shared = {"metric": metric, "tolerance": tolerance, "difference": result.difference}
    shared |= {"n_control": result.n_control, "n_treatment": result.n_treatment}
    interval = _interval(result.cs_low, result.cs_high, alpha)
    if min(control.size, treatment.size) < min_units:
        reason = (
            f"{metric}: {control.size:,} control and {treatment.size:,} treatment units, "
            f"at least {min_units:,} per arm needed"
        )
        return GuardrailResult(
            **shared, status="insufficient data", cs_low=-math.inf, cs_high=math.inf, reason=reason
        )
    # Harm is the difference turned so that positive means "the challenger is worse".
    harm_low = -result.cs_high if higher_is_better else result.cs_low
    breached = harm_low > tolerance
    verb = "worse than control beyond" if breached else "not shown worse than control beyond"
    reason = (
        f"{metric}: treatment - control {_number(result.difference)} ({interval}); "
        f"{verb} the tolerance of {tolerance:g}"
    )
    return GuardrailResult(
        **shared,
        status="breached" if breached else "ok",
        cs_low=result.cs_low,
        cs_high=result.cs_high,
        reason=reason,
    )


def _srm_summary(srm: SrmResult) -> str:
    counts = ", ".join(
        f"{variant} {srm.observed[variant]:,} (expected {srm.expected[variant]:,.0f})"
        for variant in srm.observed
    )
    return f"chi-square p = {srm.p_value:.2g}; {counts}"


def _primary_summary(primary: SequentialResult) -> str:
    return (
        f"treatment - control {_number(primary.difference)} "
        f"({_interval(primary.cs_low, primary.cs_high, primary.alpha)}, "
        f"always-valid p = {primary.p_value:.3g}) on {primary.n_control:,} control and "
        f"{primary.n_treatment:,} treatment units"
    )


def _improves(primary: SequentialResult, higher_is_better: bool) -> bool:
    """Whether a significant primary favours the treatment, read from the side of zero the
    always-valid interval lies on (the current difference only if the interval is unsure)."""
    if primary.cs_low > 0 or primary.cs_high < 0:
        positive = primary.cs_low > 0
    else:
        positive = primary.difference > 0
    return positive == higher_is_better


def decide(
    *,
    primary: SequentialResult,
    higher_is_better: bool,
    guardrails: Sequence[GuardrailResult],
    srm: SrmResult,
    min_units: int,
) -> Verdict:
    """The action for an experiment right now, in this order of precedence:

    1. blocked: the split is broken (SRM), so no metric can be trusted;
    2. roll back: a guardrail is breached (it already required its own minimum of units);
    3. keep running: fewer than ``min_units`` units per arm on the primary metric;
    4. roll back: the primary is significantly worse;
    5. ship: significantly better and every guardrail "ok" (a guardrail still short of data
       keeps the experiment running instead);
    6. keep running: no significant difference yet.
    """
    if srm.mismatch:
        reason = f"The traffic split is broken (sample-ratio mismatch, {_srm_summary(srm)})"
        return Verdict("blocked", reason + "; fix assignment before reading any metric.")
    breached = [guardrail for guardrail in guardrails if guardrail.status == "breached"]
    if breached:
        return Verdict("roll back", "Guardrail breached: " + "; ".join(g.reason for g in breached))
    if min(primary.n_control, primary.n_treatment) < min_units:
        return Verdict(
            "keep running",
            f"Too early: {primary.n_control:,} control and {primary.n_treatment:,} treatment "
            f"units so far, at least {min_units:,} per arm before a verdict.",
        )
    summary = _primary_summary(primary)
    if not primary.significant:
        return Verdict("keep running", f"No significant difference yet: {summary}.")
    if not _improves(primary, higher_is_better):
        return Verdict("roll back", f"The primary metric is significantly worse: {summary}.")
    waiting = [g.metric for g in guardrails if g.status == "insufficient data"]
    if waiting:
        return Verdict(
            "keep running",
            f"The primary metric is significantly better ({summary}), but guardrails "
            f"{', '.join(waiting)} do not have enough data yet.",
        )
    return Verdict("ship", f"The primary metric is significantly better: {summary}.")
