"""Mixed bf16 precision: bf16 on every training path (the labelled loss included), float32
weights kept."""

import pytest

from training.core.config import TrainingConfig, TrainingConfigError, config_from_dict
from training.core.runner import train

from .test_runner import generation_config


def test_an_unknown_precision_is_refused_naming_the_choices():
    with pytest.raises(TrainingConfigError, match="mixed_bfloat16"):
        config_from_dict({"task_type": "generation", "precision": "fp16"})


@pytest.fixture(scope="module")
def sharp_llama(tiny_llama, tmp_path_factory) -> str:
    """The tiny Llama with its output projection scaled 50 times: logits as large as a
    trained model's, so bf16 rounding moves its loss by about 3e-4 (a random tiny model's
    near-uniform logits hide it), beyond the labelled-loss check's 1e-4."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = tmp_path_factory.mktemp("sharp-llama")
    model = AutoModelForCausalLM.from_pretrained(tiny_llama)
    with torch.no_grad():
        model.lm_head.weight.mul_(50.0)
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_llama).save_pretrained(folder)
    return str(folder)


@pytest.mark.slow
def test_a_mixed_precision_run_computes_in_bf16_and_keeps_float32_weights(
    sharp_llama, generation_data, tmp_path, monkeypatch
):
    """Every training step takes the labelled loss, in bf16. Its one-time check against
    the model's own loss runs in the same autocast: checked in float32, bf16 rounding
    failed it and the run silently fell back to the full-vocabulary loss."""
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
        sharp_llama, precision="mixed_bfloat16", method="full", max_new_tokens=2
    )
    result = train(config, generation_data, tmp_path / "out")

    assert result["global_step"] == config.max_steps
    assert seen and all(on and dtype == torch.bfloat16 for on, dtype in seen)
    weights = load_file(tmp_path / "out" / "model" / "model.safetensors")
    assert {tensor.dtype for tensor in weights.values()} == {torch.float32}
