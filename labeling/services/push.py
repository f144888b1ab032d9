"""Pushing a project's examples to Label Studio as tasks, idempotently.

Label Studio's import is not idempotent (importing twice makes twice the tasks), so a push
first lists the tasks the LS project already has and diffs by the Assay external id each
task carries in its data. Tasks LS has are linked (adopting those a crashed push created
but never recorded); only the rest are imported, in batches, each batch's links committed
as soon as LS confirms it. A second push, or one resumed after a crash, creates nothing
twice.
"""

from dataclasses import asdict, dataclass

from django.db import transaction
from django.utils import timezone

from curation.models import Example, Project
from curation.services.runs import Progress, run_enqueue
from labeling.core.label_config import EXTERNAL_ID_KEY
from labeling.integrations.label_studio import LabelStudioClient, label_studio_client
from labeling.models import LabelStudioLink, TaskLink
from labeling.services.links import label_studio_link_get

PUSH_BATCH_SIZE = 1000


@dataclass
class PushReport:
    tasks_created: int = 0
    tasks_adopted: int = 0
    tasks_total: int = 0
    duplicate_tasks_in_label_studio: int = 0
    tasks_unknown_to_assay: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def _ls_tasks_by_external_id(
    client: LabelStudioClient, link: LabelStudioLink, report: PushReport
) -> dict[str, int]:
    """External id → task id of what LS has; the oldest task wins when LS holds duplicates
    (made outside Assay), and those are counted, not deleted."""
    by_external_id: dict[str, int] = {}
    for task in client.tasks_iter(link.ls_project_id):
        external_id = task.external_id
        if external_id is None:
            report.tasks_unknown_to_assay += 1
        elif external_id in by_external_id:
            report.duplicate_tasks_in_label_studio += 1
            by_external_id[external_id] = min(by_external_id[external_id], task.id)
        else:
            by_external_id[external_id] = task.id
    return by_external_id


@transaction.atomic
def _links_reconcile(
    *, link: LabelStudioLink, in_label_studio: dict[str, int], report: PushReport
) -> list[int]:
    """Make the TaskLinks agree with what LS has; returns the ids of examples to push."""
    linked = dict(TaskLink.objects.filter(link=link).values_list("example_id", "ls_task_id"))
    to_push, to_create, stale = [], [], []
    examples = Example.objects.filter(project=link.project).values_list("id", "external_id")
    for example_id, external_id in examples.iterator(chunk_size=5000):
        task_id = in_label_studio.get(external_id)
        if task_id is None:
            to_push.append(example_id)
            if example_id in linked:
                stale.append(example_id)  # deleted in LS: push it again
        elif linked.get(example_id) != task_id:
            stale.append(example_id)
            to_create.append(TaskLink(link=link, example_id=example_id, ls_task_id=task_id))
    TaskLink.objects.filter(link=link, example_id__in=stale).delete()
    TaskLink.objects.bulk_create(to_create, batch_size=1000)
    report.tasks_adopted = len(to_create)
    return to_push


def _task_data(example: Example, fields: list[str]) -> dict:
    data = {name: example.fields.get(name, "") for name in fields}
    data[EXTERNAL_ID_KEY] = example.external_id
    return data


def _push_batch(*, client: LabelStudioClient, link: LabelStudioLink, example_ids: list[int]) -> int:
    examples = list(Example.objects.filter(pk__in=example_ids).order_by("pk"))
    fields = link.project.content_fields
    task_ids = client.tasks_import(
        link.ls_project_id, [_task_data(example, fields) for example in examples]
    )
    with transaction.atomic():
        TaskLink.objects.bulk_create(
            [
                TaskLink(link=link, example=example, ls_task_id=task_id)
                for example, task_id in zip(examples, task_ids, strict=True)
            ]
        )
    return len(task_ids)


def label_studio_push(
    *,
    project: Project,
    progress: Progress | None = None,
    client: LabelStudioClient | None = None,
) -> PushReport:
    """Push every example that has no task in the linked LS project yet."""
    link = label_studio_link_get(project)
    client = client or label_studio_client()
    report = PushReport()
    _report(progress, 0, "Listing the tasks Label Studio already has")
    in_label_studio = _ls_tasks_by_external_id(client, link, report)
    to_push = _links_reconcile(link=link, in_label_studio=in_label_studio, report=report)
    for start in range(0, len(to_push), PUSH_BATCH_SIZE):
        report.tasks_created += _push_batch(
            client=client, link=link, example_ids=to_push[start : start + PUSH_BATCH_SIZE]
        )
        _report(
            progress,
            5 + 95 * report.tasks_created / len(to_push),
            f"Pushed {report.tasks_created:,} of {len(to_push):,} tasks",
        )
    report.tasks_total = (
        len(in_label_studio)
        + report.duplicate_tasks_in_label_studio
        + report.tasks_unknown_to_assay
        + report.tasks_created
    )
    link.task_count = report.tasks_total
    link.last_push_at = timezone.now()
    link.save(update_fields=["task_count", "last_push_at"])
    _report(progress, 100, f"{report.tasks_created:,} tasks created, {report.tasks_total:,} in all")
    return report


def _report(progress: Progress | None, percent: float, message: str) -> None:
    if progress is not None:
        progress.update(percent, message)


def label_studio_push_start(*, project: Project, created_by=None):
    """Queue a push run for the worker (one at a time per project)."""
    label_studio_link_get(project)
    return run_enqueue(
        kind="label_studio_push", target=project, project=project, created_by=created_by
    )


def label_studio_push_run_handler(run, progress) -> dict:
    return label_studio_push(project=run.target, progress=progress).as_dict()
