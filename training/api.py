"""Training API: launch on an approved version, list a project's runs, read one run,
resume a failed one. Services are imported inside the endpoints."""

from typing import Any

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from curation.api.schemas import ErrorOut
from curation.models import DatasetVersion
from curation.permissions import Action, project_for_user
from training.models import TrainingRun

router = Router()


class TrainingStartIn(Schema):
    config: dict[str, Any] = {}


class TrainingRunOut(Schema):
    id: int
    project_id: int
    version_id: int
    version_hash: str
    task_type: str
    method: str
    base_model: str
    status: str
    run_id: int | None
    config: dict
    code_version: str
    estimate: dict
    history: dict
    best_metric: dict
    comparison: dict | None
    forgetting: dict | None
    global_step: int
    artifact_path: str
    artifact_kind: str
    model_card: str


@router.post(
    "/versions/{version_id}/training-runs",
    response={202: TrainingRunOut, 400: ErrorOut, 403: ErrorOut},
)
def training_run_create(request, version_id: int, payload: TrainingStartIn | None = None):
    from training.services import training_run_start

    version = get_object_or_404(DatasetVersion, pk=version_id)
    project_for_user(request.auth, version.project_id, Action.TRAIN)
    values = payload.config if payload else {}
    training_run = training_run_start(version=version, values=values, created_by=request.auth)
    return Status(202, training_run)


@router.get("/projects/{project_id}/training-runs", response=list[TrainingRunOut])
def training_run_list(request, project_id: int):
    from training.selectors import training_runs_for_project

    return training_runs_for_project(project_for_user(request.auth, project_id, Action.VIEW))


@router.get("/training-runs/{training_run_id}", response=TrainingRunOut)
def training_run_detail(request, training_run_id: int):
    training_run = get_object_or_404(TrainingRun.objects.select_related("run"), pk=training_run_id)
    project_for_user(request.auth, training_run.project_id, Action.VIEW)
    return training_run


@router.post(
    "/training-runs/{training_run_id}/resume",
    response={202: TrainingRunOut, 400: ErrorOut, 403: ErrorOut},
)
def training_run_resume(request, training_run_id: int):
    from training.services import training_run_resume as resume

    training_run = get_object_or_404(TrainingRun, pk=training_run_id)
    project_for_user(request.auth, training_run.project_id, Action.TRAIN)
    return Status(202, resume(training_run=training_run, created_by=request.auth))
