"""The time budget: what fits before launch, when the run stops, and that a run cut short
keeps its best checkpoint."""

import pytest

from tests.training.test_runner import generation_config
from training.core.budget import TimeBudget, steps_within
from training.core.config import TrainingConfigError, config_from_dict
from training.core.estimate import Hardware, ModelShape, estimate_run
from training.core.runner import train


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_budget_stops_before_one_more_step_and_the_closing_evaluation_would_overrun():
    clock = FakeClock()
    budget = TimeBudget(100, clock=clock)  # keeps 5 s back for restoring the best
    budget.start()
    budget.step_began()
    clock.now = 10.0
    budget.step_ended()  # a step takes 10 s
    budget.evaluation_began()
    clock.now = 25.0
    budget.evaluation_ended()  # an evaluation takes 15 s
    clock.now = 69.0
    assert not budget.must_stop()  # 69 + 10 + 15 + 5 < 100
    clock.now = 71.0
    assert budget.must_stop()  # 71 + 10 + 15 + 5 > 100
    assert budget.closing_evaluation()  # 71 + 15 + 5 still fits: evaluate where it stops
    clock.now = 81.0
    assert not budget.closing_evaluation()  # 81 + 15 + 5 would overrun: keep the best so far


def test_estimate_says_how_many_steps_and_epochs_fit_in_the_budget():
    shape = ModelShape(parameters=1_000_000, hidden_size=64, layers=2)
    hardware = Hardware(device="cpu", memory_bytes=2**30, cores=2)
    common = dict(method="lora", lora_r=8, batch_size=10, max_length=32, seconds_per_step=2.0)
    short = estimate_run(
        shape, hardware, steps=100, budget_seconds=60, train_examples=200, **common
    )
    assert short.steps_in_budget == 30 and short.budget_limits
    assert short.total_seconds == 60 and short.epochs_in_budget == pytest.approx(1.5)
    assert "1-minute budget fits about 30 of the 100 planned steps (≈ 1.50 epochs)" in (
        short.summary()
    )
    roomy = estimate_run(shape, hardware, steps=10, budget_seconds=600, **common)
    assert not roomy.budget_limits and roomy.total_seconds == 20
    assert "all 10 planned steps fit" in roomy.as_dict()["budget_summary"]
    assert steps_within(0.5, seconds_per_step=2.0) == 1


def test_a_negative_budget_is_refused_naming_the_field():
    with pytest.raises(TrainingConfigError, match="'max_minutes'"):
        config_from_dict({"task_type": "generation", "max_minutes": "-1"})
    assert config_from_dict({"task_type": "generation", "max_minutes": "0.5"}).max_minutes == 0.5


@pytest.mark.slow
def test_a_run_with_a_budget_stops_within_it_and_keeps_the_best_checkpoint(
    tiny_llama, generation_data, tmp_path
):
    budget_seconds = 45.0
    config = generation_config(
        tiny_llama,
        max_steps=100_000,
        eval_steps=2,
        eval_max_examples=4,  # short evaluations: the first one's length cannot be foreseen
        max_new_tokens=4,
        max_minutes=budget_seconds / 60,
        metric_for_best_model="loss",
        learning_rate=5e-2,  # large enough that validation loss moves, up and down
    )
    result = train(config, generation_data, tmp_path / "out")

    assert result["stopped_at_budget"]
    assert result["train_seconds"] <= budget_seconds
    assert 0 < result["global_step"] < 100_000
    validation = result["history"]["validation"]
    best = min(validation, key=lambda point: point["loss"])
    assert result["best_checkpoint"].endswith(f"checkpoint-{best['step']}")
    assert (tmp_path / "out" / "model" / "adapter_config.json").exists()
    assert result["comparison"]["systems"]["fine_tuned"]["metrics"]["rouge_l"] is not None
