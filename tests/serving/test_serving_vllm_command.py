"""The serving_vllm command's argument handling (called as an instance, so it runs before
the serving app is in INSTALLED_APPS), without starting vLLM."""

import pytest
from django.core.management import CommandError, call_command

from serving.management.commands import serving_vllm


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("ASSAY_VLLM_VENV", str(tmp_path / "venv"))
    monkeypatch.setenv("ASSAY_VLLM_RUN_DIR", str(tmp_path / "run"))


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(serving_vllm.Command(), *args, stdout=out)
    return out.getvalue()


def test_start_passes_base_model_and_adapters(monkeypatch):
    calls = []
    monkeypatch.setattr(
        serving_vllm,
        "server_start",
        lambda config, **kwargs: calls.append((config.port, kwargs)) or 1234,
    )
    out = run("start", "--base-model", "/m", "--lora", "a=/x", "--lora", "b=/y", "--port", "8301")
    assert calls == [
        (8301, {"base_model": "/m", "lora_modules": {"a": "/x", "b": "/y"}, "timeout": 600.0})
    ]
    assert "pid 1234" in out and "http://127.0.0.1:8301" in out


def test_start_needs_a_base_model_and_well_formed_adapters():
    with pytest.raises(CommandError, match="--base-model"):
        run("start")
    with pytest.raises(CommandError, match="NAME=DIR"):
        run("start", "--base-model", "/m", "--lora", "no-path")


def test_status_and_stop_with_nothing_installed_or_running():
    assert "installed: False" in run("status")
    assert "no server running" in run("status")
    assert "No vLLM started here runs." in run("stop")


def test_start_before_install_says_what_to_run():
    with pytest.raises(CommandError, match="serving_vllm install"):
        run("start", "--base-model", "/m")
