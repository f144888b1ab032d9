"""Optional MLflow logging of a training run: the config as params, loss and validation
metrics by step, the final comparison, and the result and model as artifacts.

Off unless a tracking URI is given: the runner's ``tracking_uri`` argument, else the
``ASSAY_MLFLOW_TRACKING_URI`` environment variable, e.g. ``file:/srv/assay/mlruns`` (a
local file store that the full ``mlflow ui`` can show). MLflow 3 keeps file stores
in maintenance mode behind ``MLFLOW_ALLOW_FILE_STORE``; `client_for` opts in for file URIs
and turns MLflow's usage telemetry off, each unless the variable is already set.

Tracking never stops training: the first MLflow error goes to the run log as a warning and
logging stops for that run. The MLflow run id is kept in the output folder, so an attempt
that resumes a killed run logs to the same MLflow run.
"""

import logging
import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

ENVIRONMENT_VARIABLE = "ASSAY_MLFLOW_TRACKING_URI"
EXPERIMENT = "assay"
RUN_ID_FILE = "mlflow_run_id.txt"
ADAPTER_KIND = "LoRA adapter"

logger = logging.getLogger(__name__)


def tracking_uri_from_environment() -> str:
    return os.environ.get(ENVIRONMENT_VARIABLE, "").strip()


def config_params(config: dict) -> dict[str, str]:
    """MLflow params are strings: lists become comma-separated."""
    return {
        name: ",".join(map(str, value)) if isinstance(value, list) else str(value)
        for name, value in config.items()
    }


def step_metrics(kind: str, record: dict) -> dict[str, float]:
    """A history record as metric names: ``train_loss``, ``validation_accuracy``, ..."""
    return {f"{kind}_{name}": float(value) for name, value in record.items() if name != "step"}


def final_metrics(result: dict) -> dict[str, float]:
    """The test comparison per system (``test_fine_tuned_accuracy``, its ``_ci_low`` and
    ``_ci_high``), the forgetting check and the run's size."""
    values: dict[str, float] = {"global_step": result.get("global_step") or 0}
    if result.get("train_seconds") is not None:
        values["train_seconds"] = result["train_seconds"]
    systems = (result.get("comparison") or {}).get("systems", {})
    for system, details in systems.items():
        for name, value in details.get("metrics", {}).items():
            key = f"test_{system}_{name}"
            if isinstance(value, list) and len(value) == 2:
                values[f"{key}_low"], values[f"{key}_high"] = value
            elif isinstance(value, int | float):
                values[key] = value
    forgetting = result.get("forgetting") or {}
    for name in ("perplexity_before", "perplexity_after", "change_percent"):
        if forgetting.get(name) is not None:
            values[f"forgetting_{name}"] = forgetting[name]
    return {name: float(value) for name, value in values.items()}


class MlflowTracker:
    """Logs one training run to MLflow through `MlflowClient` (no global active run, so
    runs in one worker process do not mix). Every call is guarded by `_guarded`."""

    def __init__(self, tracking_uri: str, *, warn: Callable[[str], None]) -> None:
        self.tracking_uri = tracking_uri
        self.warn = warn
        self.client = None
        self.run_id: str | None = None

    @property
    def active(self) -> bool:
        return self.run_id is not None

    def start(self, *, config: dict, base_model: str, output_dir: Path) -> None:
        """Create the MLflow run (or reopen the one a killed attempt started) and log the
        config as params; nothing when no tracking URI is set."""
        if self.tracking_uri:
            self._guarded("start", self._start, config, base_model, Path(output_dir))

    def _start(self, config: dict, base_model: str, output_dir: Path) -> None:
        self.client = client_for(self.tracking_uri)
        run_id_file = output_dir / RUN_ID_FILE
        if run_id_file.exists():
            self.run_id = run_id_file.read_text().strip()
            self.client.update_run(self.run_id, status="RUNNING")
            return
        experiment = self.client.get_experiment_by_name(EXPERIMENT)
        experiment_id = (
            experiment.experiment_id if experiment else self.client.create_experiment(EXPERIMENT)
        )
        run = self.client.create_run(
            experiment_id,
            run_name=output_dir.name,
            tags={"assay.output_dir": str(output_dir), "assay.task_type": config["task_type"]},
        )
        self.run_id = run.info.run_id
        run_id_file.write_text(self.run_id)
        params = {**config_params(config), "base_model_path": base_model}
        self._log_batch(params=params)

    def log_record(self, kind: str, record: dict) -> None:
        """One history point (``kind`` is ``train`` or ``validation``) at its step."""
        if self.active:
            self._guarded(
                "metrics", self._log_batch, metrics=step_metrics(kind, record), step=record["step"]
            )

    def finish(self, result: dict, *, output_dir: Path) -> None:
        """Final metrics, the artifact's path and kind as tags, ``result.json`` and (for a
        LoRA adapter, which is small) the model folder as artifacts; the run ends FINISHED.
        Full weights stay where they are: copying gigabytes into the store helps nobody."""
        if self.active:
            self._guarded("results", self._finish, result, Path(output_dir))

    def _finish(self, result: dict, output_dir: Path) -> None:
        self._log_batch(metrics=final_metrics(result), step=result.get("global_step") or 0)
        for name in ("artifact", "artifact_kind"):
            self.client.set_tag(self.run_id, f"assay.{name}", str(result.get(name, "")))
        self.client.log_artifact(self.run_id, str(output_dir / "result.json"))
        if result.get("artifact_kind") == ADAPTER_KIND:
            self.client.log_artifacts(self.run_id, result["artifact"], artifact_path="model")
        self.client.set_terminated(self.run_id, status="FINISHED")

    def fail(self) -> None:
        """Mark the MLflow run FAILED (training raised); a resume reopens it."""
        if self.active:
            self._guarded("status", self.client.set_terminated, self.run_id, status="FAILED")

    def _log_batch(self, *, params=None, metrics=None, step: int = 0) -> None:
        import time

        from mlflow.entities import Metric, Param

        stamp = int(time.time() * 1000)
        self.client.log_batch(
            self.run_id,
            metrics=[Metric(k, v, stamp, step) for k, v in (metrics or {}).items()],
            params=[Param(k, v) for k, v in (params or {}).items()],
        )

    def _guarded(self, what: str, function, *args, **kwargs) -> None:
        try:
            function(*args, **kwargs)
        except Exception as exc:  # any tracking failure, whatever its kind, must not end training
            message = (
                f"Warning: MLflow logging ({what}) to {self.tracking_uri} failed: "
                f"{type(exc).__name__}: {exc}. Training goes on without MLflow logging."
            )
            logger.warning(message)
            self.warn(message)
            self.run_id = None


def client_for(tracking_uri: str):
    """An `MlflowClient` for ``tracking_uri``, with the environment MLflow reads set first."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    if urlparse(tracking_uri).scheme in ("", "file"):
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri)


def model_card_log(*, tracking_uri: str, run_id: str, card: str) -> None:
    """Add the model card (rendered after the runner returns) to a finished MLflow run as
    ``MODEL_CARD.md``. Raises on failure; callers decide whether that matters."""
    client_for(tracking_uri).log_text(run_id, card, "MODEL_CARD.md")
