"""Dataset versions: list and build (per project), detail, review, verify and exports.
The versions services are imported inside the endpoints that use them."""

from ninja import Router, Status

from curation.api.runs import run_out
from curation.api.schemas import (
    ErrorOut,
    ExportIn,
    ExportOut,
    ReviewIn,
    RunOut,
    VerificationOut,
    VersionBuildIn,
    VersionDetailOut,
    VersionOut,
)
from curation.models import DatasetExport
from curation.permissions import Action, project_for_user
from curation.selectors.access import version_by_id_for_user

router = Router()


@router.get("/projects/{project_id}/versions", response=list[VersionOut])
def version_list(request, project_id: int):
    from curation.selectors.versions import project_versions

    return project_versions(project_for_user(request.auth, project_id, Action.VIEW))


@router.post("/projects/{project_id}/versions", response={202: RunOut, 400: ErrorOut})
def version_build(request, project_id: int, payload: VersionBuildIn):
    from curation.services.versions import version_build_start

    project = project_for_user(request.auth, project_id, Action.EDIT_DATA)
    run = version_build_start(
        project=project, seed=payload.seed, note=payload.note, created_by=request.auth
    )
    return Status(202, run_out(run))


@router.get("/versions/{version_id}", response=VersionDetailOut)
def version_detail(request, version_id: int):
    from curation.selectors.versions import version_label_distribution, version_split_counts

    version = version_by_id_for_user(request.auth, version_id, Action.VIEW)
    version.split_counts = version_split_counts(version)
    version.label_distribution = version_label_distribution(version)
    return version


@router.post("/versions/{version_id}/submit", response={200: VersionOut, 400: ErrorOut})
def version_submit(request, version_id: int):
    from curation.services.versions import dataset_version_submit

    version = version_by_id_for_user(request.auth, version_id, Action.EDIT_DATA)
    return dataset_version_submit(version=version, user=request.auth)


@router.post("/versions/{version_id}/approve", response={200: VersionOut, 400: ErrorOut})
def version_approve(request, version_id: int, payload: ReviewIn | None = None):
    from curation.services.versions import dataset_version_approve

    version = version_by_id_for_user(request.auth, version_id, Action.REVIEW)
    return dataset_version_approve(
        version=version,
        user=request.auth,
        comment=payload.comment if payload else "",
        override_reason=payload.override_reason if payload else "",
    )


@router.post("/versions/{version_id}/reject", response={200: VersionOut, 400: ErrorOut})
def version_reject(request, version_id: int, payload: ReviewIn):
    from curation.services.versions import dataset_version_reject

    version = version_by_id_for_user(request.auth, version_id, Action.REVIEW)
    return dataset_version_reject(version=version, user=request.auth, comment=payload.comment)


@router.get("/versions/{version_id}/verify", response={200: VerificationOut, 400: ErrorOut})
def version_verify(request, version_id: int):
    from curation.services.versions import dataset_version_verify

    return dataset_version_verify(
        version=version_by_id_for_user(request.auth, version_id, Action.VIEW)
    )


@router.post("/versions/{version_id}/exports", response={202: RunOut, 400: ErrorOut})
def export_create(request, version_id: int, payload: ExportIn | None = None):
    from curation.services.exports import export_start

    version = version_by_id_for_user(request.auth, version_id, Action.EXPORT)
    formats = payload.formats if payload else None
    run = export_start(version=version, formats=formats, created_by=request.auth)
    return Status(202, run_out(run))


@router.get("/versions/{version_id}/exports", response=list[ExportOut])
def export_list(request, version_id: int):
    version = version_by_id_for_user(request.auth, version_id, Action.VIEW)
    return DatasetExport.objects.filter(version=version).prefetch_related("files")
