"""Configuration dataclasses, the estimate, and a light web process."""

import subprocess
import sys
from pathlib import Path

import pytest

from training.core.config import TrainingConfigError, config_fields, config_from_dict
from training.core.estimate import Hardware, ModelShape, estimate_run, planned_steps


def test_every_field_has_help_and_a_default():
    rows = config_fields()
    assert {"lora_r", "learning_rate", "eval_steps", "general_mix_ratio"} <= {
        r["name"] for r in rows
    }
    assert all(row["help"] for row in rows)


def test_config_from_form_strings_is_typed_and_validated():
    config = config_from_dict(
        {"task_type": "generation", "lora_targets": "q_proj, v_proj", "max_steps": "30"}
    )
    assert config.lora_targets == ["q_proj", "v_proj"] and config.max_steps == 30
    assert config.best_metric == "rouge_l"
    with pytest.raises(TrainingConfigError, match="'max_steps' must be a int"):
        config_from_dict({"task_type": "generation", "max_steps": "many"})
    with pytest.raises(TrainingConfigError, match="multiple of 'eval_steps'"):
        config_from_dict({"task_type": "generation", "eval_steps": 10, "save_steps": 15})


def test_estimate_counts_weights_optimizer_and_activations():
    shape = ModelShape(parameters=1_000_000, hidden_size=64, layers=2)
    hardware = Hardware(device="cpu", memory_bytes=2**30, cores=2)
    full = estimate_run(
        shape, hardware, method="full", lora_r=8, batch_size=4, max_length=32, steps=10
    )
    lora = estimate_run(
        shape, hardware, method="lora", lora_r=8, batch_size=4, max_length=32, steps=10
    )

    assert full.weights_bytes == 4_000_000 and full.optimizer_bytes == 12_000_000
    assert lora.trainable_parameters < 10_000 and lora.total_bytes < full.total_bytes
    assert full.fits and full.total_seconds == pytest.approx(10 * full.seconds_per_step)
    measured = estimate_run(
        shape,
        hardware,
        method="lora",
        lora_r=8,
        batch_size=4,
        max_length=32,
        steps=10,
        seconds_per_step=0.5,
    )
    assert measured.measured and measured.total_seconds == 5.0


def test_planned_steps_from_epochs_or_max_steps():
    assert planned_steps(train_examples=100, batch_size=8, epochs=1.0, max_steps=0) == 13
    assert planned_steps(train_examples=100, batch_size=8, epochs=2.0, max_steps=0) == 26
    assert planned_steps(train_examples=100, batch_size=8, epochs=1.0, max_steps=5) == 5


def test_loading_the_urlconf_imports_no_training_library():
    code = (
        "import django, os, sys; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
        "'curation.settings.test'); django.setup(); import curation.urls; "
        "heavy = {'torch', 'transformers', 'peft', 'sklearn', 'rouge_score', 'sacrebleu'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"
