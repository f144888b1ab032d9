"""The API's contract with its callers, beyond any one endpoint: 401 without credentials,
422 naming unknown fields, messages in the API's own terms."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from ninja import Schema

from curation.api import api as ninja_api
from curation.models import Project
from curation.services.api_tokens import api_token_create
from tests.factories import MembershipFactory, ProjectFactory


@pytest.fixture
def api(client, user):
    raw = api_token_create(user=user, name="tests")[1]
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


def post_json(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_a_post_without_credentials_is_401_not_a_csrf_failure(db):
    anonymous = Client(enforce_csrf_checks=True)

    response = post_json(anonymous, "/api/projects", {"name": "x", "task_type": "classification"})

    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}


def test_a_signed_in_page_still_needs_its_csrf_token(user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    response = post_json(browser, "/api/projects", {"name": "x", "task_type": "classification"})

    assert response.status_code == 403


def test_an_unknown_field_is_a_422_that_names_it(api):
    response = post_json(
        api,
        "/api/projects",
        {"name": "Spam", "task_type": "classification", "label_set": ["ham", "spam"]},
    )

    assert response.status_code == 422
    assert "label_set" in response.json()["detail"]
    assert not Project.objects.filter(name="Spam").exists()


def test_an_unknown_import_form_field_is_a_422_that_names_it(api, user):
    project = ProjectFactory(label_set=["ham", "spam"])
    MembershipFactory(project=project, user=user, role="data_lead")

    response = api.post(
        f"/api/projects/{project.pk}/imports",
        {"file": SimpleUploadedFile("a.csv", b"text\nhello\n"), "maping": '{"text": "text"}'},
    )

    assert response.status_code == 422
    assert "maping" in response.json()["detail"]


def test_a_second_run_is_refused_in_plain_english(api, user, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    project = ProjectFactory(label_set=["ham", "spam"])
    MembershipFactory(project=project, user=user, role="data_lead")

    def start():
        upload = SimpleUploadedFile("a.csv", b"text,label\nhello,ham\n")
        return api.post(f"/api/projects/{project.pk}/imports", {"file": upload})

    assert start().status_code == 202
    refused = start()

    assert refused.status_code == 400
    assert refused.json()["detail"].startswith("An import run (#")


def test_import_errors_name_the_api_field_not_a_command_line_flag(
    api, user, django_capture_on_commit_callbacks
):
    project = ProjectFactory(label_set=["ham", "spam"])
    MembershipFactory(project=project, user=user, role="data_lead")
    upload = SimpleUploadedFile("a.csv", b"body,tag\nhello,ham\n")

    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(f"/api/projects/{project.pk}/imports", {"file": upload})
    run = api.get(f"/api/runs/{started.json()['id']}").json()

    assert run["status"] == "failed"
    assert "--" not in run["error"]
    assert "mapping" in run["error"]


def test_the_openapi_schema_documents_each_operation_body_under_its_own_name():
    # Two request schemas named ReviewIn (version review, weak-label review) shared one
    # OpenAPI component, so /api/openapi.json told callers to send `threshold` to approve a
    # version, which then refused it (found by tests/curation/test_api_schema.py).
    schema = ninja_api.get_openapi_schema()
    components = schema["components"]["schemas"]

    def body_fields(path: str) -> set[str]:
        body = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        refs = [s["$ref"] for s in body["schema"].get("anyOf", [body["schema"]]) if "$ref" in s]
        return set(components[refs[0].rsplit("/", 1)[-1]]["properties"])

    assert body_fields("/api/versions/{version_id}/approve") == {"comment", "override_reason"}
    assert body_fields("/api/projects/{project_id}/weak-supervision/review") == {"threshold"}


def test_no_two_api_schemas_share_a_name():
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = ("curation.", "training.", "serving.", "loop.", "labeling.")
    names = [cls.__name__ for cls in subclasses(Schema) if cls.__module__.startswith(ours)]

    assert sorted({n for n in names if names.count(n) > 1}) == []


def test_every_operation_documents_the_error_answers_it_can_give():
    schema = ninja_api.get_openapi_schema()

    for path, item in schema["paths"].items():
        for method, operation in item.items():
            assert {"400", "401", "403", "404", "422"} <= set(operation["responses"]), (
                method,
                path,
            )
    assert set(schema["components"]["schemas"]["ValidationErrorOut"]["properties"]) == {
        "detail",
        "errors",
    }
