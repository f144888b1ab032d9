"""Pulling Label Studio annotations into Assay as annotator labels.

Each LS annotation becomes at most one `curation.Label` (origin ``annotator``, author the
LS user's e-mail, ``external_ref`` the LS annotation id, the annotator's lead time, and in
``meta`` the LS task id and, for generation, the corrected response), so pulling again
updates labels instead of adding them. A pull applies what it reads in one transaction:
Label Studio going down midway changes nothing in Assay. Labels, resolutions, audit
events and consensus rows are written in bulk (`label_changes_apply`), page by page while
the next page is read (`read_ahead`; the last pages are short, so little is left to write
after LS's last read), so the pull costs little more than LS's own reads.

Two modes. A **full** pull reads every annotated task and mirrors everything: changed
annotations update their label; cancelled (skipped), emptied or deleted ones, and those of
deleted tasks, remove it. An **incremental** pull mirrors only the tasks LS changed since
the watermark (the newest task ``updated_at`` an earlier pull saw; LS touches a task when
one of its annotations is made, changed or deleted) the same way. It first lists the ids
and ``updated_at`` of the tasks changed since the watermark less `WATERMARK_SLACK` (a
cheap call), and reads in full only those whose ``updated_at`` differs from what the last
pull applied (``pull_window``): nothing when nothing changed, the burst after a burst.
Task deletions are only seen by a full pull (the reconcile job and TASKS_DELETED hooks).
"""

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from curation.models import Example, Label, LabelOrigin, Project
from curation.services.label_changes import LabelAction, LabelChange, label_changes_apply
from curation.services.runs import Progress, run_enqueue
from labeling.core.label_config import annotation_value
from labeling.core.read_ahead import read_ahead
from labeling.integrations.label_studio import LabelStudioClient, label_studio_client
from labeling.integrations.label_studio_records import LsAnnotation, LsTask
from labeling.models import LabelStudioLink, TaskLink
from labeling.services.consensus import consensus_refresh
from labeling.services.links import label_studio_link_get

# Re-read tasks changed shortly before the watermark: a write LS committed late (after a
# pull read past it) is still picked up. Re-applying an annotation changes nothing.
WATERMARK_SLACK = timedelta(seconds=30)
# A run that saw a webhook arrive while it was reading pulls again, at most this often.
MAX_PASSES = 3


@dataclass
class PullReport:
    mode: str = "full"
    tasks_listed: int = 0  # id and updated_at only (incremental)
    tasks_read: int = 0  # in full, with annotations
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


@dataclass(frozen=True)
class _Wanted:
    """What a label mirroring one annotation should hold."""

    value: str
    author: str
    lead_time_seconds: float | None
    meta: dict

    def fields(self) -> dict:
        """The label's fields (a shallow copy: `asdict` deep-copies, a cost per annotation
        a large pull notices)."""
        return dict(vars(self))

    def changes_from(self, label: Label) -> dict:
        return {name: v for name, v in self.fields().items() if getattr(label, name) != v}


def _example_ids_by_task(link: LabelStudioLink) -> tuple[dict[int, int], dict[str, int]]:
    by_task = dict(TaskLink.objects.filter(link=link).values_list("ls_task_id", "example_id"))
    by_external_id = dict(
        Example.objects.filter(project=link.project).values_list("external_id", "id")
    )
    return by_task, by_external_id


def _pulled_labels(link: LabelStudioLink, example_ids: set[int] | None) -> dict[str, Label]:
    """Labels earlier pulls made, by LS annotation id: all of the project's, or those of
    the given examples (an incremental pull mirrors only the tasks it read)."""
    labels = Label.objects.filter(
        example__project=link.project, origin=LabelOrigin.ANNOTATOR
    ).exclude(external_ref="")
    if example_ids is not None:
        labels = labels.filter(example_id__in=example_ids)
    return {label.external_ref: label for label in labels}


def _wanted(project: Project, annotation: LsAnnotation, report: PullReport) -> _Wanted | None:
    value = annotation_value(task_type=project.task_type, result=annotation.result)
    if value is None:
        report.empty += 1
        return None
    if project.is_classification and value.label not in project.label_set:
        report.unknown_labels[value.label] = report.unknown_labels.get(value.label, 0) + 1
        return None
    meta: dict = {"ls_task_id": annotation.task_id}
    if value.corrected_response:
        meta["corrected_response"] = value.corrected_response
    return _Wanted(value.label, annotation.user_email, annotation.lead_time, meta)


def _match_tasks(
    tasks: list[LsTask], report: PullReport, example_ids: tuple[dict[int, int], dict[str, int]]
) -> list[tuple[LsTask, int]]:
    """Pair each task with its example: by task link, else by the external id in the
    task's data (a task pushed by a push that crashed before recording its link)."""
    by_task, by_external_id = example_ids
    matched = []
    for task in tasks:
        report.annotations_seen += len(task.annotations)
        example_id = by_task.get(task.id) or by_external_id.get(task.external_id or "")
        if example_id is None:
            report.unknown_tasks += len(task.annotations)
        else:
            matched.append((task, example_id))
    return matched


def _annotation_change(
    annotation: LsAnnotation, example: Example, pulled: dict[str, Label], report: PullReport
) -> LabelChange | None:
    """The change that mirrors the annotation on its label, if any."""
    if annotation.was_cancelled:
        report.cancelled += 1
        return None  # its label, if an earlier pull made one, is removed afterwards
    wanted = _wanted(example.project, annotation, report)
    if wanted is None:
        return None
    existing = pulled.pop(str(annotation.id), None)
    if existing is None:
        report.labels_created += 1
        label = Label(
            example=example,
            origin=LabelOrigin.ANNOTATOR,
            external_ref=str(annotation.id),
            **wanted.fields(),
        )
        return LabelChange(LabelAction.ADD, label)
    changes = wanted.changes_from(existing)
    if not changes:
        return None
    report.labels_updated += 1
    return LabelChange(LabelAction.UPDATE, existing, changes)


def _apply_batch(
    link: LabelStudioLink,
    matched: list[tuple[LsTask, int]],
    pulled: dict[str, Label],
    report: PullReport,
) -> None:
    """Mirror these tasks' annotations; labels of ``pulled`` they match are taken out."""
    examples = Example.objects.only("id", "project_id", "external_id").in_bulk(
        {example_id for _, example_id in matched}
    )
    changes = []
    for task, example_id in matched:
        example = examples[example_id]
        example.project = link.project
        for annotation in task.annotations:
            change = _annotation_change(annotation, example, pulled, report)
            if change is not None:
                changes.append(change)
    _changes_apply(link, changes)


def _changes_apply(link: LabelStudioLink, changes: list[LabelChange]) -> None:
    label_changes_apply(project=link.project, changes=changes)
    consensus_refresh(example_ids={change.label.example_id for change in changes})


def _remove_unmatched(link: LabelStudioLink, pulled: dict[str, Label], report: PullReport) -> None:
    """What is left was pulled before but is now cancelled, emptied or deleted in LS."""
    _changes_apply(link, [LabelChange(LabelAction.REMOVE, label) for label in pulled.values()])
    report.labels_removed += len(pulled)


def _pull_full(
    client: LabelStudioClient, link: LabelStudioLink, report: PullReport, progress
) -> list[LsTask]:
    """Read every annotated task, applying each page while LS builds the next; returns
    the tasks read (without annotations: only their ids and times are kept)."""
    read: list[LsTask] = []
    with transaction.atomic():
        example_ids = _example_ids_by_task(link)
        pulled = _pulled_labels(link, None)
        for page in read_ahead(client.annotated_task_pages(link.ls_project_id)):
            _apply_batch(link, _match_tasks(page, report, example_ids), pulled, report)
            read += [LsTask(task.id, {}, task.updated_at) for task in page]
            _report(progress, 5, f"Read and applied {len(read):,} annotated tasks")
        _remove_unmatched(link, pulled, report)
    report.tasks_read = len(read)
    return read


def _stale_task_ids(
    client: LabelStudioClient, link: LabelStudioLink, report: PullReport
) -> tuple[list[int], list[LsTask]]:
    """The tasks changed since the last pull applied them, and every task listed."""
    since = link.pull_watermark - WATERMARK_SLACK
    listed = list(client.task_versions(link.ls_project_id, updated_after=since))
    report.tasks_listed = len(listed)
    applied = link.pull_window or {}
    stale = [task.id for task in listed if applied.get(str(task.id)) != _stamp(task.updated_at)]
    return stale, listed


def _pull_incremental(
    client: LabelStudioClient, link: LabelStudioLink, report: PullReport
) -> list[LsTask]:
    """Read in full only the tasks changed since the last pull applied them, then mirror
    them; returns every task seen, the newest ``updated_at`` of each."""
    stale, listed = _stale_task_ids(client, link, report)
    tasks = list(client.annotated_tasks(link.ls_project_id, task_ids=stale)) if stale else []
    report.tasks_read = len(tasks)
    with transaction.atomic():
        matched = _match_tasks(tasks, report, _example_ids_by_task(link))
        pulled = _pulled_labels(link, {example_id for _, example_id in matched})
        _apply_batch(link, matched, pulled, report)
        _remove_unmatched(link, pulled, report)
    seen = {task.id: task for task in listed}
    seen.update({task.id: task for task in tasks})  # read after listing: newer
    return list(seen.values())


def _window(seen: list[LsTask], watermark: datetime | None) -> dict[str, str]:
    """The ``updated_at`` applied of every task a later pull's listing will see again."""
    if watermark is None:
        return {}
    since = watermark - WATERMARK_SLACK
    return {
        str(task.id): _stamp(task.updated_at)
        for task in seen
        if task.updated_at is not None and task.updated_at > since
    }


def _stamp(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat()


def label_studio_pull(
    *,
    project: Project,
    full: bool = False,
    progress: Progress | None = None,
    client: LabelStudioClient | None = None,
) -> PullReport:
    """Mirror the linked LS project's annotations as annotator labels: everything when
    ``full`` (or on the first pull), else what changed since the watermark."""
    link = label_studio_link_get(project)
    client = client or label_studio_client()
    full = full or link.pull_watermark is None
    report = PullReport(mode="full" if full else "incremental")
    _report(progress, 0, f"Reading annotations from Label Studio ({report.mode})")
    if full:
        seen = _pull_full(client, link, report, progress)
    else:
        seen = _pull_incremental(client, link, report)
    times = [task.updated_at for task in seen if task.updated_at is not None]
    watermark = max([*times, link.pull_watermark] if link.pull_watermark else times, default=None)
    _record(link, report, watermark=watermark, window=_window(seen, watermark), full=full)
    return report


def _record(
    link: LabelStudioLink,
    report: PullReport,
    *,
    watermark: datetime | None,
    window: dict[str, str],
    full: bool,
) -> None:
    link.annotation_count = (
        Label.objects.filter(example__project=link.project, origin=LabelOrigin.ANNOTATOR)
        .exclude(external_ref="")
        .count()
    )
    link.last_pull_at = timezone.now()
    link.pull_watermark = watermark
    link.pull_window = window
    fields = ["annotation_count", "last_pull_at", "pull_watermark", "pull_window"]
    if full:
        link.cancelled_count = report.cancelled
        link.last_full_pull_at = link.last_pull_at
        fields += ["cancelled_count", "last_full_pull_at"]
    link.save(update_fields=fields)


def _report(progress: Progress | None, percent: float, message: str) -> None:
    if progress is not None:
        progress.update(percent, message)


def label_studio_pull_start(*, project: Project, full: bool = False, created_by=None):
    """Queue a pull run for the worker (one at a time per project)."""
    label_studio_link_get(project)
    return run_enqueue(
        kind="label_studio_pull",
        target=project,
        project=project,
        params={"full": full},
        created_by=created_by,
    )


def label_studio_pull_hinted(
    *, project: Project, full: bool = False, progress: Progress | None = None
) -> PullReport:
    """Pull, and pull again while webhooks arrived during the pass (a hint that came in
    after the read began may describe a change the read missed). A deletion hint makes
    the next pass a full one."""
    for _ in range(MAX_PASSES):
        link = label_studio_link_get(project)
        began = timezone.now()
        full = full or link.full_pull_requested
        if link.full_pull_requested:
            LabelStudioLink.objects.filter(pk=link.pk).update(full_pull_requested=False)
        report = label_studio_pull(project=project, full=full, progress=progress)
        link.refresh_from_db(fields=["hint_received_at", "full_pull_requested"])
        if link.hint_received_at is None or link.hint_received_at < began:
            break
        full = False
    return report


def label_studio_pull_run_handler(run, progress) -> dict:
    full = bool(run.params.get("full"))
    return label_studio_pull_hinted(project=run.target, full=full, progress=progress).as_dict()
