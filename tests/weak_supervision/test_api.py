"""The weak-supervision API: LFs, versions, runs, analysis, and permissions."""

import pytest

from curation.models import Role
from curation.weak_supervision.services.application import lf_apply


@pytest.fixture
def api(client, spam_project, member):
    client.force_login(member(spam_project, Role.DATA_LEAD))
    return client


def test_create_edit_and_list_lfs(api, spam_project):
    base = f"/api/projects/{spam_project.pk}/labeling-functions"
    created = api.post(
        base,
        {
            "name": "kw_please",
            "kind": "keyword",
            "label": "spam",
            "params": {"keywords": ["please"]},
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    lf_id = created.json()["id"]
    edited = api.patch(
        f"/api/labeling-functions/{lf_id}",
        {"label": "spam", "params": {"keywords": ["please", "plz"]}},
        content_type="application/json",
    )
    assert edited.json()["current"]["number"] == 2
    assert [v["number"] for v in edited.json()["versions"]] == [1, 2]
    listed = api.get(base).json()
    assert [lf["name"] for lf in listed] == ["kw_please"]
    bad = api.post(
        base,
        {"name": "r", "kind": "regex", "label": "spam", "params": {"pattern": "("}},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "regular expression" in bad.json()["detail"]


def test_analysis_and_runs(api, spam_project, spam_lfs):
    url = f"/api/projects/{spam_project.pk}/weak-supervision/analysis"
    assert api.get(url).status_code == 404
    lf_apply(project=spam_project)
    analysis = api.get(url).json()
    assert analysis["names"] == ["keyword_link", "keyword_my", "keyword_song"]
    assert [v["version"] for v in analysis["lf_versions"]] == [1, 1, 1]
    assert len(analysis["conflict_matrix"]) == 3
    started = api.post(f"/api/projects/{spam_project.pk}/weak-supervision/apply")
    assert started.status_code == 202
    runs = api.get(f"/api/projects/{spam_project.pk}/weak-supervision/runs").json()
    assert runs[0]["kind"] == "lf_apply"


def test_preview(api, spam_project):
    response = api.post(
        f"/api/projects/{spam_project.pk}/labeling-functions/preview",
        {"kind": "keyword", "label": "ham", "params": {"keywords": ["song"]}},
        content_type="application/json",
    )
    assert response.json()["votes"] == 4 and response.json()["accuracy"] == 1.0


def test_permissions(client, spam_project, member, spam_lfs):
    base = f"/api/projects/{spam_project.pk}/labeling-functions"
    client.force_login(member(spam_project, Role.ML_ENGINEER))
    assert client.get(base).status_code == 200
    body = {"name": "x", "kind": "keyword", "label": "spam", "params": {"keywords": ["x"]}}
    assert client.post(base, body, content_type="application/json").status_code == 403
    lf_id = spam_lfs[0].pk
    assert (
        client.patch(
            f"/api/labeling-functions/{lf_id}",
            {"label": "ham", "params": {}},
            content_type="application/json",
        ).status_code
        == 403
    )
    client.force_login(
        member(
            spam_project.__class__.objects.create(name="o", task_type="classification"), Role.ADMIN
        )
    )
    assert client.get(base).status_code == 404
    assert client.get(f"/api/labeling-functions/{lf_id}").status_code == 404
