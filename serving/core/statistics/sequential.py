"""Always-valid inference on a difference in means: the normal-mixture mSPRT.

Johari, Pekelis and Walsh (2017), "Always valid inference: continuous monitoring of A/B
tests". With the estimate d = mean(treatment) - mean(control), its variance s^2 (the plug-in
sum of var/n of both arms) and a N(0, tau^2) mixture over the true difference, the mixture
likelihood ratio against "no difference" has the closed form

    Lambda = sqrt(s^2 / (s^2 + tau^2)) * exp(tau^2 d^2 / (2 s^2 (s^2 + tau^2))).

1 / Lambda, minimised over every prefix of the data, is a p-value that stays valid however
often it is looked at, and {theta : Lambda(theta) < 1 / alpha}, intersected over the prefixes,
is a confidence sequence. So people may watch the dashboard every hour and stop whenever it
says "significant" without inflating the false-positive rate, which the fixed-horizon tests
of :mod:`.fixed_horizon` do not allow.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from serving.core.statistics._common import DictMixin, as_values, json_safe

# The default mixing scale, in standard deviations of the metric (pooled over both arms at
# each prefix). The mSPRT is most sensitive to effects near tau at sample sizes near where
# tau is a few standard errors; 0.1 sd suits experiments of a few thousand units per arm, the
# effects A/B tests usually chase (Cohen's "small" is 0.2 sd). Fixed in advance, not tuned on
# the benchmark's runs.
DEFAULT_TAU_IN_SD = 0.1
# Units per arm before the p-value may move: the plug-in variance of a handful of units is too
# noisy (a few identical values give a variance near zero and a huge likelihood ratio).
DEFAULT_BURN_IN = 20


@dataclass(frozen=True)
class SequentialResult(DictMixin):
    """Always-valid inference on treatment minus control at the current sample.

    ``p_value`` is the running minimum over every prefix, and ``cs_low``/``cs_high`` the
    running intersection of the (1 - alpha) intervals, so both only ever tighten and agree
    with each other: ``significant`` exactly when zero has left the interval. Before the
    burn-in the interval is infinite and the p-value 1.0. ``tau`` is the mixing scale used at
    the current sample, in the metric's units.
    """

    n_control: int
    n_treatment: int
    difference: float
    cs_low: float
    cs_high: float
    p_value: float
    significant: bool
    alpha: float = 0.05
    tau: float | None = None


def _prefix_sizes(n_control: int, n_treatment: int) -> tuple[np.ndarray, np.ndarray]:
    """Arm sizes after each of the n_control + n_treatment arrivals.

    Only each arm's own order is known, so arrivals are taken as interleaved in proportion to
    the arms' final sizes (what random assignment produces on average).
    """
    total = np.arange(1, n_control + n_treatment + 1)
    sizes_c = np.rint(total * (n_control / (n_control + n_treatment))).astype(int)
    return sizes_c, total - sizes_c


def _prefix_moments(values: np.ndarray, sizes: np.ndarray, centre: float):
    """Mean and sample variance (ddof 1) of the first ``sizes`` values, for every size.

    Sums are taken around a common ``centre`` so large values (latencies in ms) lose no
    precision in the sum of squares. Prefixes whose values are all equal get their exact mean
    and a variance of exactly zero: rounding must not turn two constant arms with the same
    value into a "noiseless difference".
    """
    if values.size == 0:
        return np.full(sizes.shape, np.nan), np.full(sizes.shape, np.nan)
    shifted = values - centre
    sums = np.concatenate([[0.0], np.cumsum(shifted)])[sizes]
    squares = np.concatenate([[0.0], np.cumsum(shifted**2)])[sizes]
    with np.errstate(divide="ignore", invalid="ignore"):
        means = sums / sizes + centre
        variances = np.maximum(squares - sizes * (sums / sizes) ** 2, 0.0) / (sizes - 1)
    last = np.maximum(sizes - 1, 0)
    constant = (sizes > 0) & (
        np.maximum.accumulate(values)[last] == np.minimum.accumulate(values)[last]
    )
    means = np.where(constant, values[0], means)
    variances = np.where(constant & (sizes > 1), 0.0, variances)
    return means, variances


def _log_likelihood_ratio(difference, variance, tau_squared):
    """log Lambda of the normal mixture at each prefix; 0 (no evidence) where both the
    variance and the difference are zero, +inf where a constant difference has no noise."""
    with np.errstate(divide="ignore", invalid="ignore"):
        total = variance + tau_squared
        log_ratio = 0.5 * np.log(variance / total) + tau_squared * difference**2 / (
            2 * variance * total
        )
    log_ratio = np.where(variance > 0, log_ratio, np.where(difference == 0, 0.0, np.inf))
    return np.where(tau_squared > 0, log_ratio, 0.0)


def _half_width(variance, tau_squared, alpha: float):
    """Half-width of {theta : Lambda(theta) < 1 / alpha} around the observed difference."""
    with np.errstate(divide="ignore", invalid="ignore"):
        total = variance + tau_squared
        width = np.sqrt(
            variance * total / tau_squared * (2 * math.log(1 / alpha) + np.log(total / variance))
        )
    return np.where(variance > 0, width, 0.0)


def _msprt_prefixes(control, treatment, *, alpha: float, tau: float | None, burn_in: int):
    """Every prefix's sizes, difference, running interval and running p-value, as arrays."""
    sizes_c, sizes_t = _prefix_sizes(control.size, treatment.size)
    centre = float(np.concatenate([control, treatment]).mean())
    mean_c, var_c = _prefix_moments(control, sizes_c, centre)
    mean_t, var_t = _prefix_moments(treatment, sizes_t, centre)
    ready = (np.minimum(sizes_c, sizes_t) >= max(burn_in, 2)) & np.isfinite(var_c + var_t)
    difference = mean_t - mean_c
    variance = np.where(ready, var_c / sizes_c + var_t / sizes_t, 0.0)
    tau_squared = np.full(variance.shape, float(tau) ** 2) if tau is not None else None
    if tau_squared is None:
        tau_squared = np.where(ready, DEFAULT_TAU_IN_SD**2 * (var_c + var_t) / 2, 0.0)
        # Constant data in both arms has no scale; any positive one makes a constant,
        # noiseless difference decisive (p 0) and leaves identical arms undecided.
        tau_squared = np.where(tau_squared > 0, tau_squared, np.nan_to_num(difference**2))
    log_ratio = np.where(ready, _log_likelihood_ratio(difference, variance, tau_squared), 0.0)
    p_values = np.minimum.accumulate(np.minimum(1.0, np.exp(-log_ratio)))
    half = np.where(ready & (tau_squared > 0), _half_width(variance, tau_squared, alpha), np.inf)
    with np.errstate(invalid="ignore"):
        lows = np.fmax.accumulate(np.where(ready, difference - half, -np.inf))
        highs = np.fmin.accumulate(np.where(ready, difference + half, np.inf))
    return {
        "n_control": sizes_c,
        "n_treatment": sizes_t,
        "difference": difference,
        "cs_low": lows,
        "cs_high": highs,
        "p_value": p_values,
        "tau": np.where(ready, np.sqrt(tau_squared), np.nan),
        "current_low": difference - half,
        "current_high": difference + half,
    }


def _interval_at(prefixes: dict, index: int) -> tuple[float, float]:
    """The running interval at ``index``; should the plug-in intervals of different prefixes
    fail to overlap (possible only when the variance estimate moved a lot), the current one."""
    low, high = prefixes["cs_low"][index], prefixes["cs_high"][index]
    if low > high:
        return float(prefixes["current_low"][index]), float(prefixes["current_high"][index])
    return float(low), float(high)


def msprt(
    control: Iterable[float],
    treatment: Iterable[float],
    *,
    alpha: float = 0.05,
    tau: float | None = None,
    burn_in: int = DEFAULT_BURN_IN,
) -> SequentialResult:
    """Always-valid test of treatment minus control on per-unit values in arrival order.

    ``tau`` is the mixing scale in the metric's units; None uses ``DEFAULT_TAU_IN_SD`` times
    the pooled standard deviation at each prefix (a mixture over standardised effects, so the
    default works for any metric's scale). ``burn_in`` is the number of units per arm before
    the test may reject. Empty arms, a single unit and constant data give p-value 1.0 and an
    infinite interval (constant but different arms: the exact difference, p-value 0), never
    an exception.
    """
    control, treatment = as_values(control), as_values(treatment)
    if control.size + treatment.size == 0:
        return SequentialResult(0, 0, math.nan, -math.inf, math.inf, 1.0, False, alpha, tau)
    prefixes = _msprt_prefixes(control, treatment, alpha=alpha, tau=tau, burn_in=burn_in)
    low, high = _interval_at(prefixes, -1)
    p_value = float(prefixes["p_value"][-1])
    return SequentialResult(
        n_control=int(control.size),
        n_treatment=int(treatment.size),
        difference=float(prefixes["difference"][-1]),
        cs_low=low,
        cs_high=high,
        p_value=p_value,
        significant=p_value < alpha,
        alpha=alpha,
        tau=float(prefixes["tau"][-1]) if np.isfinite(prefixes["tau"][-1]) else None,
    )


def msprt_path(
    control: Iterable[float],
    treatment: Iterable[float],
    *,
    looks: int = 20,
    alpha: float = 0.05,
    tau: float | None = None,
    burn_in: int = DEFAULT_BURN_IN,
) -> list[dict]:
    """The mSPRT as it stood at ``looks`` evenly spaced sample sizes, for charts.

    Each point is what :func:`msprt` would have said on the data up to then (the p-value is
    the running minimum over every earlier prefix, not only over the looks). Non-finite
    numbers are None, so the list can go straight into JSON.
    """
    control, treatment = as_values(control), as_values(treatment)
    total = control.size + treatment.size
    if total == 0 or looks < 1:
        return []
    prefixes = _msprt_prefixes(control, treatment, alpha=alpha, tau=tau, burn_in=burn_in)
    indices = sorted({max(1, round(total * look / looks)) - 1 for look in range(1, looks + 1)})
    points = []
    for index in indices:
        low, high = _interval_at(prefixes, index)
        point = {
            "n_control": int(prefixes["n_control"][index]),
            "n_treatment": int(prefixes["n_treatment"][index]),
            "difference": float(prefixes["difference"][index]),
            "cs_low": low,
            "cs_high": high,
            "p_value": float(prefixes["p_value"][index]),
        }
        points.append(json_safe(point))
    return points
