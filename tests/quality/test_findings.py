"""The findings lifecycle: resolve (accepting a suggested label), dismiss, reopen."""

import pytest

from curation.exceptions import AssayError
from curation.models import AuditEvent
from curation.quality.models import Finding, FindingKind, FindingStatus
from curation.quality.services import (
    finding_dismiss,
    finding_reopen,
    finding_resolve,
    quality_check_execute,
)

OPTIONS = {"checks": ["label_issues"], "model": "tfidf", "folds": 5, "seed": 0}


@pytest.fixture
def label_issue(quality_version):
    quality_check_execute(project=quality_version.project, version=quality_version, options=OPTIONS)
    return Finding.objects.get(kind=FindingKind.LABEL_ISSUE, details__external_id="flipped-0")


def test_accepting_the_suggested_label_writes_an_annotator_label(label_issue, data_lead):
    finding_resolve(
        finding=label_issue, user=data_lead, reason="clearly ham", accept_suggested_label=True
    )
    example = label_issue.examples.get()
    example.refresh_from_db()
    assert (example.resolved_label, example.resolved_label_origin) == ("ham", "annotator")
    assert example.labels.get(origin="annotator").annotator == data_lead
    label_issue.refresh_from_db()
    assert label_issue.status == FindingStatus.RESOLVED
    assert label_issue.resolution == "accepted_suggested_label"
    assert (label_issue.reviewed_by, label_issue.reason) == (data_lead, "clearly ham")
    assert AuditEvent.objects.filter(action="finding_resolved").count() == 1


def test_dismissing_needs_a_reason_and_changes_no_label(label_issue, data_lead):
    with pytest.raises(AssayError, match="why"):
        finding_dismiss(finding=label_issue, user=data_lead, reason="  ")
    finding_dismiss(finding=label_issue, user=data_lead, reason="spam in disguise")
    example = label_issue.examples.get()
    example.refresh_from_db()
    assert example.resolved_label == "spam"
    assert Finding.objects.get(pk=label_issue.pk).status == FindingStatus.DISMISSED


def test_a_closed_finding_must_be_reopened_before_another_decision(label_issue, data_lead):
    finding_dismiss(finding=label_issue, user=data_lead, reason="fine")
    with pytest.raises(AssayError, match="already dismissed"):
        finding_resolve(finding=label_issue, user=data_lead)
    finding_reopen(finding=label_issue, user=data_lead)
    assert Finding.objects.get(pk=label_issue.pk).status == FindingStatus.OPEN


def test_only_label_issues_have_a_label_to_accept(quality_version, data_lead):
    options = {**OPTIONS, "checks": ["duplicates"]}
    quality_check_execute(project=quality_version.project, version=quality_version, options=options)
    leak = Finding.objects.get(kind=FindingKind.CROSS_SPLIT_DUPLICATE)
    with pytest.raises(AssayError, match="Only a label issue"):
        finding_resolve(finding=leak, user=data_lead, accept_suggested_label=True)
    assert Finding.objects.get(pk=leak.pk).status == FindingStatus.OPEN


def test_sending_without_a_label_studio_link_is_refused_and_marks_nothing(label_issue, data_lead):
    from curation.quality.services import findings_send_for_review

    with pytest.raises(AssayError, match="not linked to Label Studio"):
        findings_send_for_review(findings=[label_issue], user=data_lead)
    assert Finding.objects.get(pk=label_issue.pk).sent_for_review_at is None


def test_sending_queues_a_push_and_marks_the_findings(label_issue, data_lead):
    from curation.quality.services import findings_send_for_review
    from labeling.models import LabelStudioLink

    LabelStudioLink.objects.create(
        project=label_issue.project,
        ls_project_id=1,
        base_url="http://127.0.0.1:8080",
        project_url="http://127.0.0.1:8080/projects/1",
        label_config="<View/>",
    )
    run = findings_send_for_review(findings=[label_issue], user=data_lead)
    assert run.kind == "label_studio_push" and run.project == label_issue.project
    assert run.params["example_ids"] == [label_issue.examples.get().pk]
    assert Finding.objects.get(pk=label_issue.pk).sent_for_review_at is not None
