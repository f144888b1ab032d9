"""The API's contract with its callers, beyond any one endpoint: 401 without credentials,
422 naming unknown fields, messages in the API's own terms."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

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
