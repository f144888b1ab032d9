"""The quality pages: permissions, the check page's pictures, review and the suite editor."""

import pytest
from django.urls import reverse

from curation.quality.models import ExpectationRule, Finding, FindingKind, FindingStatus
from curation.quality.services import quality_check_execute
from tests.factories import UserFactory

OPTIONS = {
    "checks": ["duplicates", "outliers", "label_issues"],
    "model": "tfidf",
    "folds": 5,
    "seed": 0,
}


@pytest.fixture
def check(quality_version):
    return quality_check_execute(
        project=quality_version.project, version=quality_version, options=OPTIONS
    )


def test_non_members_get_404_and_annotators_cannot_act(client, quality_project, annotator, check):
    overview = reverse("quality-overview", args=[quality_project.pk])
    client.force_login(UserFactory())
    assert client.get(overview).status_code == 404
    client.force_login(annotator)
    assert client.get(overview).status_code == 200
    finding = Finding.objects.filter(kind=FindingKind.LABEL_ISSUE).first()
    review = reverse("finding-review", args=[quality_project.pk, finding.pk])
    assert client.post(review, {"action": "dismiss", "reason": "x"}).status_code == 403
    start = reverse("quality-check-create", args=[quality_project.pk])
    assert (
        client.post(start, {"checks": ["duplicates"], "model": "tfidf", "folds": 5}).status_code
        == 403
    )
    assert Finding.objects.get(pk=finding.pk).status == FindingStatus.OPEN


def test_check_page_shows_matrix_leak_and_suggested_labels(
    client, quality_project, data_lead, check
):
    client.force_login(data_lead)
    page = client.get(reverse("quality-check-detail", args=[quality_project.pk, check.pk]))
    html = page.content.decode()
    assert "Given vs suggested label" in html and 'class="table compact matrix"' in html
    assert "flipped-0" in html
    assert "Duplicate across splits" in html and "ham-3-copy" in html
    matrix = page.context["matrix"]
    spam_row = next(row for row in matrix["rows"] if row["given"] == "spam")
    assert next(c for c in spam_row["cells"] if c["suggested"] == "ham")["count"] >= 2


def test_findings_filter_by_kind_and_dismiss_from_the_page(
    client, quality_project, data_lead, check
):
    client.force_login(data_lead)
    url = reverse("finding-list", args=[quality_project.pk])
    page = client.get(url, {"kind": "cross_split_duplicate", "status": "open"})
    assert [f.kind for f in page.context["page"]] == ["cross_split_duplicate"]
    leak = page.context["page"][0]
    review = reverse("finding-review", args=[quality_project.pk, leak.pk])
    response = client.post(review, {"action": "dismiss", "reason": "boilerplate greeting"})
    assert response.status_code == 302
    leak.refresh_from_db()
    assert (leak.status, leak.reason, leak.reviewed_by) == (
        "dismissed",
        "boilerplate greeting",
        data_lead,
    )
    assert (
        client.get(url, {"kind": "cross_split_duplicate", "status": "open"})
        .context["page"]
        .paginator.count
        == 0
    )


def test_accept_button_relabels_the_example(client, quality_project, data_lead, check):
    client.force_login(data_lead)
    finding = Finding.objects.get(kind=FindingKind.LABEL_ISSUE, details__external_id="flipped-1")
    client.post(
        reverse("finding-review", args=[quality_project.pk, finding.pk]), {"action": "accept"}
    )
    assert finding.examples.get().resolved_label == "ham"


def test_starting_a_check_from_the_page_runs_it(
    client, quality_version, data_lead, django_capture_on_commit_callbacks
):
    client.force_login(data_lead)
    start = reverse("quality-check-create", args=[quality_version.project.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            start,
            {"version": quality_version.pk, "checks": ["duplicates"], "model": "tfidf", "folds": 3},
        )
    assert response.status_code == 302 and "/runs/" in response.url
    assert quality_version.quality_checks.get().summary["cross_split_duplicates"] == 1


def test_suite_editor_adds_toggles_and_refuses_bad_rules(client, quality_project, data_lead):
    client.force_login(data_lead)
    base = reverse("expectation-list", args=[quality_project.pk])
    client.post(reverse("expectation-defaults", args=[quality_project.pk]))
    assert ExpectationRule.objects.filter(project=quality_project, kind="no_pii").exists()
    add = reverse("expectation-create", args=[quality_project.pk])
    client.post(
        add, {"kind": "length_between", "column": "text", "min_length": 50, "max_length": 5}
    )
    assert not ExpectationRule.objects.filter(params__min_length=50).exists()
    response = client.post(
        add, {"kind": "not_match_regex", "column": "text", "regex": "lorem"}, follow=True
    )
    assert "Expectation added" in response.content.decode()
    rule = ExpectationRule.objects.get(kind="not_match_regex")
    client.post(
        reverse("expectation-change", args=[quality_project.pk, rule.pk]), {"action": "toggle"}
    )
    assert ExpectationRule.objects.get(pk=rule.pk).enabled is False
    assert "does not match /lorem/" in client.get(base).content.decode()


def test_findings_list_puts_leaks_and_label_issues_first(client, quality_project, data_lead, check):
    client.force_login(data_lead)
    page = client.get(reverse("finding-list", args=[quality_project.pk])).context["page"]
    kinds = [finding.kind for finding in page]
    assert kinds[0] == FindingKind.CROSS_SPLIT_DUPLICATE
    assert kinds.index(FindingKind.LABEL_ISSUE) < kinds.index(FindingKind.OUTLIER)
