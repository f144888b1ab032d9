"""The worker side of a training run: write the version's splits, run the pure runner with
progress, and record the results, curves and model card on the `TrainingRun`."""

import time
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from curation.exceptions import AssayError
from curation.models import DatasetVersion, Run
from curation.services.runs import Progress
from training.core.config import TrainingConfigError, config_from_dict
from training.core.distributed import LaunchOptions, TrainingLaunchError, train_in_processes
from training.models import TrainingRun

SPLITS = ("train", "validation", "test")


def _record(member, project) -> dict | None:
    fields = member.fields
    if project.is_classification:
        if not member.label:
            return None  # unlabelled examples cannot teach a classifier
        text = "\n".join(str(fields.get(name, "")) for name in project.content_fields)
        return {"text": text, "label": member.label}
    record = {"prompt": fields.get("prompt", ""), "response": fields.get("response", "")}
    if fields.get("system"):
        record["system"] = fields["system"]
    return record


def training_data_write(*, version: DatasetVersion, folder: Path) -> dict[str, int]:
    """The version's frozen members as ``<split>.jsonl`` files for the runner, in
    external-id order; returns the count per split."""
    from training.core.data import write_split

    counts = {}
    for split in SPLITS:
        members = version.members.filter(split=split).only("external_id", "fields", "label")
        members = sorted(members, key=lambda member: member.external_id)
        records = [r for r in (_record(m, version.project) for m in members) if r is not None]
        write_split(folder, split, records)
        counts[split] = len(records)
    return counts


class HistoryRecorder:
    """Appends curve points to the run's row as they come, at most every two seconds."""

    INTERVAL = 2.0

    def __init__(self, training_run: TrainingRun) -> None:
        self.training_run = training_run
        self.history = {"train": [], "validation": [], **(training_run.history or {})}
        self._last_write = 0.0

    def __call__(self, kind: str, record: dict) -> None:
        points = [p for p in self.history[kind] if p["step"] != record["step"]]
        self.history[kind] = [*points, record]
        if time.monotonic() - self._last_write >= self.INTERVAL:
            self._last_write = time.monotonic()
            TrainingRun.objects.filter(pk=self.training_run.pk).update(history=self.history)


def training_run_handler(run: Run, progress: Progress) -> dict:
    """Handler of runs of kind ``training`` (registered in `TrainingConfig.ready`)."""
    training_run = TrainingRun.objects.select_related("version", "project").get(pk=run.target_id)
    TrainingRun.objects.filter(pk=training_run.pk).update(run=run)
    version = training_run.version
    if version.content_hash != training_run.version_hash:
        raise AssayError(f"{version} changed since the run was launched; launch a new run.")
    output = Path(training_run.output_dir)
    counts = training_data_write(version=version, folder=output / "data")
    progress.log(f"Data from {version} ({version.content_hash[:12]}): {counts}")
    try:
        config = config_from_dict(training_run.config)
        result = _train(config, output, progress, HistoryRecorder(training_run))
    except (TrainingConfigError, ValueError) as exc:
        raise AssayError(f"Training could not run: {exc}") from exc
    except TrainingLaunchError as exc:
        raise AssayError(str(exc)) from exc
    training_run = training_run_record_result(training_run=training_run, result=result)
    if result.get("mlflow_run_id"):
        _model_card_to_mlflow(training_run, result["mlflow_run_id"], progress)
    progress.update(100, f"Trained {result['global_step']} steps; evaluated on the test split")
    return {
        "mlflow_run_id": result.get("mlflow_run_id"),
        "processes": result.get("processes", 1),
        "training_run_id": training_run.pk,
        "steps": result["global_step"],
        "stopped_at_budget": bool(result.get("stopped_at_budget")),
        "best_metric": result["best_metric"],
        "verdict": (result.get("comparison") or {}).get("verdict", ""),
    }


def launch_options() -> LaunchOptions:
    """Processes and strategy from ``settings.TRAINING_PROCESSES`` / ``TRAINING_STRATEGY``."""
    try:
        return LaunchOptions(
            processes=settings.TRAINING_PROCESSES, strategy=settings.TRAINING_STRATEGY
        )
    except ValueError as exc:
        raise AssayError(f"Training settings: {exc}") from exc


def _train(config, output: Path, progress: Progress, recorder: HistoryRecorder) -> dict:
    """The runner in this process, or in several started by torchrun when
    ``settings.TRAINING_PROCESSES`` > 1; either way the same result comes back."""
    from .launch import model_cache_dir

    options = launch_options()
    if options.processes > 1:
        return train_in_processes(
            config,
            output / "data",
            output,
            options=options,
            reporter=progress,
            on_record=recorder,
            tracking_uri=settings.MLFLOW_TRACKING_URI,
            model_cache_dir=model_cache_dir(),
            cwd=settings.BASE_DIR,
        )
    from training.core.runner import train

    return train(
        config,
        output / "data",
        output,
        reporter=progress,
        model_cache_dir=model_cache_dir(),
        on_record=recorder,
        tracking_uri=settings.MLFLOW_TRACKING_URI,
    )


def _model_card_to_mlflow(training_run: TrainingRun, mlflow_run_id: str, progress) -> None:
    """The card is rendered after the runner returns, so it joins the MLflow run here; a
    store that fails only costs a warning, like every other MLflow call."""
    from training.core.tracking import model_card_log

    try:
        model_card_log(
            tracking_uri=settings.MLFLOW_TRACKING_URI,
            run_id=mlflow_run_id,
            card=training_run.model_card,
        )
    except Exception as exc:  # noqa: BLE001 - any MLflow failure is a warning, never a failed run
        progress.log(f"Warning: the model card did not reach MLflow: {exc}")


@transaction.atomic
def training_run_record_result(*, training_run: TrainingRun, result: dict) -> TrainingRun:
    """Store the runner's result and the model card on the registry row."""
    from training.core.model_card import CardInfo, render_model_card

    training_run.history = result["history"]
    training_run.best_metric = result["best_metric"]
    training_run.comparison = result.get("comparison")
    training_run.forgetting = result.get("forgetting")
    training_run.train_seconds = result["train_seconds"]
    training_run.global_step = result["global_step"]
    training_run.stopped_at_budget = bool(result.get("stopped_at_budget"))
    training_run.artifact_path = result["artifact"]
    training_run.artifact_kind = result["artifact_kind"]
    training_run.base_model = result["base_model"]
    training_run.finished_at = timezone.now()
    training_run.model_card = render_model_card(
        CardInfo(
            title=training_run.project.name,
            task_type=training_run.task_type,
            base_model=training_run.base_model,
            method=training_run.method,
            artifact_kind=training_run.artifact_kind,
            version_number=training_run.version.number,
            version_hash=training_run.version_hash,
            code_version=training_run.code_version,
            config=training_run.config,
            result=result,
        )
    )
    training_run.save()
    (Path(training_run.output_dir) / "model" / "MODEL_CARD.md").write_text(training_run.model_card)
    return training_run
