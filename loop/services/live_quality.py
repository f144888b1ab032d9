"""Live quality measured, not guessed: a stratified sample of a deployment's logged
requests goes to people, and their labels score the answers the model gave.

1. `live_quality_sample_draw` takes up to the policy's ``live_quality_sample_size``
   requests per variant (experiment arm, or ``direct``) and ISO week that no earlier draw
   took, at random (seeded), and copies each input with the model's answer.
2. `live_quality_push` sends the new items to the project's live-quality review project in
   Label Studio (made on first use, through the adapter): classification shows the text
   with the model's label pre-selected, generation the prompt and answer with the answer
   pre-filled as the reference to correct (accept it, or reject and write the reference).
3. `live_quality_pull` reads the annotations back (the newest non-cancelled one of each
   task); `live_quality_item_label` does the same for a label given in Assay.

`loop.selectors.live_quality` turns labelled items into accuracy / macro-F1 or ROUGE-L
per deployment and week with 95% bootstrap intervals. Once a project has a review
project, `loop_tick` tops the sample up, pushes and pulls on every tick.
"""

from collections import Counter

from django.db import transaction
from django.utils import timezone

from curation.exceptions import AssayError
from curation.models import Project
from labeling.core.label_config import (
    EXTERNAL_ID_KEY,
    annotation_value,
    classification_result,
    correction_result,
    label_config_for,
)
from loop.core.live_quality import generation_reference, iso_week, stratified_draw
from loop.models import LiveQualityItem, LiveQualitySample, LoopPolicy
from loop.selectors.policy import loop_policy
from loop.services.monitoring import _request_texts
from loop.services.policy import loop_policy_clean
from serving.models import Deployment, RequestLog

MODEL_VERSION = "assay-live-quality"
PUSH_BATCH_SIZE = 500


def _variant(log: RequestLog) -> str:
    if log.variant_id is None:
        return "direct"
    return f"{log.experiment.name}:{log.variant.role}" if log.experiment else str(log.variant_id)


def _taken(deployment: Deployment) -> Counter:
    """Requests earlier draws took per (variant, week) stratum."""
    rows = LiveQualityItem.objects.filter(deployment=deployment, input_index=0)
    return Counter((variant, week) for variant, week in rows.values_list("variant", "week"))


@transaction.atomic
def live_quality_sample_draw(
    *, deployment: Deployment, size: int | None = None, seed: int = 0, user=None
) -> LiveQualitySample:
    """Draw the sample (``size`` per variant and week; default the policy's). A size out
    of range raises AssayError naming it, and nothing is drawn. When no request is left
    to draw, the sample comes back unsaved (``pk`` None) and empty."""
    policy = loop_policy(deployment.project)
    if size is None:
        size = policy.live_quality_sample_size
    size = loop_policy_clean({"live_quality_sample_size": size})["live_quality_sample_size"]
    sampled = LiveQualityItem.objects.filter(deployment=deployment).values("request_id")
    logs = {
        log.pk: log
        for log in RequestLog.objects.filter(deployment=deployment, error="")
        .exclude(pk__in=sampled)
        .select_related("experiment", "variant")
        .order_by("created_at", "id")
    }
    candidates = [(pk, (_variant(log), iso_week(log.created_at))) for pk, log in logs.items()]
    chosen = stratified_draw(candidates, size=size, taken=_taken(deployment), seed=seed)
    sample = LiveQualitySample(project=deployment.project, deployment=deployment, size=size,
                               seed=seed, created_by=user)  # fmt: skip
    if not chosen:
        return sample
    sample.save()
    items, strata = [], Counter()
    for pk in chosen:
        log = logs[pk]
        variant, week = _variant(log), iso_week(log.created_at)
        strata[f"{variant}|{week}"] += 1
        for index, (text, output) in enumerate(_request_texts(log)):
            items.append(LiveQualityItem(
                sample=sample, deployment=deployment, request=log, input_index=index,
                variant=variant, week=week, input_text=text, output=output,
            ))  # fmt: skip
    LiveQualityItem.objects.bulk_create(items, batch_size=1000)
    sample.strata = dict(strata)
    sample.save(update_fields=["strata"])
    return sample


def _review_fields(project: Project) -> list[str]:
    """The content fields the review interface shows: the text, or prompt and answer."""
    names = project.content_fields
    return [names[0]] if project.is_classification else [names[0], names[-1]]


def live_quality_review_project(*, project: Project, client) -> int:
    """The Label Studio project live-quality items go to, made on first use."""
    policy, _ = LoopPolicy.objects.get_or_create(project=project)
    if policy.live_quality_ls_project_id:
        return policy.live_quality_ls_project_id
    config = label_config_for(task_type=project.task_type, fields=_review_fields(project),
                              labels=list(project.label_set or []))  # fmt: skip
    made = client.project_create(
        title=f"{project.name} · live quality",
        label_config=config,
        description="Sampled production requests: give the right answer (Assay live quality).",
    )
    LoopPolicy.objects.filter(pk=policy.pk).update(live_quality_ls_project_id=made.id)
    return made.id


def _task(item: LiveQualityItem, project: Project) -> dict:
    fields = _review_fields(project)
    data = {fields[0]: item.input_text, EXTERNAL_ID_KEY: item.external_id,
            "deployment": item.deployment.name, "variant": item.variant, "week": item.week,
            "model_answer": item.output}  # fmt: skip
    if project.is_classification:
        result = (classification_result(item.output, to_name=fields[0])
                  if item.output in (project.label_set or []) else None)  # fmt: skip
    else:
        data[fields[-1]] = item.output
        result = correction_result(item.output, to_name=fields[-1])
    predictions = [{"result": result, "model_version": MODEL_VERSION}] if result else []
    return {"data": data, "predictions": predictions}


def live_quality_push(*, sample: LiveQualitySample, client=None) -> int:
    """Send the sample's items that have no task yet; returns how many were sent. An
    empty sample reaches nothing (no review project is made for it)."""
    from labeling.integrations.label_studio import label_studio_client

    if sample.pk is None:
        return 0
    waiting = list(sample.items.filter(ls_task_id__isnull=True).select_related("deployment"))
    if not waiting:
        return 0
    client = client or label_studio_client()
    project = sample.project
    ls_project_id = live_quality_review_project(project=project, client=client)
    for start in range(0, len(waiting), PUSH_BATCH_SIZE):
        batch = waiting[start : start + PUSH_BATCH_SIZE]
        task_ids = client.tasks_import(ls_project_id, [_task(item, project) for item in batch])
        for item, task_id in zip(batch, task_ids, strict=True):
            item.ls_task_id = task_id
        LiveQualityItem.objects.bulk_update(batch, ["ls_task_id"])
    # LS accepts the version once a prediction of it exists; then annotators see them.
    client.project_show_model_version(ls_project_id, MODEL_VERSION)
    LiveQualitySample.objects.filter(pk=sample.pk).update(
        ls_project_id=ls_project_id, pushed_at=timezone.now()
    )
    return len(waiting)


def _apply(item: LiveQualityItem, *, label: str, corrected: str, by: str, at) -> bool:
    """Record a person's answer on ``item``; False when it names no valid gold."""
    project = item.sample.project
    if project.is_classification:
        if label not in (project.label_set or []):
            return False
        item.gold, item.verdict = label, ""
    else:
        if label not in ("accept", "reject"):
            return False
        reference = generation_reference(verdict=label, corrected=corrected, output=item.output)
        item.gold, item.verdict = reference or "", label
    item.labelled_by, item.labelled_at = by, at
    return True


def live_quality_pull(*, project: Project, client=None) -> dict:
    """Read the review project's annotations into the items' gold labels (the newest
    non-cancelled annotation of a task wins; pulling again changes nothing new). Reads
    first, then applies: Label Studio failing midway changes nothing."""
    from labeling.integrations.label_studio import label_studio_client

    counts = {"tasks_read": 0, "labelled": 0, "unchanged": 0, "skipped": 0}
    ls_project_id = loop_policy(project).live_quality_ls_project_id
    if not ls_project_id:
        return counts
    client = client or label_studio_client()
    tasks = list(client.annotated_tasks(ls_project_id))
    items = {
        item.ls_task_id: item
        for item in LiveQualityItem.objects.filter(
            sample__project=project, ls_task_id__isnull=False
        ).select_related("sample__project")
    }
    changed = []
    for task in tasks:
        counts["tasks_read"] += 1
        item = items.get(task.id)
        done = [a for a in task.annotations if not a.was_cancelled]
        if item is None or not done:
            counts["skipped"] += 1
            continue
        newest = max(done, key=lambda a: (a.updated_at or timezone.now(), a.id))
        value = annotation_value(task_type=project.task_type, result=newest.result)
        before = (item.gold, item.verdict)
        if value is None or not _apply(item, label=value.label, corrected=value.corrected_response,
                                       by=newest.user_email or "label-studio",
                                       at=newest.updated_at or timezone.now()):  # fmt: skip
            counts["skipped"] += 1
        elif before == (item.gold, item.verdict) and before != ("", ""):
            counts["unchanged"] += 1
        else:
            changed.append(item)
            counts["labelled"] += 1
    with transaction.atomic():
        LiveQualityItem.objects.bulk_update(
            changed, ["gold", "verdict", "labelled_by", "labelled_at"], batch_size=1000
        )
    return counts


@transaction.atomic
def live_quality_item_label(
    *, item: LiveQualityItem, label: str, corrected: str = "", by: str
) -> LiveQualityItem:
    """A person's answer given in Assay: the right class, or ``accept`` / ``reject`` with
    the reference in ``corrected``. A label outside the set is refused, nothing changes."""
    item = LiveQualityItem.objects.select_related("sample__project").get(pk=item.pk)
    if not _apply(item, label=label, corrected=corrected, by=by, at=timezone.now()):
        project = item.sample.project
        allowed = project.label_set if project.is_classification else ["accept", "reject"]
        raise AssayError(f"'{label}' is not one of {', '.join(allowed)}.")
    item.save(update_fields=["gold", "verdict", "labelled_by", "labelled_at"])
    return item


def live_quality_refresh(*, project: Project, client=None) -> dict:
    """The tick's step, once the project uses live quality (a review project, or items
    still to send): top up every active deployment's sample, send what has no task yet,
    pull the labels. A Label Studio failure is reported, never raised (monitoring and
    triggers must go on)."""
    unsent = LiveQualityItem.objects.filter(sample__project=project, ls_task_id__isnull=True)
    if not loop_policy(project).live_quality_ls_project_id and not unsent.exists():
        return {}
    report: dict = {"pushed": 0}
    try:
        active = Deployment.objects.filter(project=project, status=Deployment.Status.ACTIVE)
        for deployment in active:
            live_quality_sample_draw(deployment=deployment)
        waiting = LiveQualitySample.objects.filter(pk__in=unsent.values("sample_id"))
        for sample in waiting.order_by("pk"):
            report["pushed"] += live_quality_push(sample=sample, client=client)
        report["pull"] = live_quality_pull(project=project, client=client)
    except AssayError as exc:
        report["error"] = str(exc)
    return report
