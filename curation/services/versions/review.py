"""Reviewing a dataset version: submit, approve, reject (see the package docstring).

Only a data lead or an admin of the project decides (`Action.REVIEW`); submitting is a
step of whoever builds versions (`Action.EDIT_DATA`). Approval recomputes the readiness
report: a failing check blocks it unless the approver writes an override reason, which is
kept on the version and in the audit log. Every transition is audited.
"""

from django.db import transaction
from django.utils import timezone

from curation.exceptions import AssayError, InvalidTransition, VersionImmutable
from curation.models import DatasetVersion
from curation.models import VersionStatus as Status
from curation.permissions import Action, project_role, user_can
from curation.services.audit import audit_record
from curation.services.versions.attestation import attestation_record
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


def _require(user, version: DatasetVersion, action: Action) -> None:
    if user is None or not getattr(user, "is_authenticated", False):
        raise AssayError("Reviewing a dataset version needs a signed-in user.")
    if not user_can(user, version.project, action):
        role = project_role(user, version.project) or "not a member"
        raise AssayError(
            f"{user.get_username()} ({role}) may not {action.value} in {version.project.name}: "
            f"approving and rejecting take a data lead or an admin."
        )


@transaction.atomic
def dataset_version_submit(*, version: DatasetVersion, user=None) -> DatasetVersion:
    """Ask for review of a draft; the readiness report is refreshed for the reviewer.
    ``user`` None is the system (a script without a user); a user needs EDIT_DATA."""
    if user is not None:
        _require(user, version, Action.EDIT_DATA)
    version = _locked_for(version, "submit")
    version.status = TRANSITIONS["submit"][1]
    version.save(update_fields=["status"])
    _audit(version, "version.submit", user, Status.DRAFT, "Submitted for review")
    return _refresh_readiness(version)


def _refresh_readiness(version: DatasetVersion) -> DatasetVersion:
    from curation.services.readiness import version_readiness_refresh

    return version_readiness_refresh(version=version)


def _audit(version, action: str, user, before: str, message: str, **after) -> None:
    audit_record(
        project=version.project,
        actor=user,
        action=action,
        target=version,
        before={"status": before},
        after={"status": version.status, **after},
        message=message,
    )


@transaction.atomic
def dataset_version_approve(
    *, version: DatasetVersion, user, comment: str = "", override_reason: str = ""
) -> DatasetVersion:
    """Approve a version in review, once its members still match their hashes and its
    readiness report has no failing check, or the approver overrides the failures with
    a written reason. From then on the version can never change."""
    _require(user, version, Action.REVIEW)
    version = _locked_for(version, "approve")
    check = dataset_version_verify(version=version)
    if not check.ok:
        raise AssayError(f"{version} cannot be approved: {' '.join(check.problems)}")
    version = _refresh_readiness(version)
    failing = [c for c in version.readiness.get("checks", []) if c["status"] == "fail"]
    override_reason = override_reason.strip()
    if failing and not override_reason:
        names = "; ".join(f"{c['title']}: {c['evidence']}" for c in failing)
        raise AssayError(
            f"{version} cannot be approved: {len(failing)} readiness check(s) fail ({names}). "
            f"Fix the data, or approve with an override reason."
        )
    if failing:
        version.override_reason = override_reason
        audit_record(
            project=version.project,
            actor=user,
            action="version.override",
            target=version,
            before={"failing_checks": [c["name"] for c in failing]},
            after={"override_reason": override_reason},
            message=f"Approved over {len(failing)} failing check(s): {override_reason}",
        )
    return _record_review(version, "approve", user=user, comment=comment)


@transaction.atomic
def dataset_version_reject(*, version: DatasetVersion, user, comment: str) -> DatasetVersion:
    """Reject a draft or a version in review; the comment says what is wrong."""
    _require(user, version, Action.REVIEW)
    version = _locked_for(version, "reject")
    if not comment.strip():
        raise AssayError("Rejecting a dataset version needs a comment saying what is wrong.")
    return _record_review(version, "reject", user=user, comment=comment)


def _record_review(version: DatasetVersion, action: str, *, user, comment: str):
    before = version.status
    version.status = TRANSITIONS[action][1]
    version.reviewed_by = user
    version.reviewed_at = timezone.now()
    version.review_comment = comment.strip()
    version.save(
        update_fields=[
            "status", "reviewed_by", "reviewed_at", "review_comment", "override_reason"
        ]
    )  # fmt: skip
    # An approval is signed: `dataset_version_verify` holds the rows to this record.
    attested = attestation_record(version) if action == "approve" else {}
    _audit(
        version,
        f"version.{action}",
        user,
        before,
        f"{_past(action).capitalize()}" + (f": {version.review_comment}" if comment else ""),
        comment=version.review_comment,
        readiness=version.readiness.get("status", ""),
        **attested,
    )
    return version
