"""Label Studio down: a push or a pull run fails with an error that names the server and
says what to do, and nothing changes in Assay (no task links, labels, counts or
watermarks). Down means nothing listens at the configured address."""

import socket

import pytest
from django.utils import timezone

from curation.models import Label, LabelOrigin, Run, RunStatus
from labeling.models import LabelStudioLink, TaskLink
from labeling.services.pull import label_studio_pull_start
from labeling.services.push import label_studio_push_start
from tests.faults.seed import seeded_project


@pytest.fixture
def down_url(settings) -> str:
    """An address where nothing listens: a port the system gave out, closed again."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.LABEL_STUDIO_URL = f"http://127.0.0.1:{port}"
    return settings.LABEL_STUDIO_URL


@pytest.fixture
def linked_project(db):
    project = seeded_project("Linked")
    pulled_at = timezone.now()
    LabelStudioLink.objects.create(
        project=project,
        ls_project_id=41,
        base_url="http://label-studio.example",
        project_url="http://label-studio.example/projects/41",
        label_config="<View/>",
        task_count=7,
        annotation_count=3,
        last_pull_at=pulled_at,
        pull_watermark=pulled_at,
    )
    return project


def link_state(project) -> dict:
    link = LabelStudioLink.objects.filter(project=project).values().get()
    labels = Label.objects.filter(example__project=project).values_list(
        "example__external_id", "origin", "value"
    )
    return {"link": link, "labels": sorted(labels), "task_links": TaskLink.objects.count()}


@pytest.mark.parametrize("start", [label_studio_push_start, label_studio_pull_start])
def test_push_and_pull_fail_clearly_and_change_nothing_while_label_studio_is_down(
    start, linked_project, down_url, django_capture_on_commit_callbacks
):
    before = link_state(linked_project)
    assert any(origin == LabelOrigin.IMPORT for _, origin, _ in before["labels"])

    with django_capture_on_commit_callbacks(execute=True):
        run = start(project=linked_project)

    run = Run.objects.get(pk=run.pk)
    assert run.status == RunStatus.FAILED
    assert f"Label Studio does not answer at {down_url}" in run.error
    assert "Is it running?" in run.error
    assert link_state(linked_project) == before
