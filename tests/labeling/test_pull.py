"""Pulling annotations made in the real Label Studio into Assay labels."""

import pytest

from curation.models import Label, LabelOrigin
from labeling.core.label_config import classification_result
from labeling.exceptions import LabelStudioUnavailable
from labeling.integrations.label_studio import LabelStudioClient
from labeling.services.pull import label_studio_pull
from labeling.services.push import label_studio_push
from tests.factories import ExampleFactory, ProjectFactory


@pytest.fixture
def pushed(db, linked, ls_client):
    """A linked classification project with four examples pushed as tasks."""
    project = ProjectFactory(label_set=["ham", "spam"])
    examples = ExampleFactory.create_batch(4, project=project)
    linked(project)
    label_studio_push(project=project, client=ls_client)
    tasks = [example.label_studio_task.ls_task_id for example in examples]
    return project, examples, tasks


def _choose(label):
    return classification_result(label, to_name="text")


def test_annotations_by_two_users_become_annotator_labels(pushed, ls_client, unique_email):
    project, examples, tasks = pushed
    second_user = ls_client.user_ensure(email=unique_email)
    spam = ls_client.annotation_create(tasks[0], result=_choose("spam"), lead_time=4.2)
    ham = ls_client.annotation_create(tasks[1], result=_choose("ham"), user_id=second_user)

    report = label_studio_pull(project=project, client=ls_client)

    assert report.labels_created == 2
    labels = {label.external_ref: label for label in Label.objects.filter(example__project=project)}
    assert set(labels) == {str(spam.id), str(ham.id)}
    assert labels[str(spam.id)].author == ls_client.whoami()
    assert labels[str(ham.id)].author == unique_email
    assert {label.origin for label in labels.values()} == {LabelOrigin.ANNOTATOR}
    for example, expected in zip(examples, ["spam", "ham", "", ""], strict=True):
        example.refresh_from_db()
        assert example.resolved_label == expected
    assert examples[0].resolved_label_origin == LabelOrigin.ANNOTATOR


def test_pulling_again_adds_no_label(pushed, ls_client):
    project, _examples, tasks = pushed
    ls_client.annotation_create(tasks[0], result=_choose("spam"))
    label_studio_pull(project=project, client=ls_client)

    again = label_studio_pull(project=project, client=ls_client)

    assert (again.labels_created, again.labels_updated, again.labels_removed) == (0, 0, 0)
    assert Label.objects.filter(example__project=project).count() == 1


def test_a_cancelled_annotation_is_not_counted(pushed, ls_client):
    project, examples, tasks = pushed
    ls_client.annotation_create(tasks[2], result=[], was_cancelled=True)
    ls_client.annotation_create(tasks[3], result=_choose("ham"))

    report = label_studio_pull(project=project, client=ls_client)

    assert (report.cancelled, report.labels_created) == (1, 1)
    assert not Label.objects.filter(example=examples[2]).exists()
    project.label_studio_link.refresh_from_db()
    assert project.label_studio_link.annotation_count == 1
    assert project.label_studio_link.cancelled_count == 1


def test_updated_and_deleted_annotations_are_mirrored(pushed, ls_client):
    project, examples, tasks = pushed
    changed = ls_client.annotation_create(tasks[0], result=_choose("spam"))
    removed = ls_client.annotation_create(tasks[1], result=_choose("spam"))
    label_studio_pull(project=project, client=ls_client)

    ls_client.annotation_update(changed.id, result=_choose("ham"))
    ls_client.annotation_delete(removed.id)
    report = label_studio_pull(project=project, client=ls_client)

    assert (report.labels_updated, report.labels_removed) == (1, 1)
    assert list(Label.objects.filter(example=examples[0]).values_list("value", flat=True)) == [
        "ham"
    ]
    examples[0].refresh_from_db()
    examples[1].refresh_from_db()
    assert (examples[0].resolved_label, examples[1].resolved_label) == ("ham", "")


def test_a_label_outside_the_label_set_is_reported_not_stored(pushed, ls_client):
    project, _examples, tasks = pushed
    ls_client.annotation_create(tasks[0], result=_choose("eggs"))

    report = label_studio_pull(project=project, client=ls_client)

    assert report.unknown_labels == {"eggs": 1}
    assert not Label.objects.filter(example__project=project).exists()


def test_label_studio_down_during_a_pull_changes_nothing_and_a_rerun_completes(pushed, ls_client):
    project, _examples, tasks = pushed
    ls_client.annotation_create(tasks[0], result=_choose("spam"))
    down = LabelStudioClient(url="http://127.0.0.1:9", token="0" * 40, timeout=2)

    with pytest.raises(LabelStudioUnavailable, match="does not answer"):
        label_studio_pull(project=project, client=down)
    assert not Label.objects.filter(example__project=project).exists()

    assert label_studio_pull(project=project, client=ls_client).labels_created == 1
