"""Pulling Label Studio annotations into Assay as annotator labels.

Each LS annotation becomes at most one `curation.Label` (origin ``annotator``, author the
LS user's e-mail, ``external_ref`` the LS annotation id), so pulling again updates labels
instead of adding them. A pull reads everything first and then applies it in one
transaction: Label Studio going down midway changes nothing in Assay. Because it sees all
annotations, it also mirrors what happened in LS since the last pull: a changed choice
updates the label; an annotation cancelled (skipped), emptied or deleted removes it.
"""

from dataclasses import asdict, dataclass, field

from django.db import transaction
from django.utils import timezone

from curation.models import Example, Label, LabelOrigin, Project
from curation.services.labels import example_label_resolve, label_add
from curation.services.runs import Progress, run_enqueue
from labeling.core.label_config import annotation_value
from labeling.integrations.label_studio import (
    LabelStudioClient,
    LsAnnotation,
    label_studio_client,
)
from labeling.models import LabelStudioLink, TaskLink
from labeling.services.links import label_studio_link_get


@dataclass
class PullReport:
    annotations_seen: int = 0
    labels_created: int = 0
    labels_updated: int = 0
    labels_removed: int = 0
    cancelled: int = 0
    empty: int = 0
    unknown_tasks: int = 0
    unknown_labels: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def _example_ids_by_task(link: LabelStudioLink) -> tuple[dict[int, int], dict[str, int]]:
    by_task = dict(TaskLink.objects.filter(link=link).values_list("ls_task_id", "example_id"))
    by_external_id = dict(
        Example.objects.filter(project=link.project).values_list("external_id", "id")
    )
    return by_task, by_external_id


def _pulled_labels(link: LabelStudioLink) -> dict[str, Label]:
    """The labels earlier pulls made for this project, by LS annotation id."""
    labels = Label.objects.filter(
        example__project=link.project, origin=LabelOrigin.ANNOTATOR
    ).exclude(external_ref="")
    return {label.external_ref: label for label in labels}


def _label_value(project: Project, annotation: LsAnnotation, report: PullReport) -> str | None:
    value = annotation_value(task_type=project.task_type, result=annotation.result)
    if value is None:
        report.empty += 1
        return None
    if project.is_classification and value.label not in project.label_set:
        report.unknown_labels[value.label] = report.unknown_labels.get(value.label, 0) + 1
        return None
    return value.label


def _match_examples(
    link: LabelStudioLink, annotations: list[LsAnnotation], report: PullReport
) -> list[tuple[LsAnnotation, int]]:
    """Pair each annotation with its example: by task link, else by the external id in the
    task's data (a task pushed by a push that crashed before recording its link)."""
    by_task, by_external_id = _example_ids_by_task(link)
    matched = []
    for annotation in annotations:
        report.annotations_seen += 1
        example_id = by_task.get(annotation.task_id) or by_external_id.get(
            annotation.task_external_id or ""
        )
        if example_id is None:
            report.unknown_tasks += 1
        else:
            matched.append((annotation, example_id))
    return matched


@transaction.atomic
def _apply(link: LabelStudioLink, annotations: list[LsAnnotation], report: PullReport) -> None:
    matched = _match_examples(link, annotations, report)
    examples = Example.objects.in_bulk({example_id for _, example_id in matched})
    pulled = _pulled_labels(link)
    touched: set[int] = set()
    for annotation, example_id in matched:
        if annotation.was_cancelled:
            report.cancelled += 1
            continue  # its label, if an earlier pull made one, is removed below
        value = _label_value(link.project, annotation, report)
        if value is None:
            continue
        existing = pulled.pop(str(annotation.id), None)
        if existing is None:
            label_add(
                example=examples[example_id],
                value=value,
                origin=LabelOrigin.ANNOTATOR,
                author=annotation.user_email,
                external_ref=str(annotation.id),
            )
            report.labels_created += 1
        elif (existing.value, existing.author) != (value, annotation.user_email):
            existing.value, existing.author = value, annotation.user_email
            existing.save(update_fields=["value", "author", "updated_at"])
            touched.add(existing.example_id)
            report.labels_updated += 1
    # What is left was pulled before but is now cancelled, emptied or deleted in LS.
    for label in pulled.values():
        touched.add(label.example_id)
        label.delete()
        report.labels_removed += 1
    for example in Example.objects.filter(pk__in=touched):
        example_label_resolve(example=example)


def label_studio_pull(
    *,
    project: Project,
    progress: Progress | None = None,
    client: LabelStudioClient | None = None,
) -> PullReport:
    """Mirror the linked LS project's annotations as annotator labels."""
    link = label_studio_link_get(project)
    client = client or label_studio_client()
    if progress is not None:
        progress.update(0, "Reading annotations from Label Studio")
    annotations = list(client.annotations_iter(link.ls_project_id))
    if progress is not None:
        progress.update(50, f"Applying {len(annotations):,} annotations")
    report = PullReport()
    _apply(link, annotations, report)
    link.annotation_count = report.annotations_seen - report.cancelled - report.unknown_tasks
    link.cancelled_count = report.cancelled
    link.last_pull_at = timezone.now()
    link.save(update_fields=["annotation_count", "cancelled_count", "last_pull_at"])
    return report


def label_studio_pull_start(*, project: Project, created_by=None):
    """Queue a pull run for the worker (one at a time per project)."""
    label_studio_link_get(project)
    return run_enqueue(
        kind="label_studio_pull", target=project, project=project, created_by=created_by
    )


def label_studio_pull_run_handler(run, progress) -> dict:
    return label_studio_pull(project=run.target, progress=progress).as_dict()
