"""Weak-supervision API: labeling functions (list, create, edit, preview), apply and fit
runs, the latest analysis and the label-model fits. Non-members get 404, members whose
role lacks the action 403 (`curation.permissions`)."""

from datetime import datetime

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from curation.api.runs import run_out
from curation.api.schemas import ErrorOut, InputSchema, RunOut
from curation.permissions import Action, project_for_user
from curation.weak_supervision.models import LabelingFunction

router = Router()


class LFVersionOut(Schema):
    number: int
    kind: str
    label: str
    params: dict
    created_at: datetime


class LFOut(Schema):
    id: int
    name: str
    kind: str
    description: str
    is_active: bool
    current: LFVersionOut | None
    versions: list[LFVersionOut] = Field(default_factory=list)

    @staticmethod
    def resolve_current(lf) -> object:
        return lf.latest_version

    @staticmethod
    def resolve_versions(lf) -> list:
        return list(lf.versions.order_by("number"))


class LFIn(InputSchema):
    name: str
    kind: str = Field(description="keyword, regex, length, field_overlap or stopword_share")
    label: str = Field(description="The label it votes where the rule holds.")
    params: dict = Field(description='e.g. {"keywords": ["free"], "whole_word": true}')
    description: str = ""


class LFEditIn(InputSchema):
    label: str
    params: dict
    kind: str | None = None
    description: str | None = None
    is_active: bool | None = None


class PreviewIn(InputSchema):
    kind: str
    label: str
    params: dict


class PreviewOut(Schema):
    error: str
    sample: int
    votes: int
    coverage: float
    dev_votes: int
    accuracy: float | None
    matches: list[dict]


class FitOut(Schema):
    number: int
    chosen: str
    author: str
    dev_size: int
    majority_vote_accuracy: float | None
    label_model_accuracy: float | None
    labels_written: int
    low_confidence: int
    application_id: int
    created_at: datetime


# Not "ReviewIn": OpenAPI components are named by class, and the version review's schema
# of that name took this one's place in /api/openapi.json.
class WeakLabelReviewIn(InputSchema):
    threshold: float = 0.7


def _project(request, project_id: int, action: Action):
    return project_for_user(request.auth, project_id, action)


def _lf(request, lf_id: int, action: Action) -> LabelingFunction:
    lf = get_object_or_404(LabelingFunction, pk=lf_id)
    _project(request, lf.project_id, action)
    return lf


@router.get("/projects/{project_id}/labeling-functions", response=list[LFOut])
def lf_list(request, project_id: int):
    project = _project(request, project_id, Action.VIEW)
    return LabelingFunction.objects.filter(project=project)


@router.post("/projects/{project_id}/labeling-functions", response={201: LFOut, 400: ErrorOut})
def lf_create(request, project_id: int, payload: LFIn):
    from curation.weak_supervision.services.functions import labeling_function_create

    project = _project(request, project_id, Action.EDIT_DATA)
    lf = labeling_function_create(project=project, created_by=request.auth, **payload.dict())
    return Status(201, lf)


@router.get("/labeling-functions/{lf_id}", response=LFOut)
def lf_detail(request, lf_id: int):
    return _lf(request, lf_id, Action.VIEW)


@router.patch("/labeling-functions/{lf_id}", response={200: LFOut, 400: ErrorOut})
def lf_edit(request, lf_id: int, payload: LFEditIn):
    """Changing the label or the rule makes a new version."""
    from curation.weak_supervision.services import functions as services

    lf = _lf(request, lf_id, Action.EDIT_DATA)
    services.labeling_function_update(
        labeling_function=lf,
        label=payload.label,
        params=payload.params,
        kind=payload.kind,
        description=payload.description,
        created_by=request.auth,
    )
    if payload.is_active is not None:
        services.labeling_function_set_active(labeling_function=lf, is_active=payload.is_active)
    lf.refresh_from_db()
    return lf


@router.post("/projects/{project_id}/labeling-functions/preview", response=PreviewOut)
def lf_preview(request, project_id: int, payload: PreviewIn):
    from curation.weak_supervision.selectors.preview import lf_preview as preview

    project = _project(request, project_id, Action.VIEW)
    return preview(project, kind=payload.kind, params=payload.params, label=payload.label)


@router.post("/projects/{project_id}/weak-supervision/apply", response={202: RunOut, 400: ErrorOut})
def apply(request, project_id: int):
    from curation.weak_supervision.services.application import lf_apply_start

    project = _project(request, project_id, Action.EDIT_DATA)
    return Status(202, run_out(lf_apply_start(project=project, created_by=request.auth)))


@router.post("/projects/{project_id}/weak-supervision/fit", response={202: RunOut, 400: ErrorOut})
def fit(request, project_id: int):
    """Apply the LFs, fit majority vote and the label model, write the better one's labels."""
    from curation.weak_supervision.services.fit import label_model_fit_start

    project = _project(request, project_id, Action.EDIT_DATA)
    return Status(202, run_out(label_model_fit_start(project=project, created_by=request.auth)))


@router.get("/projects/{project_id}/weak-supervision/runs", response=list[RunOut])
def runs(request, project_id: int):
    from curation.models import Run

    project = _project(request, project_id, Action.VIEW)
    return [
        run_out(run)
        for run in Run.objects.filter(project=project, kind__in=["lf_apply", "label_model_fit"])[
            :50
        ]
    ]


@router.get("/projects/{project_id}/weak-supervision/analysis", response={200: dict, 404: ErrorOut})
def analysis(request, project_id: int):
    """The latest application's analysis: per-LF coverage, overlaps, conflicts, polarity
    and dev accuracy, the conflict matrix, and the LF versions that made it."""
    from curation.weak_supervision.selectors.applications import latest_application

    project = _project(request, project_id, Action.VIEW)
    application = latest_application(project)
    if application is None:
        return Status(404, {"detail": "The labeling functions have not been applied yet."})
    return {
        "application_id": application.pk,
        "created_at": application.created_at.isoformat(),
        "n_examples": application.n_examples,
        "labels": application.labels,
        "lf_versions": [
            {"name": v.labeling_function.name, "version": v.number, "id": v.pk}
            for v in application.versions
        ],
        **application.analysis,
    }


@router.get("/projects/{project_id}/weak-supervision/fits", response=list[FitOut])
def fits(request, project_id: int):
    from curation.weak_supervision.selectors.applications import project_fits

    return project_fits(_project(request, project_id, Action.VIEW))


@router.post(
    "/projects/{project_id}/weak-supervision/review", response={202: RunOut, 400: ErrorOut}
)
def review(request, project_id: int, payload: WeakLabelReviewIn):
    """Send low-confidence and conflicting weakly labelled examples to Label Studio."""
    from curation.weak_supervision.services.review import weak_labels_review_send

    project = _project(request, project_id, Action.EDIT_DATA)
    run = weak_labels_review_send(
        project=project, threshold=payload.threshold, created_by=request.auth
    )
    return Status(202, run_out(run))
