"""Mixed bf16 precision: chosen for the bundled generation model only where the CPU
multiplies bf16 natively, computed in bf16 on every training path (the labelled loss
included), float32 weights kept."""

import pytest

from training.core import config as config_module
from training.core.config import (
    TrainingConfig,
    TrainingConfigError,
    config_from_dict,
    task_defaults,
)
from training.core.hardware import cpu_has_fast_bfloat16
from training.core.runner import train

from .test_runner import generation_config

ZEN4 = "processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512_bf16 avx512_vnni\n"
SKYLAKE = "processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512bw\n"


@pytest.mark.parametrize(
    ("cpuinfo", "fast"), [(ZEN4, True), (SKYLAKE, False), ("flags : amx_bf16 amx_tile\n", True)]
)
def test_the_cpu_flags_say_whether_bf16_is_native(tmp_path, cpuinfo, fast):
    path = tmp_path / "cpuinfo"
    path.write_text(cpuinfo)
    assert cpu_has_fast_bfloat16.__wrapped__(path) is fast


def test_an_unreadable_cpuinfo_means_float32(tmp_path):
    assert cpu_has_fast_bfloat16.__wrapped__(tmp_path / "absent") is False


@pytest.mark.parametrize("fast", [True, False])
def test_the_small_generation_default_is_mixed_bf16_only_where_it_is_fast(monkeypatch, fast):
    monkeypatch.setattr(config_module, "cpu_has_fast_bfloat16", lambda: fast)
    expected = "mixed_bfloat16" if fast else "float32"
    assert task_defaults("generation").get("precision", "float32") == expected
    # A named base model and classification keep float32 unless the user asks.
    assert "precision" not in task_defaults("generation", "/models/other")
    assert "precision" not in task_defaults("classification")


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
