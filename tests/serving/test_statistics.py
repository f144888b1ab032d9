"""The A/B statistics core: agreement with reference implementations, coverage, always-valid
error control under continuous monitoring, and the verdicts a person acts on."""

import json
import math

import numpy as np
import pytest
from scipy import integrate, stats

from serving.core.simulation import monitor_experiment, simulate_experiment
from serving.core.statistics import (
    GuardrailResult,
    decide,
    guardrail_check,
    msprt,
    msprt_path,
    power_at,
    ratio_bootstrap,
    sample_size_per_arm,
    srm_check,
    srm_check_phased,
    two_proportions,
    welch_t,
)
from serving.core.statistics.sequential import _log_likelihood_ratio

SPLIT = {"control": 0.5, "treatment": 0.5}


def as_json(result) -> str:
    """What the app stores: must be strict JSON (no NaN or Infinity)."""
    return json.dumps(result.as_dict(), allow_nan=False)


# --- fixed horizon ---------------------------------------------------------------------------


def test_welch_t_matches_scipy():
    rng = np.random.default_rng(1)
    control, treatment = rng.normal(10, 2, 300), rng.normal(10.4, 3, 180)
    result = welch_t(control, treatment, alpha=0.1)
    reference = stats.ttest_ind(treatment, control, equal_var=False)
    interval = reference.confidence_interval(confidence_level=0.9)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    assert (result.ci_low, result.ci_high) == pytest.approx((interval.low, interval.high))
    assert result.difference == pytest.approx(treatment.mean() - control.mean())
    assert result.relative_lift == pytest.approx(result.difference / control.mean())
    assert (result.n_control, result.n_treatment, result.method) == (300, 180, "welch_t")


def test_two_proportions_matches_statsmodels():
    # statsmodels 0.15: proportions_ztest([230, 200], [1000, 1000]) and
    # confint_proportions_2indep(230, 1000, 200, 1000, method="wald", compare="diff").
    result = two_proportions(200, 1000, 230, 1000)
    assert result.p_value == pytest.approx(0.10249587537989271, rel=1e-9)
    assert (result.ci_low, result.ci_high) == pytest.approx(
        (-0.00598549386149911, 0.0659854938614991)
    )
    assert result.difference == pytest.approx(0.03)
    assert result.relative_lift == pytest.approx(0.15)


def test_welch_interval_covers_the_true_difference():
    rng = np.random.default_rng(2)
    covered = 0
    for _ in range(400):
        result = welch_t(rng.exponential(1.0, 80), rng.exponential(1.0, 120) + 0.3)
        covered += result.ci_low <= 0.3 <= result.ci_high
    assert 0.91 <= covered / 400 <= 0.99


def test_ratio_bootstrap_is_a_ratio_of_sums_and_covers():
    rng = np.random.default_rng(3)
    covered = 0
    for seed in range(60):
        # Units with different numbers of responses; 30% thumbs-up in both arms.
        den_c, den_t = rng.integers(1, 8, 150), rng.integers(1, 8, 150)
        num_c, num_t = rng.binomial(den_c, 0.3), rng.binomial(den_t, 0.3)
        result = ratio_bootstrap(num_c, den_c, num_t, den_t, resamples=400, seed=seed)
        covered += result.ci_low <= 0 <= result.ci_high
    assert result.control_mean == pytest.approx(num_c.sum() / den_c.sum())
    assert result.method == "ratio_bootstrap"
    assert covered / 60 >= 0.85
    again = ratio_bootstrap(num_c, den_c, num_t, den_t, resamples=400, seed=seed)
    assert again == result  # seeded: the same interval on every page load


def test_ratio_bootstrap_detects_a_real_change():
    rng = np.random.default_rng(4)
    den_c, den_t = rng.integers(1, 8, 2000), rng.integers(1, 8, 2000)
    result = ratio_bootstrap(
        rng.binomial(den_c, 0.30), den_c, rng.binomial(den_t, 0.36), den_t, resamples=500
    )
    assert result.ci_low > 0 and result.p_value < 0.01


def test_fixed_horizon_tests_survive_degenerate_input():
    empty = welch_t([], [1.0, 2.0])
    assert empty.p_value == 1.0 and empty.ci_low == -math.inf and empty.relative_lift is None
    assert json.loads(as_json(empty))["control_mean"] is None
    assert welch_t([1.0], [2.0]).difference == 1.0
    zeros = welch_t([0.0] * 5, [0.0] * 5)
    assert (zeros.difference, zeros.ci_low, zeros.ci_high, zeros.p_value) == (0, 0, 0, 1)
    assert welch_t([0.0] * 5, [1.0] * 5).p_value == 0.0
    assert welch_t([1.0, np.nan, 3.0], [2.0, 4.0]).n_control == 2  # units without a value
    assert two_proportions(0, 0, 3, 10).p_value == 1.0
    assert two_proportions(0, 50, 0, 50).p_value == 1.0
    assert ratio_bootstrap([1], [0], [1, 2], [3, 4]).p_value == 1.0
    assert ratio_bootstrap([0, 0], [0, 0], [1, 1], [1, 1]).p_value == 1.0
    for result in (empty, zeros, two_proportions(0, 0, 0, 0), ratio_bootstrap([], [], [], [])):
        as_json(result)


# --- always-valid (mSPRT) --------------------------------------------------------------------


def test_msprt_closed_form_is_the_normal_mixture_likelihood_ratio():
    difference, variance, tau = 0.7, 0.09, 0.5

    def integrand(theta):
        likelihood = stats.norm.pdf(difference, theta, math.sqrt(variance))
        return likelihood * stats.norm.pdf(theta, 0, tau)

    mixture, _ = integrate.quad(integrand, -10, 10, points=[0, difference])
    ratio = mixture / stats.norm.pdf(difference, 0, math.sqrt(variance))
    closed = np.exp(_log_likelihood_ratio(np.array(difference), np.array(variance), tau**2))
    assert closed == pytest.approx(ratio, rel=1e-8)


def test_msprt_p_value_only_falls_and_interval_only_tightens():
    rng = np.random.default_rng(5)
    path = msprt_path(rng.normal(0, 1, 3000), rng.normal(0.08, 1, 3000), looks=30)
    assert len(path) == 30
    p_values = [point["p_value"] for point in path]
    lows = [point["cs_low"] for point in path if point["cs_low"] is not None]
    highs = [point["cs_high"] for point in path if point["cs_high"] is not None]
    assert all(b <= a for a, b in zip(p_values, p_values[1:], strict=False))
    assert all(b >= a for a, b in zip(lows, lows[1:], strict=False))
    assert all(b <= a for a, b in zip(highs, highs[1:], strict=False))
    assert path[-1]["n_control"] + path[-1]["n_treatment"] == 6000
    json.dumps(path, allow_nan=False)


def test_msprt_final_point_is_msprt_and_significance_matches_the_interval():
    rng = np.random.default_rng(6)
    control, treatment = rng.binomial(1, 0.2, 4000), rng.binomial(1, 0.24, 4000)
    result = msprt(control, treatment)
    last = msprt_path(control, treatment, looks=7)[-1]
    assert last["p_value"] == result.p_value and last["cs_low"] == result.cs_low
    assert result.significant and result.cs_low > 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        result = msprt(rng.normal(0, 1, 400), rng.normal(0.15, 1, 400))
        assert result.significant == (not result.cs_low <= 0 <= result.cs_high)


def test_msprt_keeps_false_positives_down_under_continuous_monitoring():
    """200 A/A experiments of 2,000 units: the mSPRT watched after every unit rejects at most
    ~5% (allowing Monte-Carlo noise), the t-test peeked every 100 units far more often."""
    runs = [
        monitor_experiment("binary", simulate_experiment("binary", 2000, seed=1000 + seed))
        for seed in range(200)
    ]
    msprt_rate = sum(run["msprt"] for run in runs) / len(runs)
    naive_rate = sum(run["naive_peeking"] for run in runs) / len(runs)
    assert msprt_rate <= 0.07
    assert naive_rate >= 0.15
    assert naive_rate > 2 * msprt_rate


def test_msprt_finds_a_strong_effect_and_reports_the_tau_it_used():
    rng = np.random.default_rng(7)
    result = msprt(rng.normal(10, 2, 1500), rng.normal(10.6, 2, 1500))
    assert result.significant and result.p_value < 1e-4
    assert 0 < result.cs_low < 0.6 < result.cs_high
    assert result.tau == pytest.approx(0.2, rel=0.1)  # 0.1 pooled sd by default
    assert msprt(rng.normal(10, 2, 1500), rng.normal(10.6, 2, 1500), tau=0.5).tau == 0.5


def test_msprt_survives_degenerate_input():
    for control, treatment in [([], []), ([], [1.0, 2.0]), ([1.0], [2.0]), ([0.0] * 50,) * 2]:
        result = msprt(control, treatment)
        assert result.p_value == 1.0 and not result.significant
        as_json(result)
    assert msprt([0.0] * 50, [1.0] * 50).significant  # constant, different: no noise at all
    assert msprt([0.0] * 50, [0.0] * 49 + [1.0]).p_value == 1.0
    assert msprt_path([], []) == []


# --- sample-ratio mismatch -------------------------------------------------------------------


def test_srm_catches_a_45_55_split_and_passes_a_fair_one():
    broken = srm_check({"control": 4500, "treatment": 5500}, SPLIT)
    assert broken.mismatch and broken.chi2 == pytest.approx(100.0)
    assert broken.p_value == pytest.approx(stats.chisquare([4500, 5500]).pvalue)
    assert broken.expected == {"control": 5000.0, "treatment": 5000.0}
    fair = srm_check({"control": 5040, "treatment": 4960}, {"control": 1, "treatment": 1})
    assert not fair.mismatch and fair.p_value > 0.4
    as_json(broken)


def test_srm_edge_cases():
    assert not srm_check({}, SPLIT).mismatch
    assert not srm_check({"control": 3}, {"control": 1}).mismatch  # one variant: nothing to test
    assert srm_check({"control": 50, "treatment": 50, "old": 1}, SPLIT).mismatch  # 0% share
    assert srm_check({"control": 10}, SPLIT).observed == {"control": 10, "treatment": 0}
    with pytest.raises(ValueError):
        srm_check({"control": 1}, {"control": 0})


def test_phased_srm_follows_a_rollout_that_pooling_would_flag():
    rollout = [
        ({"control": 9000, "treatment": 1000}, {"control": 0.9, "treatment": 0.1}),
        ({"control": 5000, "treatment": 5000}, SPLIT),
    ]
    assert not srm_check_phased(rollout).mismatch
    # The same counts pooled against today's 50/50 split look badly broken.
    assert srm_check({"control": 14000, "treatment": 6000}, SPLIT).mismatch
    lossy = [rollout[0], ({"control": 5000, "treatment": 4500}, SPLIT)]
    result = srm_check_phased(lossy)
    assert result.mismatch and result.degrees_of_freedom == 2
    assert result.observed == {"control": 14000, "treatment": 5500}


# --- planning --------------------------------------------------------------------------------


def test_sample_size_matches_statsmodels():
    # statsmodels 0.15: samplesize_proportions_2indep_onetail(0.03, 0.2, 0.8) = 2942.59 and
    # NormalIndPower().solve_power(effect_size=0.1, alpha=0.05, power=0.8) = 1569.77.
    assert sample_size_per_arm(baseline=0.2, minimum_effect=0.03) == 2943
    assert sample_size_per_arm(baseline=10, minimum_effect=0.4, sd=4) == 1570
    # power_proportions_2indep(0.03, 0.2, 2943) = 0.8000560
    assert power_at(n_per_arm=2943, baseline=0.2, effect=0.03) == pytest.approx(0.8000560, 1e-6)
    assert power_at(n_per_arm=1570, baseline=10, effect=0.4, sd=4) >= 0.8


def test_power_edges():
    assert power_at(n_per_arm=500, baseline=0.2, effect=0.0) == pytest.approx(0.05)
    assert power_at(n_per_arm=0, baseline=0.2, effect=0.1) == 0.0
    assert power_at(n_per_arm=100_000, baseline=0.2, effect=-0.03) > 0.999
    with pytest.raises(ValueError):
        sample_size_per_arm(baseline=0.2, minimum_effect=0)
    with pytest.raises(ValueError):
        sample_size_per_arm(baseline=0.9, minimum_effect=0.2)


# --- guardrails and verdicts -----------------------------------------------------------------


def latency(seed: int, control_ms: float, treatment_ms: float, n: int = 2000):
    rng = np.random.default_rng(seed)
    return rng.normal(control_ms, 100, n), rng.normal(treatment_ms, 100, n)


def test_guardrail_breach_respects_direction_and_tolerance():
    slower = guardrail_check(
        "latency_ms", *latency(8, 800, 850), higher_is_better=False, tolerance=10, min_units=500
    )
    assert slower.status == "breached" and slower.cs_low > 10
    assert "latency_ms" in slower.reason and "tolerance of 10" in slower.reason
    tolerated = guardrail_check(
        "latency_ms", *latency(8, 800, 850), higher_is_better=False, tolerance=100, min_units=500
    )
    assert tolerated.status == "ok"
    faster = guardrail_check(
        "latency_ms", *latency(8, 800, 750), higher_is_better=False, min_units=500
    )
    assert faster.status == "ok"
    rng = np.random.default_rng(9)
    thumbs = guardrail_check(
        "thumbs_up",
        rng.binomial(1, 0.8, 2000),
        rng.binomial(1, 0.7, 2000),
        higher_is_better=True,
        min_units=500,
    )
    assert thumbs.status == "breached"
    early = guardrail_check(
        "latency_ms", [1.0] * 10, [2.0] * 10, higher_is_better=False, min_units=100
    )
    assert early.status == "insufficient data" and "100" in early.reason
    as_json(early)


def primary(seed: int, lift: float, n: int = 3000):
    rng = np.random.default_rng(seed)
    return msprt(rng.binomial(1, 0.2, n), rng.binomial(1, 0.2 + lift, n))


def verdict(result, *, guardrails=(), srm=None, min_units=1000, higher_is_better=True):
    srm = srm or srm_check({"control": 3000, "treatment": 3000}, SPLIT)
    return decide(
        primary=result,
        higher_is_better=higher_is_better,
        guardrails=guardrails,
        srm=srm,
        min_units=min_units,
    )


def guardrail(status: str) -> GuardrailResult:
    return GuardrailResult("latency_ms", status, 1.0, 0.5, 1.5, 0.0, f"latency_ms {status}")


def test_decide_covers_every_action():
    better, worse, flat = primary(10, 0.05), primary(11, -0.05), primary(12, 0.0)
    assert better.significant and worse.significant and not flat.significant

    ship = verdict(better, guardrails=[guardrail("ok")])
    assert ship.action == "ship" and "3,000 control" in ship.reason
    assert verdict(worse).action == "roll back"
    assert verdict(worse, higher_is_better=False).action == "ship"
    assert verdict(flat).action == "keep running"
    assert verdict(better, min_units=5000).action == "keep running"
    assert verdict(better, guardrails=[guardrail("breached")]).action == "roll back"
    waiting = verdict(better, guardrails=[guardrail("insufficient data")])
    assert waiting.action == "keep running" and "latency_ms" in waiting.reason
    broken = srm_check({"control": 3300, "treatment": 2700}, SPLIT)
    blocked = verdict(better, guardrails=[guardrail("breached")], srm=broken)
    assert blocked.action == "blocked" and "sample-ratio mismatch" in blocked.reason
    json.dumps(blocked.as_dict(), allow_nan=False)
