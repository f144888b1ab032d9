"""Optional MLflow logging of training runs, to a local file store read back with
MLflow's own client."""

import json

import pytest

from tests.training.test_runner import classification_config
from training.core import tracking
from training.core.runner import train


class LogLines:
    """A reporter that keeps the run log."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def update(self, percent: float, message: str = "") -> None:
        pass

    def log(self, line: str) -> None:
        self.lines.append(line)


@pytest.mark.slow
def test_run_is_logged_to_the_store_named_by_the_environment(
    tiny_bert, classification_data, tmp_path, monkeypatch
):
    uri = f"file:{tmp_path / 'mlruns'}"
    monkeypatch.setenv(tracking.ENVIRONMENT_VARIABLE, uri)
    reporter = LogLines()
    config = classification_config(tiny_bert, learning_rate=4e-3)

    result = train(config, classification_data, tmp_path / "out", reporter=reporter)

    run_id = result["mlflow_run_id"]
    assert run_id and f"Logged to MLflow run {run_id} at {uri}" in reporter.lines
    assert json.loads((tmp_path / "out" / "result.json").read_text())["mlflow_run_id"] == run_id
    client = tracking.client_for(uri)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["learning_rate"] == "0.004"
    assert run.data.params["labels"] == "ham,spam"
    assert run.data.params["base_model_path"] == tiny_bert
    validation = client.get_metric_history(run_id, "validation_accuracy")
    assert [m.step for m in validation] == [4, 8, 12]
    assert [m.value for m in validation] == [
        pytest.approx(r["accuracy"]) for r in result["history"]["validation"]
    ]
    assert [m.step for m in client.get_metric_history(run_id, "train_loss")] == [
        r["step"] for r in result["history"]["train"]
    ]
    tuned = result["comparison"]["systems"]["fine_tuned"]["metrics"]
    assert run.data.metrics["test_fine_tuned_accuracy"] == pytest.approx(tuned["accuracy"])
    assert run.data.metrics["test_fine_tuned_accuracy_ci_low"] == pytest.approx(
        tuned["accuracy_ci"][0]
    )
    assert run.data.tags["assay.artifact"] == result["artifact"]
    artifacts = {a.path for a in client.list_artifacts(run_id)}
    assert {"result.json", "model"} <= artifacts
    model_files = {a.path for a in client.list_artifacts(run_id, "model")}
    assert "model/adapter_config.json" in model_files


@pytest.mark.slow
def test_off_by_default_nothing_is_written(tiny_bert, classification_data, tmp_path, monkeypatch):
    monkeypatch.delenv(tracking.ENVIRONMENT_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)  # MLflow's own default store would be ./mlruns

    result = train(
        classification_config(tiny_bert, max_steps=4), classification_data, tmp_path / "out"
    )

    assert result["mlflow_run_id"] is None
    assert not (tmp_path / "mlruns").exists()
    assert not (tmp_path / "out" / tracking.RUN_ID_FILE).exists()


@pytest.mark.slow
def test_a_store_that_fails_leaves_a_warning_and_the_run_finishes(
    tiny_bert, classification_data, tmp_path
):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store should be")
    reporter = LogLines()

    result = train(
        classification_config(tiny_bert, max_steps=4),
        classification_data,
        tmp_path / "out",
        reporter=reporter,
        tracking_uri=f"file:{blocker / 'mlruns'}",
    )

    assert result["global_step"] == 4 and result["comparison"] is not None
    assert result["mlflow_run_id"] is None
    warnings = [line for line in reporter.lines if "MLflow logging" in line]
    assert len(warnings) == 1 and "Training goes on without MLflow logging" in warnings[0]


def test_a_resumed_attempt_logs_to_the_same_run(tmp_path):
    uri = f"file:{tmp_path / 'mlruns'}"
    config = {"task_type": "classification", "labels": ["ham", "spam"], "epochs": 1.0}
    first = tracking.MlflowTracker(uri, warn=pytest.fail)
    first.start(config=config, base_model="base", output_dir=tmp_path)
    first.log_record("train", {"step": 10, "loss": 0.9})
    first.fail()  # the worker was killed

    second = tracking.MlflowTracker(uri, warn=pytest.fail)
    second.start(config=config, base_model="base", output_dir=tmp_path)
    second.log_record("train", {"step": 20, "loss": 0.5})

    assert second.run_id == first.run_id
    client = tracking.client_for(uri)
    assert client.get_run(first.run_id).info.status == "RUNNING"
    losses = client.get_metric_history(first.run_id, "train_loss")
    assert [(m.step, m.value) for m in losses] == [(10, 0.9), (20, 0.5)]


def test_model_card_is_added_to_a_finished_run(tmp_path):
    uri = f"file:{tmp_path / 'mlruns'}"
    tracker = tracking.MlflowTracker(uri, warn=pytest.fail)
    tracker.start(config={"task_type": "generation"}, base_model="base", output_dir=tmp_path)
    tracker.client.set_terminated(tracker.run_id, status="FINISHED")

    tracking.model_card_log(tracking_uri=uri, run_id=tracker.run_id, card="# Spam filter\n")

    client = tracking.client_for(uri)
    assert client.download_artifacts(tracker.run_id, "MODEL_CARD.md", str(tmp_path)) == str(
        tmp_path / "MODEL_CARD.md"
    )
    assert (tmp_path / "MODEL_CARD.md").read_text() == "# Spam filter\n"
