"""Reviewing a dataset version: submit, approve, reject (see the package docstring)."""

from django.db import transaction
from django.utils import timezone

from curation.exceptions import AssayError, InvalidTransition, VersionImmutable
from curation.models import DatasetVersion
from curation.models import VersionStatus as Status
from curation.services.versions.verification import dataset_version_verify

# action -> (statuses it may start from, status it leads to)
TRANSITIONS = {
    "submit": ((Status.DRAFT,), Status.IN_REVIEW),
    "approve": ((Status.IN_REVIEW,), Status.APPROVED),
    "reject": ((Status.DRAFT, Status.IN_REVIEW), Status.REJECTED),
}


def _locked_for(version: DatasetVersion, action: str) -> DatasetVersion:
    """The version's row, locked and fresh, after checking ``action`` is allowed now."""
    version = (
        DatasetVersion.objects.select_for_update().select_related("project").get(pk=version.pk)
    )
    if version.is_approved:
        raise VersionImmutable(
            f"{version} is approved and immutable; it cannot be {_past(action)}."
        )
    allowed, _ = TRANSITIONS[action]
    if version.status not in allowed:
        raise InvalidTransition(
            f"{version} is {Status(version.status).label.lower()}; only "
            f"{' or '.join(Status(s).label.lower() for s in allowed)} versions can be "
            f"{_past(action)}."
        )
    return version


def _past(action: str) -> str:
    return {"submit": "submitted", "approve": "approved", "reject": "rejected"}[action]


def _require_reviewer(user) -> None:
    if user is None or not getattr(user, "is_authenticated", False):
        raise AssayError("Reviewing a dataset version needs a signed-in user.")


@transaction.atomic
def dataset_version_submit(*, version: DatasetVersion, user=None) -> DatasetVersion:
    """Ask for review of a draft."""
    version = _locked_for(version, "submit")
    version.status = TRANSITIONS["submit"][1]
    version.save(update_fields=["status"])
    return version


@transaction.atomic
def dataset_version_approve(*, version: DatasetVersion, user, comment: str = "") -> DatasetVersion:
    """Approve a version in review, once its members still match their hashes. From then
    on the version can never change. Any signed-in user may approve, for now."""
    _require_reviewer(user)
    version = _locked_for(version, "approve")
    check = dataset_version_verify(version=version)
    if not check.ok:
        raise AssayError(f"{version} cannot be approved: {' '.join(check.problems)}")
    return _record_review(version, "approve", user=user, comment=comment)


@transaction.atomic
def dataset_version_reject(*, version: DatasetVersion, user, comment: str) -> DatasetVersion:
    """Reject a draft or a version in review; the comment says what is wrong."""
    _require_reviewer(user)
    version = _locked_for(version, "reject")
    if not comment.strip():
        raise AssayError("Rejecting a dataset version needs a comment saying what is wrong.")
    return _record_review(version, "reject", user=user, comment=comment)


def _record_review(version: DatasetVersion, action: str, *, user, comment: str):
    version.status = TRANSITIONS[action][1]
    version.reviewed_by = user
    version.reviewed_at = timezone.now()
    version.review_comment = comment.strip()
    version.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_comment"])
    return version
