"""The Label Studio panel: who may see and do what, and what it shows."""

import pytest

from curation.models import LabelOrigin, ProjectMembership, Role, Run
from curation.services.labels import label_add
from labeling.models import LabelStudioLink
from tests.factories import ExampleFactory, ProjectFactory, UserFactory


def _member(client, project, role):
    user = UserFactory()
    ProjectMembership.objects.create(project=project, user=user, role=role)
    client.force_login(user)
    return user


@pytest.fixture
def project(db):
    project = ProjectFactory(label_set=["ham", "spam"])
    LabelStudioLink.objects.create(
        project=project,
        ls_project_id=77,
        base_url="http://ls",
        project_url="http://ls/projects/77/data",
        task_count=4,
        annotation_count=3,
    )
    return project


def test_a_non_member_gets_404_everywhere(client, project):
    client.force_login(UserFactory())
    assert client.get(f"/projects/{project.pk}/label-studio/").status_code == 404
    assert client.post(f"/projects/{project.pk}/label-studio/push/").status_code == 404


def test_an_annotator_sees_the_panel_but_may_not_sync_or_link(client, project):
    _member(client, project, Role.ANNOTATOR)

    page = client.get(f"/projects/{project.pk}/label-studio/")

    assert page.status_code == 200
    assert b"http://ls/projects/77/data" in page.content and b"Push examples" not in page.content
    assert client.post(f"/projects/{project.pk}/label-studio/push/").status_code == 403
    assert client.post(f"/projects/{project.pk}/label-studio/pull/").status_code == 403
    assert client.post(f"/projects/{project.pk}/label-studio/overlap/").status_code == 403
    assert not Run.objects.exists()


def test_a_data_lead_push_starts_a_run_and_lands_on_its_live_page(client, project, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    _member(client, project, Role.DATA_LEAD)

    response = client.post(f"/projects/{project.pk}/label-studio/push/")

    run = Run.objects.get()
    assert (run.kind, run.project) == ("label_studio_push", project)
    assert response.url == f"/runs/{run.pk}/"
    assert client.post(f"/projects/{project.pk}/label-studio/link/").status_code == 403


def test_the_annotator_table_shows_labels_agreement_and_speed(client, project):
    _member(client, project, Role.ANNOTATOR)
    for index, (a, b) in enumerate([("spam", "spam"), ("ham", "ham"), ("ham", "spam")]):
        example = ExampleFactory(project=project)
        for who, value, seconds in [("ann@x", a, 4.0 + index), ("bob@x", b, 10.0)]:
            label_add(
                example=example,
                value=value,
                origin=LabelOrigin.ANNOTATOR,
                author=who,
                external_ref=f"{who}-{index}",
                lead_time_seconds=seconds,
            )

    page = client.get(f"/projects/{project.pk}/label-studio/", headers={"HX-Request": "true"})

    html = page.content.decode()
    assert "<h1>" not in html  # the fragment the overview page loads
    assert "ann@x" in html and "bob@x" in html
    assert "5.0 s" in html and "10.0 s" in html  # medians of 4, 5, 6 and of 10s
    # two of three agree: po 2/3, pe 4/9 -> kappa 0.4
    assert 'data-metric="cohen">0.400<' in html
