import pytest
from django.urls import reverse

from curation.models import Project
from tests.factories import ExampleFactory, ProjectFactory, UserFactory

PAGES = [
    ("project-list", {}),
    ("token-list", {}),
    ("project-detail", {"project_id": 1}),
    ("import-create", {"project_id": 1}),
    ("example-list", {"project_id": 1}),
    ("version-list", {"project_id": 1}),
    ("version-detail", {"project_id": 1, "number": 1}),
    ("run-detail", {"run_id": 1}),
    ("run-status", {"run_id": 1}),
]


@pytest.fixture
def logged_in(client, user):
    """A site admin (superuser): these tests are about the pages; who may see and do
    what is test_rbac_matrix.py's subject."""
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_every_page_sends_anonymous_visitors_to_the_login_page(client, name, kwargs):
    url = reverse(name, kwargs=kwargs)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


def test_login_page_logs_in_and_lands_on_projects(client, db):
    UserFactory(username="ada")
    page = client.get(reverse("login"))
    assert b'name="csrfmiddlewaretoken"' in page.content
    response = client.post(
        reverse("login"), {"username": "ada", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("project-list")


def test_logout_is_a_post(logged_in):
    assert logged_in.get(reverse("logout")).status_code == 405
    assert logged_in.post(reverse("logout")).status_code == 302
    assert logged_in.get(reverse("project-list")).status_code == 302


def test_project_list_shows_example_and_version_counts(logged_in):
    project = ProjectFactory(name="Spam filter")
    ExampleFactory.create_batch(3, project=project)
    ProjectFactory(name="Empty one")

    response = logged_in.get(reverse("project-list"))

    rows = {p.name: p for p in response.context["projects"]}
    assert (rows["Spam filter"].example_count, rows["Spam filter"].version_count) == (3, 0)
    assert rows["Empty one"].example_count == 0
    assert b"Spam filter" in response.content and b"Create project" in response.content


def test_create_classification_project_with_labels(logged_in, user):
    response = logged_in.post(
        reverse("project-list"),
        {"name": "Reviews", "task_type": "classification", "labels": "neg, pos ,"},
    )
    project = Project.objects.get(name="Reviews")
    assert response.status_code == 302
    assert response["Location"] == reverse("project-detail", args=[project.pk])
    assert (project.label_set, project.field_schema, project.created_by) == (
        ["neg", "pos"],
        ["text"],
        user,
    )


def test_create_generation_project_with_custom_fields(logged_in):
    logged_in.post(
        reverse("project-list"),
        {"name": "Support bot", "task_type": "generation", "field_names": "question, answer"},
    )
    assert Project.objects.get(name="Support bot").field_schema == ["question", "answer"]


def test_duplicate_project_name_is_a_message_not_a_crash(logged_in):
    ProjectFactory(name="Taken")
    response = logged_in.post(
        reverse("project-list"), {"name": "Taken", "task_type": "classification"}, follow=True
    )
    assert response.status_code == 200
    assert "A project named &#x27;Taken&#x27; already exists." in response.content.decode()
    assert Project.objects.filter(name="Taken").count() == 1


def test_project_detail_shows_counts_by_label_and_source(logged_in):
    project = ProjectFactory(label_set=["ham", "spam"])
    ExampleFactory.create_batch(3, project=project, resolved_label="ham")
    ExampleFactory.create_batch(1, project=project, resolved_label="spam", source="human")
    ExampleFactory.create_batch(2, project=project)

    response = logged_in.get(reverse("project-detail", args=[project.pk]))

    bars = {bar["name"]: bar for bar in response.context["label_bars"]}
    assert {name: bar["count"] for name, bar in bars.items()} == {
        "ham": 3,
        "(unlabelled)": 2,
        "spam": 1,
    }
    assert bars["ham"]["width"] == 100.0 and bars["spam"]["percent"] == pytest.approx(16.7)
    sources = {bar["name"]: bar["count"] for bar in response.context["source_bars"]}
    assert sources == {"Imported": 5, "Written by a person": 1}
    assert b'class="bar"' in response.content


def test_unknown_project_is_a_404(logged_in):
    assert logged_in.get(reverse("project-detail", args=[999])).status_code == 404


def test_layout_loads_bundled_htmx_and_sends_csrf_with_htmx_requests(logged_in):
    html = logged_in.get(reverse("project-list")).content.decode()
    assert "/static/django_htmx/htmx-2.min.js" in html
    assert "/static/curation/assay.css" in html
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
