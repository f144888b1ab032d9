"""Pushing a project's examples to Label Studio as tasks, idempotently.

Label Studio's import is not idempotent (importing twice makes twice the tasks), so a push
first lists the tasks the LS project already has and diffs by the Assay external id each
task carries in its data. Tasks LS has are linked (adopting those a crashed push created
but never recorded); only the rest are imported, in batches, each batch's links committed
as soon as LS confirms it. A second push, or one resumed after a crash, creates nothing
twice.

A push can be limited to chosen examples (``example_ids``: "send these low-confidence
examples for review"). Weak labels and model predictions of the pushed examples go along
as LS predictions (score and ``model_version``), and the project is set to show the newest
version, so annotators see them as pre-annotations.
"""

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from django.db import transaction
from django.utils import timezone

from curation.exceptions import AssayError
from curation.models import Example, Label, LabelOrigin, Project
from curation.services.rows import RowInserter
from curation.services.runs import Progress, run_enqueue
from labeling.core.label_config import EXTERNAL_ID_KEY, prediction_result
from labeling.integrations.label_studio import LabelStudioClient, label_studio_client
from labeling.models import LabelStudioLink, TaskLink
from labeling.services.links import label_studio_link_get

PUSH_BATCH_SIZE = 1000
PRE_ANNOTATION_ORIGINS = (LabelOrigin.MODEL, LabelOrigin.LABELING_FUNCTION)


@dataclass
class PushReport:
    tasks_created: int = 0
    tasks_adopted: int = 0
    tasks_total: int = 0
    duplicate_tasks_in_label_studio: int = 0
    tasks_unknown_to_assay: int = 0
    predictions_pushed: int = 0
    model_version: str = ""

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


def _task_data(values: dict, external_id: str, fields: list[str]) -> dict:
    data = {name: values.get(name, "") for name in fields}
    data[EXTERNAL_ID_KEY] = external_id
    return data


def _pre_annotations(project: Project, example_ids: list[int]) -> dict[int, list[dict]]:
    """Example id -> LS predictions: the newest weak or model label per model version
    (the label's author, else its origin), oldest version first."""
    labels = Label.objects.filter(
        example_id__in=example_ids, origin__in=PRE_ANNOTATION_ORIGINS
    ).order_by("created_at", "id")
    newest: dict[int, dict[str, Label]] = {}
    for label in labels:
        newest.setdefault(label.example_id, {})[label.author or label.origin] = label
    fields = project.content_fields
    predictions: dict[int, list[dict]] = {}
    for example_id, by_version in newest.items():
        for version, label in by_version.items():
            result = prediction_result(
                task_type=project.task_type, fields=fields, value=label.value
            )
            if result is not None:
                predictions.setdefault(example_id, []).append(
                    {"result": result, "score": label.confidence, "model_version": version}
                )
    return predictions


@dataclass
class _Batch:
    """One batch of tasks to import, and the examples (primary keys) they are for."""

    example_ids: list[int]
    tasks: list[dict]


def _batch_prepare(link: LabelStudioLink, example_ids: list[int]) -> _Batch:
    rows = (
        Example.objects.filter(pk__in=example_ids)
        .order_by("pk")
        .values_list("pk", "external_id", "fields")
    )
    fields = link.project.content_fields
    predictions = _pre_annotations(link.project, example_ids)
    pks, tasks = [], []
    for pk, external_id, values in rows:
        pks.append(pk)
        tasks.append(
            {
                "data": _task_data(values, external_id, fields),
                "predictions": predictions.get(pk, []),
            }
        )
    return _Batch(pks, tasks)


def _batch_link(
    link: LabelStudioLink, batch: _Batch, task_ids: list[int], report: PushReport
) -> int:
    """Record the links of a batch LS has imported; plain rows (`RowInserter`), as it runs
    while LS imports the next batch and competes with it for the CPU."""
    now = timezone.now()
    rows = [
        {
            "link": link.pk,
            "example": example_id,
            "ls_task_id": task_id,
            "prediction_versions": [p["model_version"] for p in task["predictions"]],
            "created_at": now,
        }
        for example_id, task, task_id in zip(batch.example_ids, batch.tasks, task_ids, strict=True)
    ]
    with transaction.atomic():  # the batch's links all or none
        RowInserter(TaskLink).insert(rows)
    _note_versions(report, [p for task in batch.tasks for p in task["predictions"]])
    return len(task_ids)


def _push_batches(
    *,
    client: LabelStudioClient,
    link: LabelStudioLink,
    to_push: list[int],
    report: PushReport,
    progress: Progress | None,
) -> None:
    """Import the examples in batches; LS imports one batch while Assay prepares the next
    and records the links of the last. At most one import is in flight, and a batch's
    links are written once LS has confirmed it (a crash in between leaves tasks the next
    push adopts)."""
    chunks = [to_push[i : i + PUSH_BATCH_SIZE] for i in range(0, len(to_push), PUSH_BATCH_SIZE)]
    if not chunks:
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ls-import") as importer:
        batch = _batch_prepare(link, chunks[0])
        pending = importer.submit(client.tasks_import, link.ls_project_id, batch.tasks)
        for index in range(len(chunks)):
            following = _batch_prepare(link, chunks[index + 1]) if index + 1 < len(chunks) else None
            task_ids = pending.result()
            if following is not None:
                pending = importer.submit(client.tasks_import, link.ls_project_id, following.tasks)
            report.tasks_created += _batch_link(link, batch, task_ids, report)
            _report(
                progress,
                5 + 95 * report.tasks_created / len(to_push),
                f"Pushed {report.tasks_created:,} of {len(to_push):,} tasks",
            )
            batch = following


def _note_versions(report: PushReport, predictions: list[dict]) -> None:
    report.predictions_pushed += len(predictions)
    if predictions:
        report.model_version = predictions[-1]["model_version"]


def _top_up_predictions(
    *, client: LabelStudioClient, link: LabelStudioLink, example_ids: list[int], report: PushReport
) -> None:
    """Add pre-annotations that appeared since the chosen examples' tasks were pushed."""
    predictions = _pre_annotations(link.project, example_ids)
    for task_link in TaskLink.objects.filter(link=link, example_id__in=list(predictions)):
        missing = [
            p
            for p in predictions[task_link.example_id]
            if p["model_version"] not in task_link.prediction_versions
        ]
        for prediction in missing:
            client.prediction_create(task_link.ls_task_id, **prediction)
            task_link.prediction_versions = [
                *task_link.prediction_versions,
                prediction["model_version"],
            ]
            task_link.save(update_fields=["prediction_versions"])
        _note_versions(report, missing)


def _chosen(project: Project, example_ids: Iterable[int] | None) -> set[int] | None:
    if example_ids is None:
        return None
    chosen = {int(i) for i in example_ids}
    found = set(Example.objects.filter(project=project, pk__in=chosen).values_list("pk", flat=True))
    if chosen - found:
        missing = ", ".join(str(i) for i in sorted(chosen - found)[:10])
        raise AssayError(f"Project '{project.name}' has no examples with ids {missing}.")
    return chosen


def label_studio_push(
    *,
    project: Project,
    example_ids: Iterable[int] | None = None,
    progress: Progress | None = None,
    client: LabelStudioClient | None = None,
) -> PushReport:
    """Push every example (or the chosen ones) that has no task in the linked LS project
    yet, with their pre-annotations; chosen examples that have a task get the
    pre-annotations it lacks."""
    link = label_studio_link_get(project)
    chosen = _chosen(project, example_ids)
    client = client or label_studio_client()
    report = PushReport()
    _report(progress, 0, "Listing the tasks Label Studio already has")
    in_label_studio = _ls_tasks_by_external_id(client, link, report)
    to_push = _links_reconcile(link=link, in_label_studio=in_label_studio, report=report)
    if chosen is not None:
        to_push = [example_id for example_id in to_push if example_id in chosen]
        _top_up_predictions(
            client=client, link=link, example_ids=sorted(chosen - set(to_push)), report=report
        )
    _push_batches(client=client, link=link, to_push=to_push, report=report, progress=progress)
    report.tasks_total = (
        len(in_label_studio)
        + report.duplicate_tasks_in_label_studio
        + report.tasks_unknown_to_assay
        + report.tasks_created
    )
    link.task_count = report.tasks_total
    link.last_push_at = timezone.now()
    if report.model_version and report.model_version != link.model_version:
        client.project_show_model_version(link.ls_project_id, report.model_version)
        link.model_version = report.model_version
    link.save(update_fields=["task_count", "last_push_at", "model_version"])
    _report(progress, 100, f"{report.tasks_created:,} tasks created, {report.tasks_total:,} in all")
    return report


def _report(progress: Progress | None, percent: float, message: str) -> None:
    if progress is not None:
        progress.update(percent, message)


def label_studio_push_start(
    *, project: Project, example_ids: Iterable[int] | None = None, created_by=None
):
    """Queue a push run for the worker (one at a time per project); other apps call this
    with ``example_ids`` to send chosen examples for review."""
    label_studio_link_get(project)
    chosen = _chosen(project, example_ids)
    params = {} if chosen is None else {"example_ids": sorted(chosen)}
    return run_enqueue(
        kind="label_studio_push",
        target=project,
        project=project,
        params=params,
        created_by=created_by,
    )


def label_studio_push_run_handler(run, progress) -> dict:
    example_ids = run.params.get("example_ids")
    return label_studio_push(
        project=run.target, example_ids=example_ids, progress=progress
    ).as_dict()
