"""Bulk label changes leave the same labels, resolutions and audit trail as one by one."""

import pytest

from curation.models import AuditEvent, Label
from curation.services.label_changes import LabelAction, LabelChange, label_changes_apply
from curation.services.labels import label_add, label_remove, label_update
from tests.factories import ExampleFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def _project_with_history():
    """Three examples: one with an imported label, one with two annotator labels."""
    project = ProjectFactory(label_set=["ham", "spam"])
    first, second, third = (ExampleFactory(project=project, external_id=f"x{i}") for i in range(3))
    label_add(example=first, value="spam", origin="import", author="file.csv", audit=False)
    for author in ("a@x", "b@x"):
        label_add(example=second, value="ham", origin="annotator", author=author, audit=False)
    return project, [first, second, third]


def _labels(example, author):
    return Label.objects.get(example=example, author=author)


def _one_by_one(examples):
    first, second, third = examples
    label_add(example=first, value="ham", origin="annotator", author="c@x", external_ref="1")
    label_add(example=first, value="ham", origin="annotator", author="d@x", external_ref="2")
    label_update(label=_labels(second, "a@x"), value="spam", lead_time_seconds=3.0)
    label_remove(label=_labels(second, "b@x"))
    label_add(example=third, value="spam", origin="annotator", author="e@x", external_ref="3")
    label_remove(label=_labels(third, "e@x"))


def _in_bulk(project, examples):
    first, second, third = examples

    def add(example, value, author, ref):
        label = Label(
            example=example, value=value, origin="annotator", author=author, external_ref=ref
        )
        return LabelChange(LabelAction.ADD, label)

    changes = [
        add(first, "ham", "c@x", "1"),
        add(first, "ham", "d@x", "2"),
        LabelChange(
            LabelAction.UPDATE, _labels(second, "a@x"), {"value": "spam", "lead_time_seconds": 3.0}
        ),
        LabelChange(LabelAction.REMOVE, _labels(second, "b@x")),
        add(third, "spam", "e@x", "3"),
    ]
    label_changes_apply(project=project, changes=changes)
    # A removal of a label added in an earlier call, as a later pull would make it.
    label_changes_apply(
        project=project, changes=[LabelChange(LabelAction.REMOVE, _labels(third, "e@x"))]
    )


def _state(project, examples):
    resolved = []
    for example in examples:
        example.refresh_from_db()
        resolved.append((example.resolved_label, example.resolved_label_origin))
    labels = sorted(
        Label.objects.filter(example__project=project).values_list(
            "example__external_id", "value", "origin", "author", "external_ref", "lead_time_seconds"
        )
    )
    events = [
        (
            event.action,
            event.actor_name,
            event.target_id,
            event.before,
            {k: v for k, v in event.after.items() if k != "label_id"},
            event.message,
        )
        for event in AuditEvent.objects.filter(project=project).order_by("id")
    ]
    return resolved, labels, events


def test_bulk_changes_match_the_one_by_one_services():
    one_project, one_examples = _project_with_history()
    _one_by_one(one_examples)
    bulk_project, bulk_examples = _project_with_history()
    _in_bulk(bulk_project, bulk_examples)

    one_resolved, one_labels, one_events = _state(one_project, one_examples)
    bulk_resolved, bulk_labels, bulk_events = _state(bulk_project, bulk_examples)

    assert bulk_resolved == one_resolved == [("ham", "annotator"), ("spam", "annotator"), ("", "")]
    assert bulk_labels == one_labels
    strip = [(a, n, b, after, m) for a, n, _, b, after, m in one_events]
    assert [(a, n, b, after, m) for a, n, _, b, after, m in bulk_events] == strip
    assert [e[0] for e in bulk_events] == [
        "label.add", "label.add", "label.update", "label.remove", "label.add", "label.remove",
    ]  # fmt: skip


def test_audit_events_name_the_labels_they_wrote():
    project, (first, _second, _third) = _project_with_history()
    label = Label(example=first, value="ham", origin="annotator", author="c@x")

    label_changes_apply(project=project, changes=[LabelChange(LabelAction.ADD, label)])

    event = AuditEvent.objects.get(project=project, action="label.add")
    assert event.after["label_id"] == Label.objects.get(author="c@x").pk
    assert event.target_id == str(first.pk)


def test_a_failing_change_writes_nothing():
    project, (first, second, _third) = _project_with_history()
    other = ExampleFactory()  # another project's example
    changes = [
        LabelChange(LabelAction.ADD, Label(example=first, value="ham", origin="annotator")),
        LabelChange(LabelAction.ADD, Label(example=other, value="ham", origin="annotator")),
    ]

    with pytest.raises(ValueError, match="not on project"):
        label_changes_apply(project=project, changes=changes)

    assert not Label.objects.filter(example=first, origin="annotator").exists()
    assert not AuditEvent.objects.filter(project=project).exists()
