"""Pushing chosen examples, pre-annotations annotators can see, and the overlap setting."""

import pytest

from curation.exceptions import AssayError
from curation.models import LabelOrigin
from curation.services.labels import label_add
from labeling.models import TaskLink
from labeling.services.links import label_studio_overlap_set
from labeling.services.push import label_studio_push
from tests.factories import ExampleFactory, ProjectFactory


def test_a_push_of_chosen_examples_creates_only_their_tasks(db, linked, ls_client):
    project = ProjectFactory(label_set=["ham", "spam"])
    examples = ExampleFactory.create_batch(5, project=project)
    link = linked(project)
    chosen = [examples[1].pk, examples[3].pk]

    report = label_studio_push(project=project, example_ids=chosen, client=ls_client)
    again = label_studio_push(project=project, example_ids=chosen, client=ls_client)

    assert (report.tasks_created, again.tasks_created) == (2, 0)
    assert sorted(t.external_id for t in ls_client.tasks_iter(link.ls_project_id)) == sorted(
        [examples[1].external_id, examples[3].external_id]
    )
    assert set(TaskLink.objects.values_list("example_id", flat=True)) == set(chosen)


def test_choosing_an_example_of_another_project_is_refused(db, linked, ls_client):
    project = ProjectFactory(label_set=["ham", "spam"])
    stranger = ExampleFactory()
    linked(project)
    with pytest.raises(AssayError, match=f"no examples with ids {stranger.pk}"):
        label_studio_push(project=project, example_ids=[stranger.pk], client=ls_client)
    assert not TaskLink.objects.exists()


def test_weak_labels_are_shown_as_the_selected_model_version(db, linked, ls_client):
    project = ProjectFactory(label_set=["ham", "spam"])
    example = ExampleFactory(project=project)
    label_add(
        example=example,
        value="spam",
        origin=LabelOrigin.LABELING_FUNCTION,
        author="weak-v1",
        confidence=0.83,
    )
    link = linked(project)

    report = label_studio_push(project=project, client=ls_client)

    assert report.predictions_pushed == 1
    assert ls_client.project_get(link.ls_project_id).model_version == "weak-v1"
    (prediction,) = ls_client.task_predictions(example.label_studio_task.ls_task_id)
    assert (prediction.model_version, prediction.score) == ("weak-v1", pytest.approx(0.83))
    assert prediction.result[0]["value"]["choices"] == ["spam"]


def test_a_new_model_prediction_reaches_a_task_pushed_before(db, linked, ls_client):
    project = ProjectFactory(label_set=["ham", "spam"])
    example = ExampleFactory(project=project)
    link = linked(project)
    label_studio_push(project=project, client=ls_client)
    label_add(
        example=example, value="ham", origin=LabelOrigin.MODEL, author="clf-7", confidence=0.6
    )

    label_studio_push(project=project, example_ids=[example.pk], client=ls_client)
    label_studio_push(project=project, example_ids=[example.pk], client=ls_client)

    task_id = example.label_studio_task.ls_task_id
    assert [p.model_version for p in ls_client.task_predictions(task_id)] == ["clf-7"]
    assert ls_client.project_get(link.ls_project_id).model_version == "clf-7"


def test_the_overlap_setting_reaches_label_studio(db, linked, ls_client):
    project = ProjectFactory(label_set=["ham", "spam"])
    link = linked(project)

    label_studio_overlap_set(project=project, overlap=3, client=ls_client)

    assert ls_client.project_get(link.ls_project_id).maximum_annotations == 3
    link.refresh_from_db()
    assert link.overlap == 3
    with pytest.raises(AssayError, match="between 1 and 20"):
        label_studio_overlap_set(project=project, overlap=0, client=ls_client)
