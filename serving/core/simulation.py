"""Seeded A/B experiment simulators, for the A/B benchmark and the statistics tests.

Units arrive one at a time and are assigned at random; each produces one per-unit value (a
binary outcome such as "gave a thumbs-up", or a skewed continuous one such as a session's
mean rating or latency). The procedures a team might run on such a stream are replayed on it:
the fixed-horizon test read once at the end, the same test read at every look ("peeking"),
and the always-valid mSPRT watched continuously. Everything returns plain numbers, dicts and
numpy arrays; no Django.
"""

from collections.abc import Mapping

import numpy as np

from serving.core.statistics import msprt_path, two_proportions, welch_t

METRIC_KINDS = ("binary", "continuous")
# The continuous metric: log-normal per-unit values (right-skewed like real per-unit means)
# with this mean and standard deviation before any lift.
CONTINUOUS_MEAN = 10.0
CONTINUOUS_SD = 4.0


def _lognormal(rng, size: int, mean: float, sd: float) -> np.ndarray:
    sigma_squared = np.log1p((sd / mean) ** 2)
    return rng.lognormal(np.log(mean) - sigma_squared / 2, np.sqrt(sigma_squared), size)


def simulate_experiment(
    kind: str,
    n_units: int,
    *,
    lift: float = 0.0,
    base_rate: float = 0.2,
    treatment_share: float = 0.5,
    seed: int | np.random.Generator = 0,
) -> dict:
    """One experiment's units in arrival order.

    ``kind`` "binary": each unit succeeds with ``base_rate`` (control) or ``base_rate + lift``;
    "continuous": log-normal values with mean ``CONTINUOUS_MEAN`` and sd ``CONTINUOUS_SD``,
    treatment shifted by ``lift``. Returns ``control`` and ``treatment`` (each arm's values in
    arrival order) and ``is_treatment`` (the arm of each arriving unit), so any prefix of the
    stream can be rebuilt. ``lift`` 0 is a null experiment (an A/A test).
    """
    rng = np.random.default_rng(seed)
    is_treatment = rng.random(n_units) < treatment_share
    n_treatment = int(is_treatment.sum())
    n_control = n_units - n_treatment
    if kind == "binary":
        control = (rng.random(n_control) < base_rate).astype(float)
        treatment = (rng.random(n_treatment) < base_rate + lift).astype(float)
    elif kind == "continuous":
        control = _lognormal(rng, n_control, CONTINUOUS_MEAN, CONTINUOUS_SD)
        treatment = _lognormal(rng, n_treatment, CONTINUOUS_MEAN, CONTINUOUS_SD) + lift
    else:
        raise ValueError(f"kind must be one of {METRIC_KINDS}, got {kind!r}")
    return {"control": control, "treatment": treatment, "is_treatment": is_treatment}


def srm_counts(
    n_units: int,
    *,
    shares: Mapping[str, float],
    loss: Mapping[str, float] | None = None,
    seed: int | np.random.Generator = 0,
) -> dict[str, int]:
    """Units counted per variant when ``n_units`` are split by ``shares`` and then a fraction
    ``loss[variant]`` of a variant's units goes missing (e.g. the treatment's new code path
    crashes before logging for 3% of users): the sample-ratio-mismatch scenario."""
    rng = np.random.default_rng(seed)
    names = list(shares)
    weights = np.array([shares[name] for name in names], dtype=float)
    assigned = rng.multinomial(n_units, weights / weights.sum())
    loss = loss or {}
    kept = [
        rng.binomial(count, 1 - loss.get(name, 0.0))
        for name, count in zip(names, assigned, strict=True)
    ]
    return {name: int(count) for name, count in zip(names, kept, strict=True)}


def _fixed_horizon_p(kind: str, control: np.ndarray, treatment: np.ndarray) -> float:
    """The fixed-horizon test a team would use for this metric kind."""
    if kind == "binary":
        return two_proportions(
            int(control.sum()), control.size, int(treatment.sum()), treatment.size
        ).p_value
    return welch_t(control, treatment).p_value


def _look_sizes(is_treatment: np.ndarray, every: int) -> list[tuple[int, int, int]]:
    """(units, control units, treatment units) at each look after every ``every`` arrivals."""
    treated = np.cumsum(is_treatment)
    ends = list(range(every, is_treatment.size + 1, every))
    if not ends or ends[-1] != is_treatment.size:
        ends.append(is_treatment.size)
    return [(end, end - int(treated[end - 1]), int(treated[end - 1])) for end in ends]


def _first_decision(units: list[int], p_values: list[float], alpha: float) -> int | None:
    return next((n for n, p in zip(units, p_values, strict=True) if p < alpha), None)


def monitor_experiment(
    kind: str,
    experiment: dict,
    *,
    every: int = 100,
    alpha: float = 0.05,
    tau: float | None = None,
    peek: bool = True,
) -> dict:
    """Replay three analysis procedures on one simulated experiment.

    - ``fixed_horizon``: the t / z test read once, on all units;
    - ``naive_peeking``: the same test read after every ``every`` units, stopping at the first
      p < alpha (what a dashboard with a plain p-value invites);
    - ``msprt``: the always-valid p-value, watched after every single unit (its p-value is a
      running minimum, so reading it at looks can only do better).

    Returns whether each rejected and, for the two sequential ones, the units seen when they
    first did (None if never). ``peek`` False skips the (slowest) naive peeking.
    """
    control, treatment = experiment["control"], experiment["treatment"]
    looks = _look_sizes(experiment["is_treatment"], every)
    path = msprt_path(control, treatment, looks=len(looks), alpha=alpha, tau=tau)
    msprt_units = _first_decision(
        [point["n_control"] + point["n_treatment"] for point in path],
        [point["p_value"] for point in path],
        alpha,
    )
    result = {
        "fixed_horizon": _fixed_horizon_p(kind, control, treatment) < alpha,
        "msprt": bool(path) and path[-1]["p_value"] < alpha,
        "msprt_units_to_decision": msprt_units,
    }
    if peek:
        peeked = [_fixed_horizon_p(kind, control[:c], treatment[:t]) for _, c, t in looks]
        naive_units = _first_decision([units for units, _, _ in looks], peeked, alpha)
        result |= {"naive_peeking": naive_units is not None, "naive_units_to_decision": naive_units}
    return result
