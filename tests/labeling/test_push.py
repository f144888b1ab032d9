"""Pushing examples to the real Label Studio: exact counts, however often and however it ends."""

from collections import Counter

import pytest

from labeling.exceptions import LabelStudioNotLinked, LabelStudioUnavailable
from labeling.integrations.label_studio import LabelStudioClient
from labeling.models import TaskLink
from labeling.services.push import PUSH_BATCH_SIZE, label_studio_push
from tests.factories import ExampleFactory, ProjectFactory

SMS_MESSAGES = 5574


def _external_ids_in_label_studio(client, link) -> Counter:
    return Counter(task.external_id for task in client.tasks_iter(link.ls_project_id))


@pytest.mark.slow
def test_pushing_twice_gives_one_task_per_example(sms_project, linked, ls_client):
    link = linked(sms_project)

    first = label_studio_push(project=sms_project, client=ls_client)
    second = label_studio_push(project=sms_project, client=ls_client)

    in_ls = _external_ids_in_label_studio(ls_client, link)
    assert sum(in_ls.values()) == SMS_MESSAGES
    assert set(in_ls.values()) == {1}
    assert (first.tasks_created, second.tasks_created) == (SMS_MESSAGES, 0)
    assert second.tasks_total == SMS_MESSAGES
    assert TaskLink.objects.filter(link=link).count() == SMS_MESSAGES
    link.refresh_from_db()
    assert link.task_count == SMS_MESSAGES and link.last_push_at is not None


@pytest.mark.slow
def test_a_push_killed_midway_completes_on_rerun_without_duplicates(
    sms_project, linked, ls_client, monkeypatch
):
    """The second batch reaches Label Studio but the push dies before recording it, the
    worst moment: the rerun must adopt those tasks, not import them again."""
    link = linked(sms_project)
    real_import = LabelStudioClient.tasks_import
    calls = []

    def dies_after_second_import(self, project_id, tasks):
        ids = real_import(self, project_id, tasks)
        calls.append(len(ids))
        if len(calls) == 2:
            raise LabelStudioUnavailable("connection lost")
        return ids

    monkeypatch.setattr(LabelStudioClient, "tasks_import", dies_after_second_import)
    with pytest.raises(LabelStudioUnavailable):
        label_studio_push(project=sms_project, client=ls_client)
    assert TaskLink.objects.filter(link=link).count() == PUSH_BATCH_SIZE
    monkeypatch.undo()

    rerun = label_studio_push(project=sms_project, client=ls_client)

    in_ls = _external_ids_in_label_studio(ls_client, link)
    assert sum(in_ls.values()) == SMS_MESSAGES and set(in_ls.values()) == {1}
    assert rerun.tasks_adopted == PUSH_BATCH_SIZE
    assert rerun.tasks_created == SMS_MESSAGES - 2 * PUSH_BATCH_SIZE
    assert TaskLink.objects.filter(link=link).count() == SMS_MESSAGES


def test_tasks_carry_the_content_fields_and_the_external_id(db, linked, ls_client):
    project = ProjectFactory(label_set=["ham", "spam"])
    example = ExampleFactory(project=project, fields={"text": "Win a prize now"})
    link = linked(project)

    label_studio_push(project=project, client=ls_client)

    (task,) = ls_client.tasks_iter(link.ls_project_id)
    assert task.data == {"text": "Win a prize now", "assay_external_id": example.external_id}
    assert TaskLink.objects.get(example=example).ls_task_id == task.id


def test_a_task_deleted_in_label_studio_is_pushed_again(db, linked, ls_client):
    project = ProjectFactory(label_set=["ham", "spam"])
    examples = ExampleFactory.create_batch(3, project=project)
    link = linked(project)
    label_studio_push(project=project, client=ls_client)
    gone = TaskLink.objects.get(example=examples[0])
    ls_client.task_delete(gone.ls_task_id)

    report = label_studio_push(project=project, client=ls_client)

    assert report.tasks_created == 1
    assert sum(_external_ids_in_label_studio(ls_client, link).values()) == 3
    assert TaskLink.objects.get(example=examples[0]).ls_task_id != gone.ls_task_id


def test_pushing_an_unlinked_project_says_to_link_it_first(db, ls_client):
    project = ProjectFactory(name="Unlinked")
    with pytest.raises(LabelStudioNotLinked, match="'Unlinked' is not linked"):
        label_studio_push(project=project, client=ls_client)
