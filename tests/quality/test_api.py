"""The data-quality API: findings, review, summary, expectations, permissions."""

import pytest

from curation.quality.models import Finding, FindingKind
from curation.quality.services import quality_check_execute
from curation.services.api_tokens import api_token_create
from tests.factories import UserFactory

OPTIONS = {"checks": ["duplicates", "label_issues"], "model": "tfidf", "folds": 5, "seed": 0}


def bearer(user) -> dict:
    _, raw = api_token_create(user=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def checked(quality_version):
    quality_check_execute(project=quality_version.project, version=quality_version, options=OPTIONS)
    return quality_version


def test_findings_list_filters_and_review_accepts_a_label(client, checked, data_lead):
    project = checked.project
    headers = bearer(data_lead)
    url = f"/api/projects/{project.pk}/quality/findings"
    issues = client.get(url, {"kind": "label_issue"}, **headers).json()
    assert issues and {f["kind"] for f in issues} == {"label_issue"}
    target = next(f for f in issues if f["details"]["external_id"] == "flipped-0")
    response = client.post(
        f"/api/findings/{target['id']}/review",
        {"action": "accept", "reason": "ham"},
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 200 and response.json()["status"] == "resolved"
    assert Finding.objects.get(pk=target["id"]).examples.get().resolved_label == "ham"


def test_version_summary_endpoint(client, checked, data_lead):
    body = client.get(f"/api/versions/{checked.pk}/quality", **bearer(data_lead)).json()
    assert body["cross_split_duplicates"] == 1 and body["label_issues"] >= 2


def test_permissions_404_for_strangers_403_for_annotators(client, checked, annotator):
    project = checked.project
    stranger = bearer(UserFactory())
    assert client.get(f"/api/projects/{project.pk}/quality/findings", **stranger).status_code == 404
    finding = Finding.objects.filter(kind=FindingKind.LABEL_ISSUE).first()
    response = client.post(
        f"/api/findings/{finding.pk}/review",
        {"action": "dismiss", "reason": "x"},
        content_type="application/json",
        **bearer(annotator),
    )
    assert response.status_code == 403


def test_bad_expectation_is_a_400_naming_the_problem(client, checked, data_lead):
    response = client.post(
        f"/api/projects/{checked.project.pk}/quality/expectations",
        {"kind": "not_match_regex", "column": "text", "params": {"regex": "(("}},
        content_type="application/json",
        **bearer(data_lead),
    )
    assert response.status_code == 400
    assert "regular expression" in response.json()["detail"]
