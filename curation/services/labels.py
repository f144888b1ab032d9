"""Label services: adding labels and resolving each example's label from them.

Resolution rule (one place, so every caller agrees): annotators outrank imported labels,
which outrank model predictions, which outrank labeling-function (weak) labels. Among
annotators the majority wins, ties going to the most recent label; among the others the
most confident, then the most recent.
"""

from collections import Counter
from collections.abc import Iterable

from django.db import transaction

from curation.models import Example, Label, LabelOrigin

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
) -> Label:
    """Record a label and re-resolve the example's label."""
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
    return label


@transaction.atomic
def label_update(*, label: Label, **changes) -> Label:
    """Change a label's value or details (only the fields given) and re-resolve."""
    allowed = {"value", "author", "annotator", "confidence", "lead_time_seconds", "meta"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"label_update cannot change {', '.join(sorted(unknown))}")
    for name, value in changes.items():
        setattr(label, name, value)
    label.save(update_fields=[*changes, "updated_at"])
    example_label_resolve(example=label.example)
    return label


@transaction.atomic
def label_remove(*, label: Label) -> None:
    """Delete a label (e.g. its annotation was deleted upstream) and re-resolve."""
    example = label.example
    label.delete()
    example_label_resolve(example=example)
