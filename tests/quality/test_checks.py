"""A quality check of a version: findings of every kind, the summary, and re-runs."""

import pytest

from curation.exceptions import AssayError
from curation.quality.models import ExpectationResult, Finding, FindingKind, FindingStatus
from curation.quality.selectors import version_quality_summary
from curation.quality.services import (
    expectation_suite_defaults_create,
    finding_dismiss,
    quality_check_execute,
    quality_check_start,
)

FAST = {
    "checks": ["duplicates", "outliers", "label_issues"],
    "model": "tfidf",
    "folds": 5,
    "seed": 0,
}


def test_label_issues_and_a_cross_split_leak_become_findings(quality_version, user):
    project = quality_version.project
    check = quality_check_execute(project=project, version=quality_version, options=FAST)
    issues = Finding.objects.filter(quality_check=check, kind=FindingKind.LABEL_ISSUE)
    flagged = {f.details["external_id"]: f.details for f in issues}
    assert {"flipped-0", "flipped-1"} <= set(flagged)
    assert flagged["flipped-0"]["suggested_label"] == "ham"
    leak = Finding.objects.get(quality_check=check, kind=FindingKind.CROSS_SPLIT_DUPLICATE)
    assert sorted(leak.examples.values_list("external_id", flat=True)) == ["ham-3", "ham-3-copy"]
    assert leak.details["splits"] == ["test", "train"]
    assert check.summary["cross_split_duplicates"] == 1
    assert check.summary["label_issues"] == issues.count()


@pytest.mark.slow
def test_expectation_suite_results_are_stored_per_version(quality_version):
    project = quality_version.project
    expectation_suite_defaults_create(project=project)
    check = quality_check_execute(
        project=project, version=quality_version, options={**FAST, "checks": ["expectations"]}
    )
    results = {r.kind: r for r in ExpectationResult.objects.filter(quality_check=check)}
    assert results["no_pii"].success is False
    assert results["no_pii"].unexpected_count == 1
    assert "jo@example.org" in results["no_pii"].sample_values[0]
    assert results["label_in_set"].success and results["unique_external_id"].success
    failed = Finding.objects.get(quality_check=check, kind=FindingKind.EXPECTATION)
    assert list(failed.examples.values_list("external_id", flat=True)) == ["pii"]
    summary = version_quality_summary(quality_version)
    assert summary["expectations"]["failed"] == 1
    assert summary["expectations_passed"] is False
    assert summary["open_findings"] == {"expectation": 1}
    # the readiness report links its failed expectation check to the offending example
    assert summary["open_finding_ids"] == {"expectation": ["pii"]}


def test_summary_is_none_before_any_check(quality_version):
    assert version_quality_summary(quality_version) is None


def test_rerun_replaces_open_findings_but_keeps_dismissed_ones_closed(quality_version, user):
    project = quality_version.project
    options = {**FAST, "checks": ["duplicates"]}
    quality_check_execute(project=project, version=quality_version, options=options)
    leak = Finding.objects.get(kind=FindingKind.CROSS_SPLIT_DUPLICATE)
    finding_dismiss(finding=leak, user=user, reason="the same greeting, harmless")
    second = quality_check_execute(project=project, version=quality_version, options=options)
    assert not second.findings.filter(kind=FindingKind.CROSS_SPLIT_DUPLICATE).exists()
    assert Finding.objects.filter(kind=FindingKind.CROSS_SPLIT_DUPLICATE).count() == 1
    assert Finding.objects.get(pk=leak.pk).status == FindingStatus.DISMISSED
    assert version_quality_summary(quality_version)["check_id"] == second.pk


def test_generation_projects_skip_label_issues_with_a_reason(generation_project):
    from tests.factories import GenerationExampleFactory

    GenerationExampleFactory.create_batch(12, project=generation_project)
    check = quality_check_execute(project=generation_project, options=FAST)
    assert "classification" in check.summary["skipped"]["label_issues"]


def test_bad_options_are_refused_before_a_run_exists(quality_version):
    with pytest.raises(AssayError, match="Unknown check"):
        quality_check_start(project=quality_version.project, version=quality_version, checks=["x"])
    with pytest.raises(AssayError, match="Unknown model"):
        quality_check_start(project=quality_version.project, model="gpt")
    with pytest.raises(AssayError, match="Unknown label-issue filter 'margin'; use prune_by"):
        quality_check_start(project=quality_version.project, filter_by="margin")


def test_the_label_errors_papers_rule_can_choose_the_label_issues(quality_version):
    project = quality_version.project
    options = {**FAST, "checks": ["label_issues"], "filter_by": "normalized_margin"}
    check = quality_check_execute(project=project, version=quality_version, options=options)
    issues = Finding.objects.filter(quality_check=check, kind=FindingKind.LABEL_ISSUE)
    assert {"flipped-0", "flipped-1"} <= {f.details["external_id"] for f in issues}
    assert check.options["filter_by"] == "normalized_margin"
