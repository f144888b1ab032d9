"""Deploying a finished training run under a name, starting it in the worker, stopping it."""

import re

from django.db import transaction
from django.utils import timezone

from curation.exceptions import AssayError
from curation.models import Run, RunStatus
from curation.services.audit import audit_record
from curation.services.runs import Progress, run_enqueue
from serving.core.engine import CLASSIFICATION, Decoding, EngineError
from serving.engines.vllm import vllm_decoding_check
from serving.models import Deployment, Experiment, Variant
from serving.services.engines import engine_for, engine_release
from training.core.decoding import DecodingError, decoding_from_dict
from training.models import TrainingRun

RUN_KIND = "deployment_start"
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not NAME_PATTERN.match(name):
        raise AssayError(
            f"'{name}' is not a usable model name: use 1-100 lower-case letters, digits, "
            "'-' or '_', starting with a letter or digit."
        )
    if (
        Deployment.objects.filter(name=name).exists()
        or Experiment.objects.filter(name=name).exists()
    ):
        raise AssayError(f"The name '{name}' is taken by another deployment or experiment.")
    return name


def _check_deployable(training_run: TrainingRun, engine: str) -> None:
    if engine not in Deployment.Engine.values:
        raise AssayError(
            f"Unknown engine '{engine}'; expected one of {', '.join(Deployment.Engine.values)}."
        )
    finished = training_run.run is not None and training_run.run.status == RunStatus.SUCCEEDED
    if not finished or not training_run.artifact_path:
        raise AssayError(
            f"Training run {training_run.pk} has not finished ({training_run.status}); only a "
            "finished run's model can be deployed."
        )
    if engine == Deployment.Engine.VLLM and training_run.task_type == CLASSIFICATION:
        raise AssayError(
            "vLLM serves generation models here; deploy classification models on the "
            "built-in engine."
        )


def deployment_decoding(*, training_run: TrainingRun, overrides: dict | None = None) -> dict:
    """The deployment's default decoding: the run's (how its test split was evaluated),
    with ``overrides`` over it; a bad value is refused naming the field."""
    config = training_run.config or {}
    names = ("num_beams", "length_penalty", "temperature", "top_p")
    values = {"max_tokens": int(config.get("max_new_tokens") or 64)}
    values.update({name: config[name] for name in names if name in config})
    try:
        decoding = decoding_from_dict({**values, **(overrides or {})})
    except (DecodingError, TypeError) as exc:
        raise AssayError(f"Bad decoding for the deployment: {exc}") from exc
    return decoding.as_dict()


def _model_fields(training_run: TrainingRun, decoding: dict | None = None) -> dict:
    config = training_run.config or {}
    adapter = training_run.method != "full"
    return {
        "task_type": training_run.task_type,
        "base_model": training_run.base_model if adapter else training_run.artifact_path,
        "adapter_path": training_run.artifact_path if adapter else "",
        "labels": list(config.get("labels") or []),
        "max_length": int(config.get("max_length") or 512),
        "decoding": deployment_decoding(training_run=training_run, overrides=decoding),
    }


@transaction.atomic
def deployment_prepare(
    *,
    training_run: TrainingRun,
    name: str,
    engine: str = Deployment.Engine.BUILTIN,
    decoding: dict | None = None,
    created_by=None,
) -> Deployment:
    """A new deployment of a finished training run's model as ``name``, not started yet.
    Refused (AssayError) for an unfinished run, a taken name, an engine that cannot serve
    the task, or decoding the engine cannot do. ``decoding`` overrides the run's decoding
    (num_beams, length_penalty, temperature, top_p, max_tokens)."""
    _check_deployable(training_run, engine)
    fields = _model_fields(training_run, decoding)
    if engine == Deployment.Engine.VLLM:
        try:
            vllm_decoding_check(decoding_from_dict(fields["decoding"]))
        except EngineError as exc:
            raise AssayError(str(exc)) from exc
    deployment = Deployment.objects.create(
        project=training_run.project,
        training_run=training_run,
        name=_check_name(name),
        engine=engine,
        created_by=created_by,
        **fields,
    )
    audit_record(
        project=deployment.project,
        actor=created_by,
        action="deployment.start",
        target=deployment,
        version=training_run.version,
        after={"name": deployment.name, "engine": engine, "training_run": training_run.pk},
        message=f"Deployed training run {training_run.pk} as '{deployment.name}' ({engine})",
    )
    return deployment


@transaction.atomic
def deployment_start(
    *,
    training_run: TrainingRun,
    name: str,
    engine: str = Deployment.Engine.BUILTIN,
    decoding: dict | None = None,
    created_by=None,
) -> Deployment:
    """Prepare a deployment and queue its start: the worker loads the model and answers a
    smoke request before the deployment turns active."""
    deployment = deployment_prepare(
        training_run=training_run,
        name=name,
        engine=engine,
        decoding=decoding,
        created_by=created_by,
    )
    deployment.run = run_enqueue(
        kind=RUN_KIND,
        target=deployment,
        project=deployment.project,
        params={"deployment_id": deployment.pk},
        created_by=created_by,
    )
    deployment.save(update_fields=["run"])
    return deployment


@transaction.atomic
def deployment_start_retry(*, deployment: Deployment, created_by=None) -> Deployment:
    """Start a deployment again whose start failed, or whose worker died mid-start (that
    run, left running, is marked failed by `run_enqueue` first). Refused for an active or
    stopped deployment, and (`RunAlreadyActive`) while its start is still live."""
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    if deployment.status in (Deployment.Status.ACTIVE, Deployment.Status.STOPPED):
        raise AssayError(
            f"Deployment '{deployment.name}' is {deployment.get_status_display().lower()}; "
            "only a deployment whose start failed is started again."
        )
    deployment.run = run_enqueue(
        kind=RUN_KIND,
        target=deployment,
        project=deployment.project,
        params={"deployment_id": deployment.pk},
        created_by=created_by,
    )
    deployment.status = Deployment.Status.STARTING
    deployment.error = ""
    deployment.save(update_fields=["run", "status", "error"])
    audit_record(
        project=deployment.project,
        actor=created_by,
        action="deployment.retry",
        target=deployment,
        message=f"Started '{deployment.name}' again",
    )
    return deployment


def _smoke_test(deployment: Deployment) -> str:
    engine = engine_for(deployment)
    if deployment.task_type == CLASSIFICATION:
        result = engine.classify(deployment.name, ["hello"])[0]
        return f"smoke request classified as '{result.label}'"
    answer = engine.chat(
        deployment.name, [{"role": "user", "content": "Hello"}], Decoding(max_tokens=4)
    )
    return f"smoke request answered with {answer.completion_tokens} tokens"


def deployment_start_run_handler(run: Run, progress: Progress) -> dict:
    """Handler of runs of kind ``deployment_start``: start the engine, load the model,
    answer one request, then mark the deployment active (or failed, with the reason)."""
    deployment = Deployment.objects.get(pk=run.target_id)
    Deployment.objects.filter(pk=deployment.pk).update(run=run)
    progress.update(5, f"Loading {deployment.name} on the {deployment.engine} engine")
    try:
        smoke = _smoke_test(deployment)
        if deployment.engine == Deployment.Engine.VLLM:
            url = engine_for(deployment).url_of(deployment.name)
            Deployment.objects.filter(pk=deployment.pk).update(engine_url=url)
    except (EngineError, OSError, ValueError) as exc:
        Deployment.objects.filter(pk=deployment.pk).update(
            status=Deployment.Status.FAILED, error=str(exc)
        )
        raise AssayError(f"Deployment '{deployment.name}' could not start: {exc}") from exc
    progress.log(smoke)
    if deployment.engine == Deployment.Engine.BUILTIN:
        # The worker only proved the model loads; web processes load it on first use.
        engine_release(deployment)
    Deployment.objects.filter(pk=deployment.pk).update(
        status=Deployment.Status.ACTIVE, started_at=timezone.now(), error=""
    )
    return {"deployment_id": deployment.pk, "name": deployment.name, "smoke": smoke}


@transaction.atomic
def deployment_stop(*, deployment: Deployment, user=None) -> Deployment:
    """Stop answering as ``deployment``. Refused while a running experiment sends it
    traffic: end the experiment first (its kill switch keeps only the champion)."""
    busy = Variant.objects.filter(
        deployment=deployment, experiment__status=Experiment.Status.RUNNING
    ).select_related("experiment")
    if busy:
        names = ", ".join(sorted({v.experiment.name for v in busy}))
        raise AssayError(
            f"'{deployment.name}' serves running experiment(s) {names}; stop them first."
        )
    if deployment.status == Deployment.Status.STOPPED:
        raise AssayError(f"'{deployment.name}' is already stopped.")
    deployment.status = Deployment.Status.STOPPED
    deployment.stopped_at = timezone.now()
    deployment.save(update_fields=["status", "stopped_at"])
    engine_release(deployment)
    audit_record(
        project=deployment.project,
        actor=user,
        action="deployment.stop",
        target=deployment,
        message=f"Stopped deployment '{deployment.name}'",
    )
    return deployment
