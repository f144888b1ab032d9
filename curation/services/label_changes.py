"""Many label changes at once: the result and the audit trail of calling `label_add`,
`label_update` and `label_remove` one by one, in a handful of queries.

A sync that mirrors thousands of annotations cannot afford four queries per label (the
insert, the example's re-resolution and its save, the audit event). `label_changes_apply`
replays the changes in memory, in the order given, resolving each example after each
change exactly as the one-by-one services would (so every audit event carries the same
before and after), then writes the labels, the examples' resolved labels and the audit
events in bulk, all in one transaction.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from django.db import transaction
from django.utils import timezone

from curation.models import AuditEvent, Example, Label, Project
from curation.services.audit import audit_event_build
from curation.services.labels import resolve_label

BATCH = 900  # rows per statement; also under SQLite's bound-parameter limit
# What `resolve_label` reads of a label.
RESOLVED_FROM = ("id", "example_id", "origin", "value", "confidence", "created_at")
UPDATABLE = {"value", "author", "annotator", "confidence", "lead_time_seconds", "meta"}


class LabelAction(StrEnum):
    ADD = "add"
    UPDATE = "update"
    REMOVE = "remove"


@dataclass
class LabelChange:
    """One change: ``ADD`` an unsaved label, ``UPDATE`` a saved one with ``changes``
    (field → new value), or ``REMOVE`` a saved one."""

    action: LabelAction
    label: Label
    changes: dict = field(default_factory=dict)


@dataclass
class _Replayed:
    change: LabelChange
    before: dict
    after: dict


def _resolved(example: Example) -> dict:
    return {"resolved": example.resolved_label, "origin": example.resolved_label_origin}


def _labels_by_example(example_ids: list[int]) -> dict[int, dict]:
    """Each example's labels in resolution order, keyed by primary key."""
    by_example: dict[int, dict] = {example_id: {} for example_id in example_ids}
    for start in range(0, len(example_ids), BATCH):
        chunk = example_ids[start : start + BATCH]
        for label in (
            Label.objects.filter(example_id__in=chunk)
            .only(*RESOLVED_FROM)
            .order_by("created_at", "id")
        ):
            by_example[label.example_id][label.pk] = label
    return by_example


def _replay(changes: Sequence[LabelChange], examples: dict[int, Example]) -> list[_Replayed]:
    """Apply the changes to the in-memory labels and examples, one by one."""
    labels = _labels_by_example(sorted(examples))
    replayed = []
    for change in changes:
        label = change.label
        example = examples[label.example_id]
        before = _resolved(example)
        current = labels[label.example_id]
        if change.action == LabelAction.ADD:
            current[("new", id(label))] = label
        elif change.action == LabelAction.UPDATE:
            before["value"] = label.value
            for name, value in change.changes.items():
                setattr(label, name, value)
            current[label.pk] = label
        else:
            before["value"] = label.value
            current.pop(label.pk, None)
        example.resolved_label, example.resolved_label_origin = resolve_label(current.values())
        replayed.append(_Replayed(change, before, _resolved(example)))
    return replayed


def _write_labels(changes: Sequence[LabelChange]) -> None:
    added = [c.label for c in changes if c.action == LabelAction.ADD]
    Label.objects.bulk_create(added, batch_size=BATCH)
    updated = {id(c.label): c for c in changes if c.action == LabelAction.UPDATE}
    if updated:
        now = timezone.now()
        names = sorted({name for c in updated.values() for name in c.changes})
        for change in updated.values():
            change.label.updated_at = now  # auto_now does not run in bulk_update
        Label.objects.bulk_update(
            [c.label for c in updated.values()], [*names, "updated_at"], batch_size=BATCH
        )
    removed = [c.label.pk for c in changes if c.action == LabelAction.REMOVE]
    for start in range(0, len(removed), BATCH):
        Label.objects.filter(pk__in=removed[start : start + BATCH]).delete()


def _audit_event(project: Project, example: Example, step: _Replayed) -> AuditEvent:
    label, action = step.change.label, step.change.action
    ids = {"label_id": label.pk, "origin_of_label": label.origin}
    if action == LabelAction.REMOVE:
        after, message = {**step.after, **ids}, f"removed {label.origin} label on "
    else:
        after, message = (
            {**step.after, "value": label.value, **ids},
            f"{action} {label.origin} label on ",
        )
    return audit_event_build(
        project=project,
        actor=label.annotator if label.annotator_id else label.author,
        action=f"label.{action}",
        target=example,
        before=step.before,
        after=after,
        message=message + example.external_id,
    )


def _write_resolved(examples: dict[int, Example], initial: dict[int, tuple[str, str]]) -> None:
    """Save the resolved labels that moved: one UPDATE per distinct (label, origin) and
    batch, where ``bulk_update``'s per-row CASE takes seconds for thousands of rows."""
    moved: dict[tuple[str, str], list[int]] = defaultdict(list)
    for pk, example in examples.items():
        resolved = (example.resolved_label, example.resolved_label_origin)
        if resolved != initial[pk]:
            moved[resolved].append(pk)
    for (value, origin), pks in moved.items():
        for start in range(0, len(pks), BATCH):
            Example.objects.filter(pk__in=pks[start : start + BATCH]).update(
                resolved_label=value, resolved_label_origin=origin
            )


@transaction.atomic
def label_changes_apply(*, project: Project, changes: Sequence[LabelChange]) -> None:
    """Apply label changes of ``project``'s examples as `label_add` / `label_update` /
    `label_remove` would one after another (the actor of each audit event is the label's
    annotator, else its author), in bulk and all or nothing."""
    for change in changes:
        unknown = set(change.changes) - UPDATABLE
        if unknown:
            raise ValueError(f"a label change cannot set {', '.join(sorted(unknown))}")
    if not changes:
        return
    example_ids = {change.label.example_id for change in changes}
    examples = (
        Example.objects.filter(project=project)
        .only("id", "external_id", "resolved_label", "resolved_label_origin")
        .in_bulk(example_ids)
    )
    if len(examples) != len(example_ids):
        raise ValueError(f"some labels to change are not on project '{project.name}' examples")
    initial = {pk: (e.resolved_label, e.resolved_label_origin) for pk, e in examples.items()}
    replayed = _replay(changes, examples)
    _write_labels(changes)
    _write_resolved(examples, initial)
    AuditEvent.objects.bulk_create(
        [_audit_event(project, examples[s.change.label.example_id], s) for s in replayed],
        batch_size=BATCH,
    )
