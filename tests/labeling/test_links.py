"""Linking projects to the real Label Studio, and keeping the interface in step."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from curation.models import Run, RunStatus
from curation.services.projects import project_label_set_extend
from labeling.exceptions import LabelStudioError
from labeling.models import LabelStudioLink, TaskLink
from labeling.services.links import label_studio_config_sync, label_studio_project_link
from tests.factories import ExampleFactory, ProjectFactory, UserFactory


def test_linking_creates_a_project_with_the_generated_interface(db, linked, ls_client):
    project = ProjectFactory(name="SMS", label_set=["ham", "spam"])
    link = linked(project)

    ls_project = ls_client.project_get(link.ls_project_id)
    assert '<Choice value="spam"/>' in ls_project.label_config
    assert link.project_url.endswith(f"/projects/{link.ls_project_id}/data")
    assert label_studio_project_link(project=project, client=ls_client) == link
    assert LabelStudioLink.objects.count() == 1


def test_a_generation_project_gets_verdict_and_correction(db, linked, ls_client):
    project = ProjectFactory(task_type="generation", label_set=[])
    link = linked(project)

    config = ls_client.project_get(link.ls_project_id).label_config
    assert 'name="verdict"' in config and "<TextArea" in config


def test_a_label_set_change_updates_the_interface(db, linked, ls_client):
    project = ProjectFactory(label_set=["ham", "spam"])
    link = linked(project)
    project_label_set_extend(project=project, labels=["phishing"])

    label_studio_config_sync(project=project, client=ls_client)

    assert '<Choice value="phishing"/>' in ls_client.project_get(link.ls_project_id).label_config


def test_a_project_that_cannot_be_shown_is_refused_before_anything_is_created(db, ls_client):
    project = ProjectFactory(label_set=["a"], field_schema=["two words"])
    with pytest.raises(LabelStudioError, match="Content field 'two words'"):
        label_studio_project_link(project=project, client=ls_client)
    assert not LabelStudioLink.objects.exists()


def test_link_and_push_commands_run_as_recorded_runs(db, label_studio_server, ls_client, capsys):
    UserFactory(username="operator", is_superuser=True)  # commands act as the one superuser
    project = ProjectFactory(name="Command test", label_set=["ham", "spam"])
    ExampleFactory.create_batch(3, project=project)
    call_command("labeling_link", "Command test")
    link = LabelStudioLink.objects.get(project=project)
    try:
        call_command("labeling_push", "Command test", "--quiet")
        call_command("labeling_pull", "Command test", "--quiet")
    finally:
        ls_client.project_delete(link.ls_project_id)
    runs = Run.objects.filter(project=project).order_by("id")
    assert [(r.kind, r.status) for r in runs] == [
        ("label_studio_push", RunStatus.SUCCEEDED),
        ("label_studio_pull", RunStatus.SUCCEEDED),
    ]
    assert runs[0].result["tasks_created"] == 3
    assert TaskLink.objects.filter(link=link).count() == 3


def test_pulling_an_unlinked_project_fails_with_the_reason(db):
    UserFactory(username="operator", is_superuser=True)
    ProjectFactory(name="Lonely")
    with pytest.raises(CommandError, match="'Lonely' is not linked to Label Studio"):
        call_command("labeling_pull", "Lonely", "--quiet")
