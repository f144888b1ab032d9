"""A training worker killed mid-run resumes from its last checkpoint."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from training.core.config import TrainingConfig
from training.core.runner import last_checkpoint, train

REPO = Path(__file__).resolve().parents[2]


def _wait_for_checkpoint(process, output: Path, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        checkpoint = last_checkpoint(output)
        # trainer_state.json is written last: the checkpoint is complete
        if checkpoint and (Path(checkpoint) / "trainer_state.json").exists():
            return checkpoint
        if process.poll() is not None:
            pytest.fail(f"the training process ended early: {process.stderr.read()}")
        time.sleep(0.05)
    pytest.fail("no checkpoint appeared")


@pytest.mark.slow
def test_killed_worker_resumes_from_its_last_checkpoint(tiny_bert, classification_data, tmp_path):
    config = TrainingConfig(
        task_type="classification",
        base_model=tiny_bert,
        labels=["ham", "spam"],
        max_steps=60,
        batch_size=4,
        max_length=16,
        eval_steps=5,
        eval_max_examples=4,
        early_stopping_patience=0,
        bootstrap_samples=20,
    )
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config.to_dict()))
    output = tmp_path / "out"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "training.core.runner",
            str(config_file),
            str(classification_data),
            str(output),
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        checkpoint = _wait_for_checkpoint(process, output)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert not (output / "result.json").exists()
    killed_at = int(last_checkpoint(output).rsplit("-", 1)[1])
    assert killed_at >= int(checkpoint.rsplit("-", 1)[1])

    result = train(config, classification_data, output)

    assert result["resumed_from"].endswith(f"checkpoint-{killed_at}")
    assert result["global_step"] == 60
    # the curves span the whole run: logged before the kill and after the resume
    steps = [r["step"] for r in result["history"]["validation"]]
    assert steps == list(range(5, 61, 5))
