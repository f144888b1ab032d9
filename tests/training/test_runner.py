"""The runner on tiny models: both task types train, evaluate and compare with the base."""

import json

import pytest

from training.core.config import TrainingConfig
from training.core.runner import train


def classification_config(base: str, **overrides) -> TrainingConfig:
    values = dict(
        task_type="classification",
        base_model=base,
        labels=["ham", "spam"],
        learning_rate=5e-3,
        max_steps=12,
        batch_size=8,
        max_length=16,
        eval_steps=4,
        early_stopping_patience=0,
        bootstrap_samples=50,
    )
    return TrainingConfig(**{**values, **overrides})


def generation_config(base: str, **overrides) -> TrainingConfig:
    values = dict(
        task_type="generation",
        base_model=base,
        learning_rate=1e-2,
        max_steps=6,
        batch_size=8,
        max_length=48,
        eval_steps=3,
        early_stopping_patience=0,
        max_new_tokens=8,
        bootstrap_samples=50,
    )
    return TrainingConfig(**{**values, **overrides})


@pytest.mark.slow
def test_classification_trains_evaluates_and_compares(tiny_bert, classification_data, tmp_path):
    records = []
    result = train(
        classification_config(tiny_bert),
        classification_data,
        tmp_path / "out",
        on_record=lambda kind, record: records.append(kind),
    )

    steps = [r["step"] for r in result["history"]["validation"]]
    assert steps == [4, 8, 12]
    assert {"accuracy", "macro_f1", "auc_roc", "loss"} <= set(result["history"]["validation"][0])
    assert "validation" in records and "train" in records
    comparison = result["comparison"]
    assert set(comparison["systems"]) == {"fine_tuned", "base", "baseline"}
    tuned = comparison["systems"]["fine_tuned"]["metrics"]
    low, high = tuned["macro_f1_ci"]
    assert low <= tuned["macro_f1"] <= high
    assert comparison["verdict"].startswith(("Fine-tuning helped", "Fine-tuning hurt", "No clear"))
    assert (tmp_path / "out" / "model" / "adapter_config.json").exists()
    saved = json.loads((tmp_path / "out" / "result.json").read_text())
    assert saved["global_step"] == 12


@pytest.mark.slow
def test_best_checkpoint_is_the_best_validation_step(tiny_bert, classification_data, tmp_path):
    config = classification_config(tiny_bert, metric_for_best_model="loss", max_steps=12)
    result = train(config, classification_data, tmp_path / "out")

    validation = result["history"]["validation"]
    best = min(validation, key=lambda r: r["loss"])
    assert result["best_checkpoint"].endswith(f"checkpoint-{best['step']}")
    assert result["best_metric"]["loss"] == pytest.approx(best["loss"])


@pytest.mark.slow
def test_early_stopping_ends_training_before_max_steps(tiny_bert, classification_data, tmp_path):
    # A learning rate of ~0 cannot improve the metric, so patience 1 stops at the 2nd eval.
    config = classification_config(
        tiny_bert, learning_rate=1e-12, early_stopping_patience=1, max_steps=40
    )
    result = train(config, classification_data, tmp_path / "out")

    assert result["global_step"] < 40


@pytest.mark.slow
def test_generation_trains_on_responses_and_checks_forgetting(
    tiny_llama, generation_data, tmp_path
):
    result = train(generation_config(tiny_llama), generation_data, tmp_path / "out")

    validation = result["history"]["validation"]
    assert [r["step"] for r in validation] == [3, 6]
    assert {"rouge_l", "bleu", "loss"} <= set(validation[0])
    comparison = result["comparison"]
    assert comparison["primary_metric"] == "rouge_l"
    # one output per distinct test prompt, scored against all its references
    assert comparison["examples"] == len(
        {json.loads(line)["prompt"] for line in (generation_data / "test.jsonl").open()}
    )
    assert comparison["systems"]["baseline"]["name"] == "copy the prompt"
    forgetting = result["forgetting"]
    assert forgetting["perplexity_before"] > 1 and forgetting["perplexity_after"] > 1


@pytest.mark.slow
def test_a_packed_run_trains_as_the_padded_run_does(tiny_llama, generation_data, tmp_path):
    """Same seed, same batches: packing changes no loss, so the two runs learn the same
    (training and validation losses agree) while the packed one computes no padding. A
    small learning rate, as Adam turns float noise in near-zero gradients into full-size
    steps; leaking between examples moves this model's loss by about 5e-4."""
    runs = {
        batching: train(
            generation_config(tiny_llama, batching=batching, max_new_tokens=2, learning_rate=1e-5),
            generation_data,
            tmp_path / batching,
        )
        for batching in ("random", "packed")
    }
    histories = {name: result["history"] for name, result in runs.items()}
    for kind in ("train", "validation"):
        padded = [point["loss"] for point in histories["random"][kind]]
        packed = [point["loss"] for point in histories["packed"][kind]]
        assert len(padded) == len(packed) > 0
        assert packed == pytest.approx(padded, rel=1e-4)
