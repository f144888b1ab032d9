"""The experiment simulators behind the A/B benchmark: seeded, faithful to their settings,
and replaying each analysis procedure the way a team would run it."""

import numpy as np
import pytest

from serving.core.simulation import (
    CONTINUOUS_MEAN,
    CONTINUOUS_SD,
    monitor_experiment,
    simulate_experiment,
    srm_counts,
)

SPLIT = {"control": 0.5, "treatment": 0.5}


def test_same_seed_same_experiment():
    first = simulate_experiment("binary", 500, seed=3)
    again = simulate_experiment("binary", 500, seed=3)
    other = simulate_experiment("binary", 500, seed=4)
    assert all(np.array_equal(first[key], again[key]) for key in first)
    assert not np.array_equal(first["is_treatment"], other["is_treatment"])


def test_arms_follow_the_assignment():
    experiment = simulate_experiment("continuous", 1000, treatment_share=0.3, seed=1)
    assert experiment["treatment"].size == experiment["is_treatment"].sum()
    assert experiment["control"].size + experiment["treatment"].size == 1000
    assert 0.25 < experiment["is_treatment"].mean() < 0.35


def test_binary_lift_is_the_one_asked_for():
    experiment = simulate_experiment("binary", 200_000, lift=0.03, base_rate=0.2, seed=2)
    assert experiment["control"].mean() == pytest.approx(0.20, abs=0.005)
    assert experiment["treatment"].mean() == pytest.approx(0.23, abs=0.005)
    assert set(np.unique(experiment["control"])) == {0.0, 1.0}


def test_continuous_metric_is_skewed_with_the_stated_mean_and_sd():
    experiment = simulate_experiment("continuous", 200_000, lift=0.3, seed=5)
    control, treatment = experiment["control"], experiment["treatment"]
    assert control.mean() == pytest.approx(CONTINUOUS_MEAN, rel=0.01)
    assert control.std() == pytest.approx(CONTINUOUS_SD, rel=0.03)
    assert treatment.mean() - control.mean() == pytest.approx(0.3, abs=0.05)
    assert np.median(control) < control.mean()  # right-skewed, like real per-unit metrics
    with pytest.raises(ValueError):
        simulate_experiment("ordinal", 10)


def test_srm_scenario_loses_the_stated_share_of_treatment_units():
    fair = srm_counts(100_000, shares=SPLIT, seed=1)
    assert sum(fair.values()) == 100_000
    lossy = srm_counts(100_000, shares=SPLIT, loss={"treatment": 0.03}, seed=1)
    assert lossy["control"] == fair["control"]
    assert lossy["treatment"] / fair["treatment"] == pytest.approx(0.97, abs=0.003)


def test_monitoring_replays_all_three_procedures():
    strong = simulate_experiment("binary", 2000, lift=0.15, seed=6)
    result = monitor_experiment("binary", strong, every=100)
    assert result["fixed_horizon"] and result["msprt"] and result["naive_peeking"]
    assert 0 < result["msprt_units_to_decision"] <= 2000
    assert result["msprt_units_to_decision"] % 100 == 0  # noticed at a look
    assert result["naive_units_to_decision"] <= result["msprt_units_to_decision"]
    quick = monitor_experiment("continuous", simulate_experiment("continuous", 550), peek=False)
    assert "naive_peeking" not in quick and isinstance(quick["msprt"], bool)
