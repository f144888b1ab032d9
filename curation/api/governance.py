"""Governance: members, the audit log, synthetic review, a version's readiness and diff."""

from datetime import date, datetime
from typing import Any

from django.contrib.auth import get_user_model
from ninja import Field, Query, Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from curation.api.schemas import ErrorOut, ExampleOut, InputSchema
from curation.exceptions import AssayError
from curation.models import Example, ExampleSource, ReviewStatus
from curation.permissions import Action, project_for_user
from curation.selectors.access import version_by_id_for_user

router = Router()


class MemberOut(Schema):
    username: str
    role: str

    @staticmethod
    def resolve_username(membership) -> str:
        return membership.user.get_username()


class MemberIn(InputSchema):
    username: str
    role: str = Field(description="annotator, data_lead, ml_engineer or admin")


class AuditFilters(Schema):
    action: str | None = Field(None, description="Prefix, e.g. 'version' or 'label.add'.")
    actor: str | None = None
    since: date | None = None
    until: date | None = None


class AuditEventOut(Schema):
    id: int
    at: datetime
    actor_name: str
    action: str
    target_type: str
    target_id: str
    version_id: int | None
    before: Any = None
    after: Any = None
    message: str


class SyntheticExampleOut(ExampleOut):
    review_status: str
    provenance: dict
    near_duplicate_of_id: int | None
    near_duplicate_score: float | None


class DecisionIn(InputSchema):
    decision: str = Field(description="accept, reject or edit")
    label: str = ""
    note: str = ""
    fields: dict[str, str] = Field(default_factory=dict, description="New content, for edit.")


@router.get("/projects/{project_id}/members", response=list[MemberOut])
def member_list(request, project_id: int):
    project = project_for_user(request.auth, project_id, Action.MANAGE)
    return project.memberships.select_related("user").order_by("user__username")


@router.post("/projects/{project_id}/members", response={200: MemberOut, 400: ErrorOut})
def member_set(request, project_id: int, payload: MemberIn):
    from curation.services.projects import project_member_set

    project = project_for_user(request.auth, project_id, Action.MANAGE)
    user = get_user_model().objects.filter(username=payload.username).first()
    if user is None:
        raise AssayError(f"No user named '{payload.username}'.")
    return project_member_set(project=project, user=user, role=payload.role, actor=request.auth)


@router.get("/projects/{project_id}/audit", response=list[AuditEventOut])
@paginate(PageNumberPagination, page_size=100)
def project_audit(request, project_id: int, filters: Query[AuditFilters]):
    from curation.selectors.audit import audit_events

    project = project_for_user(request.auth, project_id, Action.VIEW)
    return audit_events(project=project, **filters.dict())


@router.get("/versions/{version_id}/audit", response=list[AuditEventOut])
@paginate(PageNumberPagination, page_size=100)
def version_audit(request, version_id: int, filters: Query[AuditFilters]):
    from curation.selectors.audit import audit_events

    version = version_by_id_for_user(request.auth, version_id, Action.VIEW)
    return audit_events(project=version.project, version=version, **filters.dict())


@router.get("/projects/{project_id}/synthetic", response=list[SyntheticExampleOut])
@paginate(PageNumberPagination, page_size=50)
def synthetic_list(request, project_id: int, review_status: str = ReviewStatus.PENDING):
    project = project_for_user(request.auth, project_id, Action.VIEW)
    examples = Example.objects.filter(project=project, source=ExampleSource.SYNTHETIC)
    return examples.filter(review_status=review_status).order_by("id")


@router.post(
    "/projects/{project_id}/synthetic/{example_id}/decision",
    response={200: SyntheticExampleOut, 400: ErrorOut},
)
def synthetic_decide(request, project_id: int, example_id: int, payload: DecisionIn):
    from curation.services import synthetic as services

    project = project_for_user(request.auth, project_id, Action.ANNOTATE)
    example = Example.objects.filter(project=project, pk=example_id).first()
    if example is None:
        raise AssayError(f"{project.name} has no example {example_id}.")
    common = {"example": example, "user": request.auth, "note": payload.note}
    if payload.decision == "accept":
        return services.synthetic_example_accept(**common, label=payload.label)
    if payload.decision == "reject":
        return services.synthetic_example_reject(**common)
    if payload.decision == "edit":
        return services.synthetic_example_edit(**common, label=payload.label, fields=payload.fields)
    raise AssayError("decision must be accept, reject or edit.")


@router.get("/versions/{version_id}/readiness", response=dict)
def version_readiness(request, version_id: int):
    version = version_by_id_for_user(request.auth, version_id, Action.VIEW)
    return version.readiness


@router.post("/versions/{version_id}/readiness", response={200: dict, 400: ErrorOut})
def version_readiness_refresh(request, version_id: int):
    from curation.services.readiness import version_readiness_refresh as refresh

    version = version_by_id_for_user(request.auth, version_id, Action.EDIT_DATA)
    return refresh(version=version).readiness


@router.get("/versions/{version_id}/diff", response={200: dict, 400: ErrorOut})
def version_diff(request, version_id: int, against: int | None = None):
    from curation.selectors.version_diff import diff_base
    from curation.selectors.version_diff import version_diff as diff_of

    version = version_by_id_for_user(request.auth, version_id, Action.VIEW)
    return diff_of(version, diff_base(version, against))
