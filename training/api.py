"""Training API: launch on an approved version, list a project's runs, read one run,
resume a failed one, and blind preference studies of a generation run (send to Label
Studio, read, pull votes). Services are imported inside the endpoints."""

from datetime import datetime
from typing import Any

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from curation.api.schemas import ErrorOut, InputSchema
from curation.models import DatasetVersion
from curation.permissions import Action, project_for_user
from training.models import TrainingRun

router = Router()


class TrainingStartIn(InputSchema):
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
    stopped_at_budget: bool
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


# -- blind preference ----------------------------------------------------------------------


class PreferenceStudyIn(InputSchema):
    sample_size: int = 20
    annotators_per_item: int = 1
    seed: int | None = None


class PreferenceStudyOut(Schema):
    id: int
    training_run_id: int
    ls_project_id: int
    ls_project_url: str
    sample_size: int
    identical_skipped: int
    annotators_per_item: int
    seed: int
    created_at: datetime
    pulled_at: datetime | None
    stats: dict


class PreferencePullOut(Schema):
    study: PreferenceStudyOut
    report: dict


def _study_out(study) -> dict:
    from training.selectors.preference import preference_study_stats

    fields = PreferenceStudyOut.model_fields
    values = {name: getattr(study, name) for name in fields if name != "stats"}
    return {**values, "stats": preference_study_stats(study).as_dict()}


def _no_study(training_run: TrainingRun) -> Status:
    return Status(404, {"detail": f"Training run {training_run.pk} has no preference study yet."})


@router.post(
    "/training-runs/{training_run_id}/preference",
    response={201: PreferenceStudyOut, 400: ErrorOut, 403: ErrorOut},
)
def preference_study_create(
    request, training_run_id: int, payload: PreferenceStudyIn | None = None
):
    """Send a blind sample of a generation run's test outputs to Label Studio."""
    from training.services.preference import preference_study_create as create

    training_run = get_object_or_404(TrainingRun, pk=training_run_id)
    project_for_user(request.auth, training_run.project_id, Action.TRAIN)
    payload = payload or PreferenceStudyIn()
    study = create(
        training_run=training_run,
        user=request.auth,
        sample_size=payload.sample_size,
        annotators_per_item=payload.annotators_per_item,
        seed=payload.seed,
    )
    return Status(201, _study_out(study))


@router.get(
    "/training-runs/{training_run_id}/preference",
    response={200: PreferenceStudyOut, 404: ErrorOut},
)
def preference_study_detail(request, training_run_id: int):
    """The run's latest preference study with its statistics (404 before the first)."""
    from training.selectors.preference import preference_study_latest

    training_run = get_object_or_404(TrainingRun, pk=training_run_id)
    project_for_user(request.auth, training_run.project_id, Action.VIEW)
    study = preference_study_latest(training_run)
    return _no_study(training_run) if study is None else _study_out(study)


@router.post(
    "/training-runs/{training_run_id}/preference/pull",
    response={200: PreferencePullOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def preference_study_pull(request, training_run_id: int):
    """Read the votes of the run's latest study from Label Studio; returns the statistics."""
    from training.selectors.preference import preference_study_latest
    from training.services.preference import preference_study_pull as pull

    training_run = get_object_or_404(TrainingRun, pk=training_run_id)
    project_for_user(request.auth, training_run.project_id, Action.TRAIN)
    study = preference_study_latest(training_run)
    if study is None:
        return _no_study(training_run)
    outcome = pull(study=study, user=request.auth)
    study.refresh_from_db()
    return {"study": _study_out(study), "report": outcome["report"]}
