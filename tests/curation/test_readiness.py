"""The readiness report (pure checks and the counts gathered for them) and approval:
a failing check blocks approval unless a data lead writes an override reason, which is
kept on the version and in the audit log."""

import pytest
from django.urls import reverse

from curation.core.readiness import (
    DEFAULT_THRESHOLDS,
    ReadinessInputs,
    pairwise_agreement,
    readiness_checks,
)
from curation.exceptions import AssayError
from curation.models import AuditEvent, Example
from curation.services.labels import label_add
from curation.services.readiness import version_readiness_refresh
from curation.services.synthetic import synthetic_example_accept
from curation.services.versions import (
    dataset_version_approve,
    dataset_version_build,
    dataset_version_submit,
)
from tests.factories import ExampleFactory, MembershipFactory, SyntheticExampleFactory


def inputs(**changes) -> ReadinessInputs:
    base = dict(
        total=12_000, is_classification=True, label_set=["ham", "spam"],
        split_label_counts={"train": {"ham": 4800, "spam": 4800},
                            "validation": {"ham": 600, "spam": 600},
                            "test": {"ham": 600, "spam": 600}},
        human_count=12_000, non_human_eval_ids=[], non_human_eval_count=0, synthetic_count=0,
        unreviewed_synthetic_ids=[], duplicate_count=0, cross_split_duplicate_ids=[],
        agreement=(50, 0.92),
        quality={"expectations_passed": True, "failed_expectations": [],
                 "label_issue_rate": 0.01},
        thresholds=dict(DEFAULT_THRESHOLDS),
    )  # fmt: skip
    base.update(changes)
    return ReadinessInputs(**base)


def statuses(checks) -> dict[str, str]:
    return {check.name: check.status for check in checks}


def test_a_clean_large_version_passes_every_check():
    assert set(statuses(readiness_checks(inputs())).values()) == {"pass"}


@pytest.mark.parametrize(
    ("changes", "name", "status"),
    [
        ({"total": 9_999}, "size", "warn"),
        ({"total": 0}, "size", "fail"),
        ({"human_count": 3_000}, "human_share", "warn"),
        ({"non_human_eval_ids": ["e1"], "non_human_eval_count": 1}, "eval_human", "fail"),
        ({"synthetic_count": 5_000}, "synthetic_share", "fail"),
        ({"unreviewed_synthetic_ids": ["s1"], "synthetic_count": 1}, "synthetic_reviewed", "fail"),
        ({"quality": None}, "expectations", "warn"),
        ({"quality": {"expectations_passed": False, "failed_expectations": ["no_pii"]}},
         "expectations", "fail"),
        ({"quality": {"expectations_passed": True, "label_issue_rate": 0.2}},
         "label_issues", "fail"),
        ({"duplicate_count": 1_000}, "duplicate_rate", "warn"),
        ({"quality": {"expectations_passed": True, "duplicate_rate": 0.2}},
         "duplicate_rate", "warn"),
        ({"quality": {"expectations_passed": False, "expectations": {"total": 4, "failed": 1}}},
         "expectations", "fail"),
        ({"cross_split_duplicate_ids": ["d1", "d2"]}, "cross_split", "fail"),
        ({"agreement": None}, "agreement", "warn"),
        ({"agreement": (50, 0.6)}, "agreement", "warn"),
        ({"split_label_counts": {"train": {"ham": 9000, "spam": 300}, "validation": {"ham": 600},
                                 "test": {"ham": 600}}}, "class_balance", "warn"),
        ({"split_label_counts": {"train": {"ham": 9000}, "validation": {"ham": 600},
                                 "test": {"ham": 600}}}, "per_class", "fail"),
        ({"split_label_counts": {"train": {"ham": 4800, "spam": 4800},
                                 "validation": {"ham": 1100, "spam": 100},
                                 "test": {"ham": 600, "spam": 600}}}, "stratification", "warn"),
    ],
)  # fmt: skip
def test_each_pitfall_is_caught_by_its_check(changes, name, status):
    checks = {check.name: check for check in readiness_checks(inputs(**changes))}
    assert checks[name].status == status
    assert checks[name].evidence


def test_evidence_names_the_offending_examples():
    checks = {c.name: c for c in readiness_checks(inputs(cross_split_duplicate_ids=["x", "y"]))}
    assert checks["cross_split"].example_ids == ["x", "y"]
    assert "2 examples" in checks["cross_split"].evidence


def test_pairwise_agreement():
    assert pairwise_agreement([["a", "a"], ["a", "b"], ["a"]]) == (2, 0.5)
    assert pairwise_agreement([["a"]]) is None


# --- on real versions ---------------------------------------------------------------------


@pytest.fixture
def small_version(classification_project):
    for n in range(40):
        ExampleFactory(project=classification_project, resolved_label=("ham", "spam")[n % 2],
                       resolved_label_origin="annotator")  # fmt: skip
    return dataset_version_build(project=classification_project)


def test_a_version_under_ten_thousand_examples_warns_on_its_page(client, user, small_version):
    report = version_readiness_refresh(version=small_version).readiness
    size = next(check for check in report["checks"] if check["name"] == "size")
    assert size["status"] == "warn" and "40 examples" in size["evidence"]

    client.force_login(user)
    page = client.get(reverse("version-readiness", args=[small_version.project_id, 1]))
    html = page.content.decode()
    assert 'data-check="size"' in html and "check-warn" in html and "10,000" in html


def test_the_threshold_is_per_project(small_version):
    small_version.project.min_version_size = 40
    small_version.project.save()
    report = version_readiness_refresh(version=small_version).readiness
    assert next(c for c in report["checks"] if c["name"] == "size")["status"] == "pass"


def test_machine_labels_in_test_and_validation_fail_with_a_link(
    client, user, classification_project
):
    for n in range(40):
        ExampleFactory(project=classification_project, resolved_label=("ham", "spam")[n % 2],
                       resolved_label_origin="labeling_function")  # fmt: skip
    version = version_readiness_refresh(
        version=dataset_version_build(project=classification_project)
    )

    check = next(c for c in version.readiness["checks"] if c["name"] == "eval_human")
    assert check["status"] == "fail" and len(check["example_ids"]) == 8
    client.force_login(user)
    html = client.get(reverse("version-readiness", args=[classification_project.pk, 1])).content
    assert f"ids={check['example_ids'][0]}".encode() in html.replace(b"%2C", b",")


def test_annotator_agreement_is_measured_from_annotator_labels(small_version, user):
    other = MembershipFactory(project=small_version.project, role="annotator").user
    for member in small_version.members.all()[:12]:
        label_add(example=member.example, value=member.label, origin="annotator", annotator=user)
        label_add(example=member.example, value="ham", origin="annotator", annotator=other)
    report = version_readiness_refresh(version=small_version).readiness
    agreement = next(c for c in report["checks"] if c["name"] == "agreement")
    assert agreement["data"]["items"] == 12
    assert agreement["data"]["agreement"] == pytest.approx(0.5)


def test_quality_results_not_run_are_a_warning_not_a_crash(small_version):
    report = version_readiness_refresh(version=small_version).readiness
    expectations = next(c for c in report["checks"] if c["name"] == "expectations")
    assert expectations["status"] in {"warn", "pass", "fail"}


def _in_review_with_a_pending_synthetic(project, user):
    """A version holding a synthetic example whose review was reopened after the build
    (accepted, frozen in, then set back to pending)."""
    for n in range(40):
        ExampleFactory(project=project, resolved_label=("ham", "spam")[n % 2],
                       resolved_label_origin="annotator")  # fmt: skip
    synthetic = SyntheticExampleFactory(project=project, resolved_label="spam")
    synthetic_example_accept(example=synthetic, user=user)
    version = dataset_version_build(project=project)
    Example.objects.filter(pk=synthetic.pk).update(review_status="pending")
    return dataset_version_submit(version=version)


def test_an_unreviewed_synthetic_example_blocks_approval_without_an_override(
    classification_project, user
):
    version = _in_review_with_a_pending_synthetic(classification_project, user)

    with pytest.raises(AssayError, match="Synthetic examples reviewed"):
        dataset_version_approve(version=version, user=user)
    version.refresh_from_db()
    assert version.status == "in_review"

    approved = dataset_version_approve(
        version=version, user=user, override_reason="reviewed offline by the legal team"
    )

    assert approved.status == "approved"
    assert approved.override_reason == "reviewed offline by the legal team"
    event = AuditEvent.objects.get(action="version.override", version=approved)
    assert event.actor == user and "legal team" in event.message
    assert event.before == {"failing_checks": ["synthetic_reviewed"]}


def test_a_failing_expectation_blocks_approval(classification_project, user, monkeypatch):
    for n in range(40):
        ExampleFactory(project=classification_project, resolved_label=("ham", "spam")[n % 2],
                       resolved_label_origin="annotator")  # fmt: skip
    version = dataset_version_submit(version=dataset_version_build(project=classification_project))
    failing = {"expectations_passed": False, "failed_expectations": ["no_pii"],
               "label_issue_rate": 0.0}  # fmt: skip
    monkeypatch.setattr(
        "curation.selectors.readiness.version_quality_summary", lambda version: failing
    )

    with pytest.raises(AssayError, match="Expectation suite passed: Failed: no_pii"):
        dataset_version_approve(version=version, user=user)
    assert dataset_version_approve(version=version, user=user, override_reason="known, tracked")


def test_annotators_and_ml_engineers_cannot_approve(classification_project, small_version):
    version = dataset_version_submit(version=small_version)
    for role in ("annotator", "ml_engineer"):
        member = MembershipFactory(project=classification_project, role=role).user
        with pytest.raises(AssayError, match="data lead or an admin"):
            dataset_version_approve(version=version, user=member, override_reason="x")


def test_the_approval_form_asks_for_a_reason_when_checks_fail(client, user, classification_project):
    version = _in_review_with_a_pending_synthetic(classification_project, user)
    client.force_login(user)
    url = reverse("version-readiness", args=[classification_project.pk, version.number])

    html = client.get(url).content.decode()
    assert 'name="override_reason"' in html and "csrfmiddlewaretoken" in html

    review = reverse("version-review", args=[classification_project.pk, version.number])
    refused = client.post(review, {"action": "approve"}, follow=True).content.decode()
    assert "override reason" in refused
    client.post(review, {"action": "approve", "override_reason": "accepted risk"})
    version.refresh_from_db()
    assert (version.status, version.override_reason) == ("approved", "accepted risk")


def test_the_quality_apps_failed_expectation_reaches_the_report(classification_project, user):
    from django.apps import apps

    for n in range(40):
        ExampleFactory(project=classification_project, resolved_label=("ham", "spam")[n % 2],
                       resolved_label_origin="annotator")  # fmt: skip
    version = dataset_version_submit(version=dataset_version_build(project=classification_project))
    apps.get_model("quality", "QualityCheck").objects.create(
        project=classification_project,
        version=version,
        summary={
            "checks": ["expectations"],
            "expectations": {"total": 3, "passed": 2, "failed": 1},
        },
    )

    with pytest.raises(AssayError, match="1 of 3 expectations failed"):
        dataset_version_approve(version=version, user=user)


def _with_examples_to_show(changes: dict) -> dict:
    """The same pitfall, with the example ids the selectors would have gathered."""
    changes = {"duplicate_ids": ["c1", "c2"], "non_human_ids": ["n1"],
               "disagreement_ids": ["a1"], **changes}  # fmt: skip
    if changes.get("quality") is not None:
        found = {"expectation": ["x1"], "label_issue": ["l1"], "duplicate": ["d1", "d2"]}
        changes["quality"] = {**changes["quality"], "open_finding_ids": found}
    return changes


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        (changes, name)
        for changes, name, _ in test_each_pitfall_is_caught_by_its_check.pytestmark[0].args[1]
    ],
)
def test_every_warning_and_failure_names_the_examples_behind_it(changes, name):
    checks = {c.name: c for c in readiness_checks(inputs(**_with_examples_to_show(changes)))}
    assert checks[name].status != "pass"
    assert checks[name].example_ids or checks[name].link, f"{name} links to nothing"


def test_a_duplicate_rate_over_the_limit_lists_the_copies():
    check = {
        c.name: c
        for c in readiness_checks(
            inputs(duplicate_count=1_000, duplicate_ids=["a", "a-copy"],
                   quality={"expectations_passed": True, "label_issue_rate": 0.01,
                            "open_finding_ids": {"duplicate": ["near", "a"]}})
        )
    }["duplicate_rate"]  # fmt: skip
    assert check.example_ids == ["a", "a-copy", "near"]


def test_the_duplicate_rate_row_links_to_the_duplicated_examples(
    client, user, classification_project
):
    for n in range(40):
        text = f"message {n % 30}"  # 10 texts appear twice: 25% duplicates
        ExampleFactory(project=classification_project, resolved_label=("ham", "spam")[n % 2],
                       fields={"text": text}, resolved_label_origin="annotator")  # fmt: skip
    version = version_readiness_refresh(
        version=dataset_version_build(project=classification_project)
    )
    check = next(c for c in version.readiness["checks"] if c["name"] == "duplicate_rate")
    assert check["status"] == "warn" and len(check["example_ids"]) == 20
    client.force_login(user)
    page = client.get(reverse("version-readiness", args=[classification_project.pk, 1]))
    row = page.content.decode().split('data-check="duplicate_rate"')[1].split("</tr>")[0]
    assert "show 20" in row and "ids=" in row
    listed = client.get(row.split('href="')[1].split('"')[0].replace("&amp;", "&"))
    assert listed.status_code == 200 and "message 0" in listed.content.decode()
