from datetime import timedelta

import pytest
from django.utils import timezone

from curation.services.labels import label_add
from tests.factories import ExampleFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_annotator_majority_outranks_import_and_weak_labels(classification_project):
    example = ExampleFactory(project=classification_project)
    label_add(example=example, value="spam", origin="labeling_function", confidence=0.99)
    label_add(example=example, value="spam", origin="import", author="file.csv")
    example.refresh_from_db()
    assert (example.resolved_label, example.resolved_label_origin) == ("spam", "import")

    for value in ("ham", "ham", "spam"):
        label_add(example=example, value=value, origin="annotator", annotator=UserFactory())
    example.refresh_from_db()
    assert (example.resolved_label, example.resolved_label_origin) == ("ham", "annotator")


def test_annotator_tie_goes_to_the_most_recent_label(classification_project):
    example = ExampleFactory(project=classification_project)
    first = label_add(example=example, value="spam", origin="annotator")
    first.created_at = timezone.now() - timedelta(hours=1)
    first.save()
    label_add(example=example, value="ham", origin="annotator")
    example.refresh_from_db()
    assert example.resolved_label == "ham"


def test_most_confident_weak_label_wins(classification_project):
    example = ExampleFactory(project=classification_project)
    label_add(example=example, value="spam", origin="labeling_function", confidence=0.6)
    label_add(example=example, value="ham", origin="labeling_function", confidence=0.9)
    example.refresh_from_db()
    assert (example.resolved_label, example.resolved_label_origin) == ("ham", "labeling_function")


def test_updating_or_removing_a_label_re_resolves_the_example(classification_project):
    from curation.services.labels import label_remove, label_update

    example = ExampleFactory(project=classification_project)
    label = label_add(example=example, value="spam", origin="annotator", lead_time_seconds=4.5)
    label_add(example=example, value="ham", origin="import")
    label_update(label=label, value="ham")
    example.refresh_from_db()
    assert (example.resolved_label, example.resolved_label_origin) == ("ham", "annotator")
    label_remove(label=label)
    example.refresh_from_db()
    assert (example.resolved_label, example.resolved_label_origin) == ("ham", "import")


def test_replacing_weak_labels_in_bulk_keeps_human_labels_on_top(classification_project):
    from curation.models import Label
    from curation.services.labels import labels_replace_for_origin

    human, weak_only, unlabelled = ExampleFactory.create_batch(3, project=classification_project)
    label_add(example=human, value="ham", origin="annotator")
    label_add(example=weak_only, value="ham", origin="labeling_function", confidence=0.6)
    written = labels_replace_for_origin(
        project=classification_project,
        origin="labeling_function",
        labels={human.pk: ("spam", 0.9), weak_only.pk: ("spam", 0.8), unlabelled.pk: ("spam", 0.7)},
        author="label model v2",
    )
    assert written == 3
    assert Label.objects.filter(origin="labeling_function").count() == 3  # the old one is gone
    for example in (human, weak_only, unlabelled):
        example.refresh_from_db()
    assert (human.resolved_label, human.resolved_label_origin) == ("ham", "annotator")
    assert (weak_only.resolved_label, weak_only.resolved_label_origin) == (
        "spam",
        "labeling_function",
    )
    assert unlabelled.resolved_label == "spam"
