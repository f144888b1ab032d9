"""Mixed bf16 precision: chosen for the bundled generation model only where the CPU
multiplies bf16 natively, computed in bf16 on every training path, float32 weights kept."""

import pytest

from training.core import config as config_module
from training.core.config import TrainingConfig, config_from_dict, task_defaults
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
    with pytest.raises(config_module.TrainingConfigError, match="mixed_bfloat16"):
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
