"""Reviewing findings: resolve (optionally accepting a suggested label), dismiss, reopen,
and send to Label Studio for a human look. Every decision records who, when and why."""

from django.db import transaction
from django.utils import timezone

from curation.exceptions import AssayError
from curation.models import LabelOrigin, Run
from curation.quality.models import Finding, FindingKind, FindingStatus
from curation.services.labels import label_add


def _audit(*, user, action: str, finding: Finding, before: dict) -> None:
    """Record the decision in the project's audit log."""
    from curation.services.audit import audit_record

    audit_record(
        project=finding.project,
        actor=user,
        action=action,
        target=finding,
        before=before,
        after={"status": finding.status, "resolution": finding.resolution},
        message=finding.reason,
        version=finding.version,
    )


def _close(finding: Finding, *, status: str, resolution: str, reason: str, user) -> Finding:
    if finding.status != FindingStatus.OPEN:
        raise AssayError(f"Finding #{finding.pk} is already {finding.status}; reopen it first.")
    before = {"status": finding.status, "resolution": finding.resolution}
    finding.status = status
    finding.resolution = resolution
    finding.reason = reason.strip()
    finding.reviewed_by = user
    finding.reviewed_at = timezone.now()
    finding.save(update_fields=["status", "resolution", "reason", "reviewed_by", "reviewed_at"])
    _audit(user=user, action=f"finding_{status}", finding=finding, before=before)
    return finding


@transaction.atomic
def finding_resolve(
    *, finding: Finding, user, reason: str = "", accept_suggested_label: bool = False
) -> Finding:
    """Mark a finding resolved. For a label issue, ``accept_suggested_label`` records the
    suggested label as the reviewer's (annotator) label, which then wins resolution."""
    if accept_suggested_label:
        _accept_suggested_label(finding, user, reason)
    resolution = "accepted_suggested_label" if accept_suggested_label else "fixed"
    return _close(
        finding, status=FindingStatus.RESOLVED, resolution=resolution, reason=reason, user=user
    )


def _accept_suggested_label(finding: Finding, user, reason: str) -> None:
    if finding.kind != FindingKind.LABEL_ISSUE:
        raise AssayError("Only a label issue has a suggested label to accept.")
    suggested = finding.details.get("suggested_label", "")
    if finding.project.label_set and suggested not in finding.project.label_set:
        raise AssayError(
            f"The suggested label '{suggested}' is not in the project's label set any more."
        )
    for example in finding.examples.all():
        label_add(
            example=example,
            value=suggested,
            origin=LabelOrigin.ANNOTATOR,
            annotator=user,
            author=getattr(user, "email", "") or getattr(user, "username", ""),
            meta={
                "finding_id": finding.pk,
                "reason": reason,
                "was": finding.details.get("given_label"),
            },
        )


@transaction.atomic
def finding_dismiss(*, finding: Finding, user, reason: str) -> Finding:
    """Mark a finding as not a problem. A reason is required: the next reviewer reads it."""
    if not reason.strip():
        raise AssayError("Say why the finding is dismissed.")
    return _close(
        finding, status=FindingStatus.DISMISSED, resolution="not_an_issue", reason=reason, user=user
    )


@transaction.atomic
def finding_reopen(*, finding: Finding, user) -> Finding:
    """Open a closed finding again (labels already written stay)."""
    before = {"status": finding.status, "resolution": finding.resolution}
    finding.status = FindingStatus.OPEN
    finding.resolution = ""
    finding.reviewed_by = user
    finding.reviewed_at = timezone.now()
    finding.save(update_fields=["status", "resolution", "reviewed_by", "reviewed_at"])
    _audit(user=user, action="finding_reopened", finding=finding, before=before)
    return finding


def findings_send_for_review(*, findings: list[Finding], user) -> Run:
    """Push the findings' examples to the project's Label Studio project (a push run of
    just those examples; ones already there are not duplicated) and mark the findings as
    sent. Raises if the project has no Label Studio link."""
    from labeling.services.push import label_studio_push_start

    if not findings:
        raise AssayError("Select at least one finding to send.")
    if len({finding.project_id for finding in findings}) != 1:
        raise AssayError("Findings sent together must belong to one project.")
    example_ids = sorted(
        {pk for finding in findings for pk in finding.examples.values_list("pk", flat=True)}
    )
    run = label_studio_push_start(
        project=findings[0].project, example_ids=example_ids, created_by=user
    )
    Finding.objects.filter(pk__in=[f.pk for f in findings]).update(
        sent_for_review_at=timezone.now()
    )
    return run
