"""Launching training: only on approved versions, with a validated config and an estimate
that must fit the machine; resuming a run whose worker was killed."""

import subprocess
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from curation.exceptions import AssayError
from curation.models import DatasetVersion, Run, RunStatus, Split
from curation.services.audit import audit_record
from curation.services.runs import run_enqueue
from training.core.config import (
    TrainingConfig,
    TrainingConfigError,
    config_fields,
    config_from_dict,
    task_defaults,
)
from training.core.estimate import Estimate, ModelShape, estimate_run, planned_steps
from training.models import TrainingRun

RUN_KIND = "training"

# The bundled defaults, measured on 2 CPU threads (../shared/STACK.md): shape, and seconds
# per step at (batch, length), scaled linearly to the run's batch × length.
DEFAULT_MODEL_PROFILES = {
    "classification": (ModelShape(22_713_216, 384, 6), 0.62, 16 * 64),
    "generation": (ModelShape(134_515_008, 576, 30), 4.6, 8 * 96),
}
# A mixed bf16 step's share of a float32 step, for the bundled generation model on a CPU
# with native bf16: 3.25 s (327.9 s for 101 steps) against 4.69 s (370.7 s for 79) in
# 6-minute one-click runs on E2E NLG (benchmarks/results/e2e_nlg_bf16fix_dev.json).
MIXED_BFLOAT16_STEP_SHARE = 0.69


def training_dir() -> Path:
    return Path(getattr(settings, "TRAINING_DIR", settings.DATA_DIR / "training"))


def model_cache_dir() -> Path:
    return Path(getattr(settings, "TRAINING_MODEL_CACHE", settings.DATA_DIR / "models"))


def code_version() -> str:
    """The git revision of the running code ('unknown' outside a checkout)."""
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return completed.stdout.strip()


def launch_values(*, version: DatasetVersion, base_model: str = "") -> dict[str, Any]:
    """What the launch page offers for ``version``: every option's default, with the
    task's own defaults (`task_defaults`) over the general ones, and the project's task
    type (the page hides it; `training_config_for` sets it the same way)."""
    values = {row["name"]: row["default"] for row in config_fields()}
    values.update(task_defaults(version.project.task_type, base_model))
    values["task_type"] = version.project.task_type
    return values


def training_config_for(*, version: DatasetVersion, values: dict[str, Any]) -> TrainingConfig:
    """The run's config: the user's values over the task's defaults, plus the project's
    task type and label set."""
    project = version.project
    base_model = str(values.get("base_model") or "")
    values = {**task_defaults(project.task_type, base_model), **values}
    values["task_type"] = project.task_type
    if project.is_classification:
        values["labels"] = version.manifest.get("labels") or project.label_set
    try:
        return config_from_dict(values)
    except TrainingConfigError as exc:
        raise AssayError(str(exc)) from exc


def _profile(config: TrainingConfig) -> tuple[ModelShape, float | None]:
    if not config.base_model:
        shape, seconds, tokens = DEFAULT_MODEL_PROFILES[config.task_type]
        seconds *= (config.batch_size * config.max_length) / tokens
        if config.precision == "mixed_bfloat16":
            seconds *= MIXED_BFLOAT16_STEP_SHARE
        return shape, seconds
    from training.core.models import model_shape

    try:
        return model_shape(config.base_model), None
    except (OSError, ValueError) as exc:
        raise AssayError(
            f"Cannot read the base model '{config.base_model}': {exc}. Give a local folder, "
            "or the id of a model already in the Hugging Face cache (this machine is offline)."
        ) from exc


def training_estimate(*, version: DatasetVersion, config: TrainingConfig) -> Estimate:
    """Memory and time for this config on this machine (see `training.core.estimate`)."""
    from training.core.models import current_hardware

    shape, seconds_per_step = _profile(config)
    hardware = current_hardware()
    limit = getattr(settings, "TRAINING_MEMORY_BYTES", None)
    if limit:
        hardware = type(hardware)(device=hardware.device, memory_bytes=limit, cores=hardware.cores)
    train_examples = version.members.filter(split=Split.TRAIN).count()
    steps = planned_steps(
        train_examples=train_examples,
        batch_size=config.batch_size,
        epochs=config.epochs,
        max_steps=config.max_steps,
    )
    return estimate_run(
        shape,
        hardware,
        method=config.method,
        lora_r=config.lora_r,
        batch_size=config.batch_size,
        max_length=config.max_length,
        steps=steps,
        seconds_per_step=seconds_per_step,
        budget_seconds=config.max_minutes * 60,
        train_examples=train_examples,
    )


def _check_launchable(version: DatasetVersion, config: TrainingConfig) -> Estimate:
    if not version.is_approved:
        raise AssayError(
            f"{version} is {version.get_status_display().lower()}; only approved versions can "
            "be trained on. Submit it for review and have it approved first."
        )
    if config.method == "qlora":
        from training.core.models import qlora_available

        if not qlora_available():
            raise AssayError(
                "QLoRA needs a CUDA GPU and the bitsandbytes package, and this machine lacks "
                "them; choose 'lora' or 'full'."
            )
    estimate = training_estimate(version=version, config=config)
    if not estimate.fits:
        raise AssayError(f"This run cannot fit on this machine: it {estimate.summary()}.")
    from loop.services.costs import budget_check_launch  # the project's compute budget

    budget_check_launch(
        project=version.project, estimate_seconds=estimate.total_seconds, hardware=_device()
    )
    return estimate


def _device() -> str:
    from training.core.models import current_hardware

    return current_hardware().device


@transaction.atomic
def training_run_prepare(
    *, version: DatasetVersion, values: dict[str, Any], created_by=None
) -> TrainingRun:
    """A new training run on an approved version, refused (AssayError) for any other
    version, a bad config or a run that cannot fit. Nothing is started."""
    config = training_config_for(version=version, values=values)
    estimate = _check_launchable(version, config)
    training_run = TrainingRun.objects.create(
        project=version.project,
        version=version,
        version_hash=version.content_hash,
        task_type=config.task_type,
        method=config.method,
        base_model=config.base_model or f"(default for {config.task_type})",
        config=config.to_dict(),
        code_version=code_version(),
        estimate=estimate.as_dict(),
        output_dir="",
        created_by=created_by,
    )
    training_run.output_dir = str(training_dir() / str(training_run.pk))
    training_run.save(update_fields=["output_dir"])
    audit_record(
        project=version.project,
        actor=created_by,
        action="training.launch",
        target=training_run,
        version=version,
        after={"method": config.method, "base_model": training_run.base_model},
        message=f"Training run {training_run.pk} on v{version.number} ({config.method})",
    )
    return training_run


@transaction.atomic
def training_run_start(
    *, version: DatasetVersion, values: dict[str, Any], created_by=None
) -> TrainingRun:
    """Prepare a training run and queue it for the worker."""
    training_run = training_run_prepare(version=version, values=values, created_by=created_by)
    return _enqueue(training_run, created_by)


def _enqueue(training_run: TrainingRun, created_by) -> TrainingRun:
    run = run_enqueue(
        kind=RUN_KIND,
        target=training_run,
        project=training_run.project,
        params={"training_run_id": training_run.pk},
        created_by=created_by,
    )
    training_run.run = run
    training_run.save(update_fields=["run"])
    return training_run


@transaction.atomic
def training_run_resume(*, training_run: TrainingRun, created_by=None) -> TrainingRun:
    """Queue another attempt of a run whose worker failed or was killed; it continues from
    its last checkpoint. A run still active (with a recent heartbeat) is refused by
    `run_enqueue`; one whose worker stopped reporting is marked failed there first."""
    latest: Run | None = training_run.run
    if latest is not None and latest.status == RunStatus.SUCCEEDED:
        raise AssayError(f"Training run {training_run.pk} already finished; nothing to resume.")
    return _enqueue(training_run, created_by)
