"""The learning-rate schedule: warm-up, decay to 0, and a time budget's clock driving it."""

import math

import pytest

from tests.training.test_runner import generation_config
from training.core.config import TrainingConfigError, config_from_dict
from training.core.runner import train
from training.core.schedule import learning_rate_factor, run_progress


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_warm_up_then_decay_to_zero(schedule):
    factor = lambda p: learning_rate_factor(p, schedule=schedule, warmup=0.1)  # noqa: E731
    assert factor(0.0) == 0.0
    assert factor(0.05) == pytest.approx(0.5)  # half-way up the warm-up
    assert factor(0.1) == pytest.approx(1.0)  # the peak
    assert factor(0.55) == pytest.approx(0.5)  # half-way down (cosine and linear agree)
    assert factor(1.0) == pytest.approx(0.0)
    assert factor(0.3) > factor(0.7) > 0


def test_cosine_stays_high_longer_than_linear_and_constant_stays_at_the_peak():
    assert learning_rate_factor(0.25, schedule="cosine", warmup=0) > learning_rate_factor(
        0.25, schedule="linear", warmup=0
    )
    assert learning_rate_factor(0.25, schedule="cosine", warmup=0) == pytest.approx(
        0.5 * (1 + math.cos(math.pi * 0.25))
    )
    assert learning_rate_factor(0.9, schedule="constant", warmup=0.1) == 1.0


def test_progress_is_the_further_of_steps_and_the_budget_clock():
    assert run_progress(50, 100) == 0.5  # no budget: steps alone
    assert run_progress(50, 100, elapsed=30, budget_seconds=40) == 0.75  # the clock is ahead
    assert run_progress(90, 100, elapsed=10, budget_seconds=40) == 0.9  # the steps are ahead
    assert run_progress(10, 100, elapsed=80, budget_seconds=40) == 1.0  # never past the end


def test_unknown_schedule_batching_or_warm_up_is_refused_naming_the_field():
    with pytest.raises(TrainingConfigError, match="'lr_schedule' must be one of"):
        config_from_dict({"task_type": "generation", "lr_schedule": "exponential"})
    with pytest.raises(TrainingConfigError, match="'batching' must be one of"):
        config_from_dict({"task_type": "generation", "batching": "sorted"})
    with pytest.raises(TrainingConfigError, match="'warmup_ratio' must be in"):
        config_from_dict({"task_type": "generation", "warmup_ratio": "0.6"})


@pytest.mark.slow
def test_a_run_cut_short_by_its_budget_still_anneals_its_learning_rate(
    tiny_llama, generation_data, tmp_path
):
    """Far more steps are planned than the budget allows; the learning rate still warms
    up and then falls to near 0 by the time the budget ends the run."""
    config = generation_config(
        tiny_llama,
        max_steps=100_000,
        eval_steps=50,
        eval_max_examples=2,
        max_new_tokens=2,
        max_minutes=0.25,
        learning_rate=1e-3,
        lr_schedule="linear",
        warmup_ratio=0.1,
        batching="by_length",
    )
    result = train(config, generation_data, tmp_path / "out")

    assert result["stopped_at_budget"] and result["global_step"] < 100_000
    rates = [point["learning_rate"] for point in result["history"]["train"]]
    assert max(rates) > 0.5e-3  # it reached (near) the peak
    assert rates[-1] < 0.15e-3  # and annealed: a schedule by steps would still be at ~1e-3
