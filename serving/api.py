"""Serving management API (under ``/api/``): deployments, application keys and experiments.
Applications themselves call the OpenAI-compatible front door (``/v1/``), not this."""

from datetime import datetime
from typing import Any

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from curation.api.schemas import ErrorOut, InputSchema
from curation.permissions import Action, project_for_user
from serving.models import Application, Deployment, Experiment
from training.models import TrainingRun

router = Router()


class DeploymentIn(InputSchema):
    name: str
    engine: str = "builtin"
    # Over the run's decoding: num_beams, length_penalty, temperature, top_p, max_tokens.
    decoding: dict[str, Any] = {}


class DeploymentOut(Schema):
    id: int
    project_id: int
    training_run_id: int
    name: str
    engine: str
    status: str
    task_type: str
    base_model: str
    adapter_path: str
    labels: list
    decoding: dict
    engine_url: str
    error: str
    run_id: int | None
    created_at: datetime
    started_at: datetime | None
    stopped_at: datetime | None
    stats: dict = {}


def _deployment_out(deployment: Deployment) -> dict:
    from serving.selectors.deployments import deployment_stats

    values = {n: getattr(deployment, n) for n in DeploymentOut.model_fields if n != "stats"}
    return {**values, "stats": deployment_stats(deployment)}


@router.post(
    "/training-runs/{training_run_id}/deployments",
    response={202: DeploymentOut, 400: ErrorOut, 403: ErrorOut},
)
def deployment_create(request, training_run_id: int, payload: DeploymentIn):
    from serving.services.deployments import deployment_start

    training_run = get_object_or_404(TrainingRun.objects.select_related("run"), pk=training_run_id)
    project_for_user(request.auth, training_run.project_id, Action.SERVE)
    deployment = deployment_start(
        training_run=training_run,
        name=payload.name,
        engine=payload.engine,
        decoding=payload.decoding,
        created_by=request.auth,
    )
    deployment.refresh_from_db()
    return Status(202, _deployment_out(deployment))


@router.get("/projects/{project_id}/deployments", response=list[DeploymentOut])
def deployment_list(request, project_id: int):
    project = project_for_user(request.auth, project_id, Action.VIEW)
    return [_deployment_out(d) for d in Deployment.objects.filter(project=project)]


@router.get("/deployments/{deployment_id}", response=DeploymentOut)
def deployment_detail(request, deployment_id: int):
    deployment = get_object_or_404(Deployment, pk=deployment_id)
    project_for_user(request.auth, deployment.project_id, Action.VIEW)
    return _deployment_out(deployment)


@router.post(
    "/deployments/{deployment_id}/stop", response={200: DeploymentOut, 400: ErrorOut, 403: ErrorOut}
)
def deployment_stop(request, deployment_id: int):
    from serving.services.deployments import deployment_stop as stop

    deployment = get_object_or_404(Deployment, pk=deployment_id)
    project_for_user(request.auth, deployment.project_id, Action.SERVE)
    return _deployment_out(stop(deployment=deployment, user=request.auth))


@router.post(
    "/deployments/{deployment_id}/restart",
    response={202: DeploymentOut, 400: ErrorOut, 403: ErrorOut},
)
def deployment_restart(request, deployment_id: int):
    """Start again a deployment whose start failed or whose worker died mid-start."""
    from serving.services.deployments import deployment_start_retry

    deployment = get_object_or_404(Deployment, pk=deployment_id)
    project_for_user(request.auth, deployment.project_id, Action.SERVE)
    deployment = deployment_start_retry(deployment=deployment, created_by=request.auth)
    deployment.refresh_from_db()
    return Status(202, _deployment_out(deployment))


# -- applications --------------------------------------------------------------------------


class ApplicationIn(InputSchema):
    name: str


class ApplicationOut(Schema):
    id: int
    project_id: int
    name: str
    key_prefix: str
    created_at: datetime
    revoked_at: datetime | None


class ApplicationCreatedOut(Schema):
    application: ApplicationOut
    key: str


@router.post(
    "/projects/{project_id}/applications",
    response={201: ApplicationCreatedOut, 400: ErrorOut, 403: ErrorOut},
)
def application_create(request, project_id: int, payload: ApplicationIn):
    """A new application key; the key is in this response only."""
    from serving.services.applications import application_create as create

    project = project_for_user(request.auth, project_id, Action.SERVE)
    application, key = create(project=project, name=payload.name, user=request.auth)
    return Status(201, {"application": application, "key": key})


@router.get("/projects/{project_id}/applications", response=list[ApplicationOut])
def application_list(request, project_id: int):
    project = project_for_user(request.auth, project_id, Action.VIEW)
    return Application.objects.filter(project=project)


@router.post(
    "/applications/{application_id}/revoke",
    response={200: ApplicationOut, 400: ErrorOut, 403: ErrorOut},
)
def application_revoke(request, application_id: int):
    from serving.services.applications import application_revoke as revoke

    application = get_object_or_404(Application, pk=application_id)
    project_for_user(request.auth, application.project_id, Action.SERVE)
    return revoke(application=application, user=request.auth)


# -- experiments ---------------------------------------------------------------------------


class VariantIn(InputSchema):
    deployment: str
    weight: float


class GuardrailIn(InputSchema):
    metric: str
    tolerance: float = 0.0
    higher_is_better: bool | None = None


class ExperimentIn(InputSchema):
    name: str
    variants: list[VariantIn]
    primary_metric: str
    primary_higher_is_better: bool = True
    guardrails: list[GuardrailIn] = []
    min_units: int = 100
    minimum_effect: float = 0.05
    alpha: float = 0.05
    rollout_steps: list[float] = []
    auto_advance: bool = True


class VariantOut(Schema):
    id: int
    deployment: str
    role: str
    weight: float


class ExperimentOut(Schema):
    id: int
    project_id: int
    name: str
    status: str
    primary_metric: str
    primary_higher_is_better: bool
    guardrails: list
    min_units: int
    minimum_effect: float
    alpha: float
    rollout_steps: list
    phase: int
    auto_advance: bool
    ended_reason: str
    created_at: datetime
    ended_at: datetime | None
    variants: list[VariantOut]
    analysis: dict


def _experiment_out(experiment: Experiment, analysis: dict | None = None) -> dict:
    from serving.services.experiments import _jsonable

    experiment.refresh_from_db()
    computed = ("variants", "analysis")
    fields = {n: getattr(experiment, n) for n in ExperimentOut.model_fields if n not in computed}
    variants = [
        {"id": v.pk, "deployment": v.deployment.name, "role": v.role, "weight": v.weight}
        for v in experiment.variants.select_related("deployment")
    ]
    analysis = _jsonable(analysis) if analysis is not None else experiment.last_analysis
    return {**fields, "variants": variants, "analysis": analysis or {}}


def _experiment(request, experiment_id: int, action: Action) -> Experiment:
    experiment = get_object_or_404(Experiment, pk=experiment_id)
    project_for_user(request.auth, experiment.project_id, action)
    return experiment


@router.post(
    "/projects/{project_id}/experiments",
    response={201: ExperimentOut, 400: ErrorOut, 403: ErrorOut},
)
def experiment_create(request, project_id: int, payload: ExperimentIn):
    from serving.services.experiments import experiment_create as create

    project = project_for_user(request.auth, project_id, Action.SERVE)
    values = payload.dict()
    values["guardrails"] = [
        {k: v for k, v in rule.items() if v is not None} for rule in values["guardrails"]
    ]
    experiment = create(project=project, user=request.auth, **values)
    return Status(201, _experiment_out(experiment))


@router.get("/projects/{project_id}/experiments", response=list[ExperimentOut])
def experiment_list(request, project_id: int):
    project = project_for_user(request.auth, project_id, Action.VIEW)
    return [_experiment_out(e) for e in Experiment.objects.filter(project=project)]


@router.get("/experiments/{experiment_id}", response=ExperimentOut)
def experiment_detail(request, experiment_id: int):
    """The experiment with a fresh analysis (nothing is changed by reading it)."""
    from serving.selectors.analysis import experiment_analysis

    experiment = _experiment(request, experiment_id, Action.VIEW)
    return _experiment_out(experiment, experiment_analysis(experiment))


@router.post(
    "/experiments/{experiment_id}/evaluate",
    response={200: ExperimentOut, 400: ErrorOut, 403: ErrorOut},
)
def experiment_evaluate(request, experiment_id: int):
    """Analyse now and act as automation would (roll out or back when due)."""
    from serving.services.experiments import experiment_evaluate as evaluate

    experiment = _experiment(request, experiment_id, Action.SERVE)
    return _experiment_out(experiment, evaluate(experiment=experiment, user=request.auth))


@router.post(
    "/experiments/{experiment_id}/advance",
    response={200: ExperimentOut, 400: ErrorOut, 403: ErrorOut},
)
def experiment_advance(request, experiment_id: int, reason: str = ""):
    from serving.services.experiments import experiment_advance as advance

    experiment = _experiment(request, experiment_id, Action.SERVE)
    return _experiment_out(advance(experiment=experiment, user=request.auth, reason=reason))


@router.post(
    "/experiments/{experiment_id}/rollback",
    response={200: ExperimentOut, 400: ErrorOut, 403: ErrorOut},
)
def experiment_rollback(request, experiment_id: int, reason: str = ""):
    from serving.services.experiments import experiment_rollback as rollback

    experiment = _experiment(request, experiment_id, Action.SERVE)
    return _experiment_out(rollback(experiment=experiment, user=request.auth, reason=reason))


@router.post(
    "/experiments/{experiment_id}/stop",
    response={200: ExperimentOut, 400: ErrorOut, 403: ErrorOut},
)
def experiment_stop(request, experiment_id: int, reason: str = ""):
    """The kill switch: all traffic to the champion, now."""
    from serving.services.experiments import experiment_stop as stop

    experiment = _experiment(request, experiment_id, Action.SERVE)
    return _experiment_out(stop(experiment=experiment, user=request.auth, reason=reason))
