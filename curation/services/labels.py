"""Label services: adding labels and resolving each example's label from them.

Resolution rule (one place, so every caller agrees): annotators outrank imported labels,
which outrank model predictions, which outrank labeling-function (weak) labels. Among
annotators the majority wins, ties going to the most recent label; among the others the
most confident, then the most recent.

Every change is recorded in the audit log (`curation.services.audit`) with the example's
resolved label before and after. Bulk callers that record one summarising event of their
own (a labeling-function run writing thousands of labels) pass ``audit=False``.
"""

from collections import Counter
from collections.abc import Iterable

from django.db import transaction

from curation.models import Example, Label, LabelOrigin
from curation.services.audit import audit_record

ORIGIN_PRECEDENCE = (
    LabelOrigin.ANNOTATOR,
    LabelOrigin.IMPORT,
    LabelOrigin.MODEL,
    LabelOrigin.LABELING_FUNCTION,
)


def resolve_label(labels: Iterable[Label]) -> tuple[str, str]:
    """The resolved (value, origin) for a set of labels; ("", "") when there are none."""
    by_origin: dict[str, list[Label]] = {}
    for label in labels:
        by_origin.setdefault(label.origin, []).append(label)
    for origin in ORIGIN_PRECEDENCE:
        candidates = by_origin.get(origin)
        if not candidates:
            continue
        if origin == LabelOrigin.ANNOTATOR:
            votes = Counter(label.value for label in candidates)
            latest = {label.value: (label.created_at, label.pk or 0) for label in candidates}
            value = max(votes, key=lambda v: (votes[v], latest[v]))
        else:
            best = max(
                candidates,
                key=lambda lb: (
                    lb.confidence if lb.confidence is not None else 1.0,
                    lb.created_at,
                    lb.pk or 0,
                ),
            )
            value = best.value
        return value, origin
    return "", ""


@transaction.atomic
def example_label_resolve(*, example: Example) -> Example:
    value, origin = resolve_label(example.labels.all())
    if (value, origin) != (example.resolved_label, example.resolved_label_origin):
        example.resolved_label, example.resolved_label_origin = value, origin
        example.save(update_fields=["resolved_label", "resolved_label_origin"])
    return example


@transaction.atomic
def label_add(
    *,
    example: Example,
    value: str,
    origin: str,
    author: str = "",
    annotator=None,
    confidence: float | None = None,
    external_ref: str = "",
    lead_time_seconds: float | None = None,
    meta: dict | None = None,
    actor=None,
    audit: bool = True,
) -> Label:
    """Record a label and re-resolve the example's label. ``actor`` (default: the
    annotator) is who the audit log names."""
    before = _resolved(example)
    label = Label.objects.create(
        example=example,
        value=value,
        origin=origin,
        author=author,
        annotator=annotator,
        confidence=confidence,
        external_ref=external_ref,
        lead_time_seconds=lead_time_seconds,
        meta=meta or {},
    )
    example_label_resolve(example=example)
    if audit:
        _audit(label, "label.add", actor or annotator or author, before, {"value": value})
    return label


def _resolved(example: Example) -> dict:
    return {"resolved": example.resolved_label, "origin": example.resolved_label_origin}


def _audit(label: Label, action: str, actor, before: dict, change: dict) -> None:
    example = label.example
    audit_record(
        project=example.project,
        actor=actor,
        action=action,
        target=example,
        before=before,
        after={
            **_resolved(example),
            **change,
            "label_id": label.pk,
            "origin_of_label": label.origin,
        },
        message=f"{action.split('.')[1]} {label.origin} label on {example.external_id}",
    )


@transaction.atomic
def label_update(*, label: Label, actor=None, audit: bool = True, **changes) -> Label:
    """Change a label's value or details (only the fields given) and re-resolve."""
    before = {**_resolved(label.example), "value": label.value}
    allowed = {"value", "author", "annotator", "confidence", "lead_time_seconds", "meta"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"label_update cannot change {', '.join(sorted(unknown))}")
    for name, value in changes.items():
        setattr(label, name, value)
    label.save(update_fields=[*changes, "updated_at"])
    example_label_resolve(example=label.example)
    if audit:
        actor = actor or label.annotator or label.author
        _audit(label, "label.update", actor, before, {"value": label.value})
    return label


@transaction.atomic
def label_remove(*, label: Label, actor=None, audit: bool = True) -> None:
    """Delete a label (e.g. its annotation was deleted upstream) and re-resolve."""
    example = label.example
    before = {**_resolved(example), "value": label.value}
    pk, origin = label.pk, label.origin
    label.delete()
    example_label_resolve(example=example)
    if audit:
        audit_record(
            project=example.project,
            actor=actor or label.annotator or label.author,
            action="label.remove",
            target=example,
            before=before,
            after={**_resolved(example), "label_id": pk, "origin_of_label": origin},
            message=f"removed {origin} label on {example.external_id}",
        )


REPLACE_BATCH = 2000


@transaction.atomic
def labels_replace_for_origin(
    *,
    project,
    origin: str,
    labels: dict[int, tuple[str, float]],
    author: str,
    meta: dict | None = None,
) -> int:
    """Replace every label of ``origin`` in ``project`` by ``labels`` (example id → (value,
    confidence)) in bulk — a label model's output, say — and re-resolve the examples whose
    resolved label can change. Not audited per label: the caller records one event."""
    Label.objects.filter(example__project=project, origin=origin).delete()
    Label.objects.bulk_create(
        (
            Label(
                example_id=pk,
                value=value,
                origin=origin,
                author=author,
                confidence=round(confidence, 6),
                meta=meta or {},
            )
            for pk, (value, confidence) in labels.items()
        ),
        batch_size=REPLACE_BATCH,
    )
    _resolve_examples_at_or_below(project, origin)
    return len(labels)


def _resolve_examples_at_or_below(project, origin: str) -> None:
    """Re-resolve the examples resolved from ``origin`` or a lower origin, or from nothing:
    only their resolved label can change when labels of ``origin`` are replaced."""
    rank = ORIGIN_PRECEDENCE.index(origin)
    origins = ["", *ORIGIN_PRECEDENCE[rank:]]
    examples = Example.objects.filter(project=project, resolved_label_origin__in=origins)
    by_example: dict[int, list[Label]] = {}
    for label in Label.objects.filter(
        example__project=project, example__resolved_label_origin__in=origins
    ):
        by_example.setdefault(label.example_id, []).append(label)
    changed = []
    for example in examples.only("id", "resolved_label", "resolved_label_origin").iterator(
        chunk_size=REPLACE_BATCH
    ):
        value, resolved_origin = resolve_label(by_example.get(example.pk, []))
        if (value, resolved_origin) != (example.resolved_label, example.resolved_label_origin):
            example.resolved_label, example.resolved_label_origin = value, resolved_origin
            changed.append(example)
    Example.objects.bulk_update(
        changed, ["resolved_label", "resolved_label_origin"], batch_size=REPLACE_BATCH
    )
