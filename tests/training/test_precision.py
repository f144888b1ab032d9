"""Mixed bf16 precision: bf16 on every training path (the labelled loss included), float32
weights kept."""

import pytest

from training.core.config import TrainingConfig, TrainingConfigError, config_from_dict
from training.core.runner import train

from .test_runner import generation_config


def test_an_unknown_precision_is_refused_naming_the_choices():
    with pytest.raises(TrainingConfigError, match="mixed_bfloat16"):
        config_from_dict({"task_type": "generation", "precision": "fp16"})


@pytest.mark.slow
def test_a_mixed_precision_run_computes_in_bf16_and_keeps_float32_weights(
    tiny_llama, generation_data, tmp_path, monkeypatch
):
    import torch
    from safetensors.torch import load_file

    from training.core import trainer

    seen: list[tuple[bool, torch.dtype]] = []
    original = trainer.labelled_loss

    def watched(model, inputs):
        seen.append((torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu")))
        return original(model, inputs)

    monkeypatch.setattr(trainer, "labelled_loss", watched)
    config: TrainingConfig = generation_config(
        tiny_llama, precision="mixed_bfloat16", method="full", max_new_tokens=2
    )
    result = train(config, generation_data, tmp_path / "out")

    assert result["global_step"] == config.max_steps
    assert seen and all(on and dtype == torch.bfloat16 for on, dtype in seen)
    weights = load_file(tmp_path / "out" / "model" / "model.safetensors")
    assert {tensor.dtype for tensor in weights.values()} == {torch.float32}
