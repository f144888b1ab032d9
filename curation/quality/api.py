"""Data-quality endpoints: start a check, read checks and a version's quality summary,
list and review findings, read and edit the expectation suite."""

from datetime import datetime

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from curation.api.runs import run_out
from curation.api.schemas import ErrorOut, InputSchema, RunOut
from curation.models import DatasetVersion
from curation.permissions import Action, project_for_user
from curation.quality.core.label_issues import DEFAULT_FILTER, DEFAULT_MODEL
from curation.quality.models import ExpectationRule, Finding, QualityCheck

router = Router()


class QualityCheckIn(InputSchema):
    version_id: int | None = Field(None, description="A version id; none checks the examples.")
    checks: list[str] | None = Field(
        None, description="expectations, duplicates, outliers, label_issues; all if unset"
    )
    model: str = Field(DEFAULT_MODEL, description="ensemble, tfidf or minilm (label issues)")
    folds: int = 5
    seed: int = 0
    filter_by: str = Field(
        DEFAULT_FILTER,
        description="How label issues are chosen: prune_by_noise_rate, both, "
        "confident_learning or normalized_margin (the label-errors paper's rule)",
    )


class QualityCheckOut(Schema):
    id: int
    project_id: int
    version_id: int | None
    run_id: int | None
    options: dict
    summary: dict
    created_at: datetime


class FindingOut(Schema):
    id: int
    kind: str
    status: str
    score: float
    version_id: int | None
    details: dict
    example_ids: list[int]
    resolution: str
    reason: str
    reviewed_at: datetime | None
    sent_for_review_at: datetime | None

    @staticmethod
    def resolve_example_ids(finding) -> list[int]:
        return [example.pk for example in finding.examples.all()]


class FindingFilters(Schema):
    kind: str | None = None
    status: str | None = None
    min_score: float | None = None
    version_id: int | None = None


class FindingReviewIn(InputSchema):
    action: str = Field(description="resolve, accept (the suggested label), dismiss or reopen")
    reason: str = ""


class ExpectationIn(InputSchema):
    kind: str
    column: str = "text"
    params: dict = Field(default_factory=dict)


class ExpectationOut(Schema):
    id: int
    kind: str
    column: str
    params: dict
    enabled: bool


@router.post("/projects/{project_id}/quality/checks", response={202: RunOut, 400: ErrorOut})
def quality_check_create(request, project_id: int, payload: QualityCheckIn):
    from curation.quality.services import quality_check_start

    project = project_for_user(request.auth, project_id, Action.EDIT_DATA)
    version = None
    if payload.version_id is not None:
        version = get_object_or_404(DatasetVersion, pk=payload.version_id, project=project)
    run = quality_check_start(
        project=project,
        version=version,
        checks=payload.checks,
        model=payload.model,
        folds=payload.folds,
        seed=payload.seed,
        filter_by=payload.filter_by,
        created_by=request.auth,
    )
    return Status(202, run_out(run))


@router.get("/projects/{project_id}/quality/checks", response=list[QualityCheckOut])
def quality_check_list(request, project_id: int):
    project = project_for_user(request.auth, project_id, Action.VIEW)
    return QualityCheck.objects.filter(project=project)[:100]


@router.get("/versions/{version_id}/quality", response={200: dict, 404: ErrorOut})
def version_quality(request, version_id: int):
    """The version's quality summary (see `version_quality_summary`); 404 if never checked."""
    from curation.quality.selectors import version_quality_summary

    version = get_object_or_404(DatasetVersion, pk=version_id)
    project_for_user(request.auth, version.project_id, Action.VIEW)
    summary = version_quality_summary(version)
    if summary is None:
        return Status(404, {"detail": f"{version} has not been quality-checked yet."})
    return summary


@router.get("/projects/{project_id}/quality/findings", response=list[FindingOut])
def finding_list(request, project_id: int, filters: Query[FindingFilters]):
    from curation.quality.selectors import findings_list

    project = project_for_user(request.auth, project_id, Action.VIEW)
    return findings_list(
        project=project,
        kind=filters.kind,
        status=filters.status,
        min_score=filters.min_score,
        version_id=filters.version_id,
    )[:1000]


@router.post("/findings/{finding_id}/review", response={200: FindingOut, 400: ErrorOut})
def finding_review(request, finding_id: int, payload: FindingReviewIn):
    from curation.quality import services

    finding = get_object_or_404(Finding, pk=finding_id)
    project_for_user(request.auth, finding.project_id, Action.EDIT_DATA)
    user, reason = request.auth, payload.reason
    if payload.action == "dismiss":
        return services.finding_dismiss(finding=finding, user=user, reason=reason)
    if payload.action == "reopen":
        return services.finding_reopen(finding=finding, user=user)
    if payload.action not in ("resolve", "accept"):
        return Status(400, {"detail": f"Unknown action '{payload.action}'."})
    return services.finding_resolve(
        finding=finding, user=user, reason=reason, accept_suggested_label=payload.action == "accept"
    )


@router.get("/projects/{project_id}/quality/expectations", response=list[ExpectationOut])
def expectation_list(request, project_id: int):
    project = project_for_user(request.auth, project_id, Action.VIEW)
    return ExpectationRule.objects.filter(project=project)


@router.post(
    "/projects/{project_id}/quality/expectations",
    response={201: ExpectationOut, 400: ErrorOut},
)
def expectation_create(request, project_id: int, payload: ExpectationIn):
    from curation.quality.services import expectation_rule_create

    project = project_for_user(request.auth, project_id, Action.EDIT_DATA)
    rule = expectation_rule_create(
        project=project,
        kind=payload.kind,
        column=payload.column,
        params=payload.params,
        user=request.auth,
    )
    return Status(201, rule)
