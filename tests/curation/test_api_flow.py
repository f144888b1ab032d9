"""The API end to end: create a project, import a file, build, review and export a version."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from curation.models import Example
from curation.services.api_tokens import api_token_create
from tests.factories import ExampleFactory, ProjectFactory

ROWS = "".join(f"message number {n},{'spam' if n % 4 == 0 else 'ham'}\n" for n in range(40))
CSV = ("body,tag\n" + ROWS).encode()


@pytest.fixture
def api(client, user):
    """A site admin's token (roles are test_rbac_matrix.py's subject)."""
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    raw = api_token_create(user=user, name="tests")[1]
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


def post_json(api, url, body=None):
    return api.post(url, json.dumps(body or {}), content_type="application/json")


def import_file(api, project_id, content, name="messages.csv", **options):
    data = {
        "file": SimpleUploadedFile(name, content),
        "mapping": json.dumps({"text": "body", "label": "tag"}),
        **options,
    }
    return api.post(f"/api/projects/{project_id}/imports", data)


def test_import_build_approve_export_verify(api, user, django_capture_on_commit_callbacks):
    created = post_json(
        api,
        "/api/projects",
        {"name": "Spam", "task_type": "classification", "labels": ["ham", "spam"]},
    )
    assert created.status_code == 201
    project_id = created.json()["id"]

    with django_capture_on_commit_callbacks(execute=True):
        started = import_file(api, project_id, CSV)
    assert started.status_code == 202 and started.json()["kind"] == "import"
    run = api.get(f"/api/runs/{started.json()['id']}").json()
    assert (run["status"], run["progress"], run["result"]["created"]) == ("succeeded", 100, 40)

    detail = api.get(f"/api/projects/{project_id}").json()
    assert detail["example_count"] == 40
    assert detail["examples_by_label"] == {"ham": 30, "spam": 10}

    with django_capture_on_commit_callbacks(execute=True):
        build = post_json(api, f"/api/projects/{project_id}/versions", {"seed": 5})
    assert build.status_code == 202
    build_run = api.get(f"/api/runs/{build.json()['id']}").json()
    assert build_run["status"] == "succeeded"
    versions = api.get(f"/api/projects/{project_id}/versions").json()
    assert [(v["number"], v["status"], v["seed"]) for v in versions] == [(1, "draft", 5)]
    version_id = versions[0]["id"]

    version = api.get(f"/api/versions/{version_id}").json()
    assert sum(version["split_counts"].values()) == 40
    assert version["label_distribution"]["train"] == {"ham": 24, "spam": 8}

    assert post_json(api, f"/api/versions/{version_id}/submit").json()["status"] == "in_review"
    approved = post_json(api, f"/api/versions/{version_id}/approve", {"comment": "ok"}).json()
    assert (approved["status"], approved["review_comment"]) == ("approved", "ok")

    with django_capture_on_commit_callbacks(execute=True):
        export = post_json(api, f"/api/versions/{version_id}/exports", {"formats": ["jsonl"]})
    assert export.status_code == 202
    exports = api.get(f"/api/versions/{version_id}/exports").json()
    assert len(exports) == 1 and exports[0]["formats"] == ["jsonl"]
    assert exports[0]["files"] and all(len(f["sha256"]) == 64 for f in exports[0]["files"])

    verify = api.get(f"/api/versions/{version_id}/verify").json()
    assert verify["ok"] is True and verify["actual_hash"] == version["content_hash"]


def test_broken_line_fails_the_run_with_file_line_and_field(
    api, django_capture_on_commit_callbacks
):
    project = ProjectFactory(label_set=["ham", "spam"])
    with django_capture_on_commit_callbacks(execute=True):
        started = import_file(api, project.pk, b"body,tag\nok,ham\n,spam\n", name="bad.csv")
    run = api.get(f"/api/runs/{started.json()['id']}").json()
    assert run["status"] == "failed" and "bad.csv, line 3" in run["error"]
    assert run["result"]["error"]["file"] == "bad.csv" and run["result"]["error"]["line"] == 3
    assert not Example.objects.filter(project=project).exists()


def test_unreadable_upload_is_a_400_naming_the_file(api):
    project = ProjectFactory()
    response = import_file(api, project.pk, b"whatever", name="notes.docx")
    assert response.status_code == 400
    body = response.json()
    assert body["file"] == "notes.docx" and "notes.docx" in body["detail"]
    assert set(body) == {"detail", "file", "line", "field", "option"}


def test_bad_mapping_json_is_a_400(api):
    project = ProjectFactory()
    response = import_file(api, project.pk, CSV, mapping="{not json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("mapping is not valid JSON")


def test_assay_errors_are_400_with_the_message(api):
    ProjectFactory(name="Taken")
    response = post_json(api, "/api/projects", {"name": "Taken", "task_type": "classification"})
    assert response.status_code == 400
    assert response.json() == {"detail": "A project named 'Taken' already exists."}


def test_invalid_transition_is_a_400(api):
    project = ProjectFactory(label_set=["ham"])
    ExampleFactory.create_batch(10, project=project, resolved_label="ham")
    from curation.services.versions import dataset_version_build

    version = dataset_version_build(project=project)
    response = post_json(api, f"/api/versions/{version.pk}/approve")
    assert response.status_code == 400
    assert "only in review versions can be approved" in response.json()["detail"]


def test_examples_endpoint_filters_and_pages(api):
    project = ProjectFactory(label_set=["ham", "spam"])
    ExampleFactory.create_batch(60, project=project, resolved_label="ham")
    ExampleFactory(project=project, resolved_label="spam", fields={"text": "Cheap PILLS"})
    url = f"/api/projects/{project.pk}/examples"

    first = api.get(url, {"label": "ham"}).json()
    assert (first["count"], len(first["items"])) == (60, 50)
    assert len(api.get(url, {"label": "ham", "page": 2}).json()["items"]) == 10
    found = api.get(url, {"search": "pills"}).json()
    assert [item["fields"]["text"] for item in found["items"]] == ["Cheap PILLS"]
    split_only = api.get(url, {"split": "train"})
    assert split_only.status_code == 400 and "within a version" in split_only.json()["detail"]


def test_unknown_objects_are_404(api):
    assert api.get("/api/projects/999").status_code == 404
    assert api.get("/api/runs/999").status_code == 404
    assert api.get("/api/versions/999").status_code == 404
