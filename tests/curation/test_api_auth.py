import pytest
from django.test import Client

from curation.services.api_tokens import api_token_create
from tests.factories import MembershipFactory, ProjectFactory


@pytest.fixture
def token(user) -> str:
    return api_token_create(user=user, name="tests")[1]


def test_no_token_is_401(client, db):
    response = client.get("/api/projects")
    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}


def test_wrong_token_is_401(client, token):
    response = client.get("/api/projects", headers={"Authorization": f"Bearer {token}x"})
    assert response.status_code == 401


def test_valid_token_is_200(client, token, user):
    MembershipFactory(project=ProjectFactory(name="Visible"), user=user)
    ProjectFactory(name="Another team's")
    response = client.get("/api/projects", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert [p["name"] for p in response.json()] == ["Visible"]


def test_logged_in_session_works_and_writes_need_the_csrf_token(user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    assert browser.get("/api/projects").status_code == 200

    body = {"name": "From the page", "task_type": "classification", "labels": ["a", "b"]}
    refused = browser.post("/api/projects", body, content_type="application/json")
    assert refused.status_code == 403

    browser.get("/login/")  # sets the CSRF cookie, as any page does
    csrf = browser.cookies["csrftoken"].value
    created = browser.post(
        "/api/projects", body, content_type="application/json", headers={"X-CSRFToken": csrf}
    )
    assert created.status_code == 201 and created.json()["label_set"] == ["a", "b"]


def test_openapi_schema_lists_the_endpoints_and_bearer_auth(client, db):
    schema = client.get("/api/openapi.json").json()
    paths = schema["paths"]
    for path in [
        "/api/projects",
        "/api/projects/{project_id}",
        "/api/projects/{project_id}/examples",
        "/api/projects/{project_id}/imports",
        "/api/projects/{project_id}/versions",
        "/api/runs/{run_id}",
        "/api/versions/{version_id}",
        "/api/versions/{version_id}/submit",
        "/api/versions/{version_id}/approve",
        "/api/versions/{version_id}/reject",
        "/api/versions/{version_id}/verify",
        "/api/versions/{version_id}/exports",
    ]:
        assert path in paths, path
    schemes = schema["components"]["securitySchemes"]
    assert schemes["BearerTokenAuth"] == {"type": "http", "scheme": "bearer"}


def test_docs_page_uses_bundled_assets_not_a_cdn(client, db):
    html = client.get("/api/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
