"""Human review of synthetic examples: accept, reject, edit. Each decision is appended
to the example's ``review_history`` and to the audit log.

Accepting records the reviewer's own annotator label (the example's current label, or
the one the reviewer gives), so an accepted example counts as human-verified.
"""

from django.db import transaction
from django.utils import timezone

from curation.core.hashing import content_hash
from curation.exceptions import AssayError
from curation.models import Example, ExampleSource, LabelOrigin, ReviewStatus
from curation.permissions import Action, user_can
from curation.services.audit import audit_record
from curation.services.labels import label_add


def _locked(example: Example, user) -> Example:
    example = Example.objects.select_for_update().select_related("project").get(pk=example.pk)
    if example.source != ExampleSource.SYNTHETIC:
        raise AssayError(f"Example {example.external_id} is not synthetic; it needs no review.")
    if not user_can(user, example.project, Action.ANNOTATE):
        raise AssayError(f"{user} may not review examples of {example.project.name}.")
    return example


def _decide(example: Example, user, status: str, note: str, **extra) -> Example:
    before = example.review_status
    example.review_status = status
    example.reviewed_by = user
    example.reviewed_at = timezone.now()
    entry = {
        "at": example.reviewed_at.isoformat(),
        "by": user.get_username(),
        "decision": status,
        "note": note,
        **extra,
    }
    example.review_history = [*example.review_history, entry]
    example.save(update_fields=["review_status", "reviewed_by", "reviewed_at", "review_history"])
    audit_record(
        project=example.project,
        actor=user,
        action=f"synthetic.{'accept' if status == ReviewStatus.ACCEPTED else 'reject'}",
        target=example,
        before={"review_status": before},
        after={"review_status": status, **extra},
        message=note or f"{status} {example.external_id}",
    )
    return example


def _check_label(example: Example, label: str) -> str:
    label = (label or example.resolved_label).strip()
    project = example.project
    if project.is_classification:
        if not label:
            raise AssayError(f"Give {example.external_id} a label before accepting it.")
        if label not in project.label_set:
            raise AssayError(f"'{label}' is not in the label set ({', '.join(project.label_set)}).")
    return label


@transaction.atomic
def synthetic_example_accept(*, example: Example, user, label: str = "", note: str = "") -> Example:
    """Accept a synthetic example (with ``label`` or its current one): from now on a new
    version may take it."""
    example = _locked(example, user)
    label = _check_label(example, label)
    if label:
        label_add(example=example, value=label, origin=LabelOrigin.ANNOTATOR,
                  annotator=user, author=user.get_username(), audit=False)  # fmt: skip
        example.refresh_from_db()
    return _decide(example, user, ReviewStatus.ACCEPTED, note, label=label)


@transaction.atomic
def synthetic_example_reject(*, example: Example, user, note: str = "") -> Example:
    """Reject a synthetic example: no version will ever take it."""
    example = _locked(example, user)
    return _decide(example, user, ReviewStatus.REJECTED, note)


@transaction.atomic
def synthetic_example_edit(
    *, example: Example, user, fields: dict[str, str], label: str = "", note: str = ""
) -> Example:
    """Correct a synthetic example's content (and label), then accept it. The earlier
    content stays in the review history."""
    example = _locked(example, user)
    unknown = sorted(set(fields) - set(example.project.content_fields))
    if unknown:
        raise AssayError(f"Unknown fields {', '.join(unknown)} for {example.project.name}.")
    new_fields = {**example.fields, **{k: v.strip() for k, v in fields.items()}}
    empty = [name for name, value in new_fields.items() if not value]
    if empty:
        raise AssayError(f"The edited example has empty {', '.join(empty)}.")
    before = example.fields
    example.fields, example.content_hash = new_fields, content_hash(new_fields)
    example.save(update_fields=["fields", "content_hash"])
    label = _check_label(example, label)
    if label:
        label_add(example=example, value=label, origin=LabelOrigin.ANNOTATOR,
                  annotator=user, author=user.get_username(), audit=False)  # fmt: skip
        example.refresh_from_db()
    return _decide(example, user, ReviewStatus.ACCEPTED, note, label=label, edited_from=before)
