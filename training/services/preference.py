"""Blind human preference studies: sending a generation run's test outputs to Label
Studio as anonymous A/B pairs, and reading the annotators' votes back.

Creating talks to Label Studio first (project, then tasks) and writes Assay's rows after,
in one transaction: should Label Studio fail midway, the half-made LS project is deleted
and nothing is written. Pulling reads every annotated task first and then mirrors the
votes in one transaction (one vote per LS annotation; changed ones update, deleted,
cancelled or emptied ones go), so pulling twice counts nothing twice.
"""

import random
from contextlib import suppress
from dataclasses import asdict, dataclass

from django.db import transaction
from django.utils import timezone

from curation.exceptions import AssayError
from curation.services.audit import audit_record
from labeling.exceptions import LabelStudioError
from labeling.integrations.label_studio import LabelStudioClient, label_studio_client
from labeling.integrations.label_studio_records import LsTask
from training.core import preference as core
from training.models import PreferenceItem, PreferenceStudy, PreferenceVote, TrainingRun

MAX_ANNOTATORS_PER_ITEM = 20


@dataclass
class PreferencePullReport:
    tasks_read: int = 0
    votes_created: int = 0
    votes_updated: int = 0
    votes_removed: int = 0
    skipped: int = 0  # cancelled annotations or ones without a choice
    unknown_tasks: int = 0  # tasks added in Label Studio by hand

    def as_dict(self) -> dict:
        return asdict(self)


def preference_pairs(training_run: TrainingRun) -> list[core.PairSample]:
    """The run's stored prompt/response pairs; AssayError saying why there are none."""
    try:
        return core.comparison_pairs(training_run.comparison, task_type=training_run.task_type)
    except core.PreferenceError as exc:
        raise AssayError(f"Training run {training_run.pk}: {exc}") from exc


def preference_study_create(
    *,
    training_run: TrainingRun,
    user,
    sample_size: int,
    annotators_per_item: int = 1,
    seed: int | None = None,
    client: LabelStudioClient | None = None,
) -> PreferenceStudy:
    """Send ``sample_size`` of the run's test prompts, each with the fine-tuned and the
    base response in a random order, to a new Label Studio project; ``annotators_per_item``
    sets how many annotators see each pair. Refused (AssayError) for classification runs,
    unfinished runs, runs evaluated before prompts were stored, and bad sizes."""
    if not 1 <= annotators_per_item <= MAX_ANNOTATORS_PER_ITEM:
        raise AssayError(
            f"Annotators per item must be between 1 and {MAX_ANNOTATORS_PER_ITEM}, "
            f"not {annotators_per_item}."
        )
    seed = random.SystemRandom().randrange(2**31) if seed is None else seed
    try:
        items, identical = core.blind_assign(
            preference_pairs(training_run), sample_size=sample_size, seed=seed
        )
    except core.PreferenceError as exc:
        raise AssayError(f"Training run {training_run.pk}: {exc}") from exc
    client = client or label_studio_client()
    ls_project, task_ids = _label_studio_project(training_run, items, annotators_per_item, client)
    try:
        return _study_save(
            training_run=training_run,
            user=user,
            items=items,
            task_ids=task_ids,
            ls_project=ls_project,
            identical=identical,
            annotators_per_item=annotators_per_item,
            seed=seed,
        )
    except Exception:
        _project_discard(client, ls_project.id)
        raise


def _project_discard(client: LabelStudioClient, ls_project_id: int) -> None:
    """Delete a half-made LS project; the error that stopped the study is the one to
    report, so a failure to clean up is not raised over it."""
    with suppress(LabelStudioError):
        client.project_delete(ls_project_id)


def _label_studio_project(training_run, items, annotators_per_item, client):
    project = training_run.project
    ls_project = client.project_create(
        title=f"Preference · {project.name} · run {training_run.pk}",
        label_config=core.preference_label_config(),
        description=(
            f"Blind comparison from Assay training run #{training_run.pk} ({project.name}): "
            "which response answers the prompt better?"
        ),
    )
    try:
        if annotators_per_item > 1:
            client.project_set_overlap(ls_project.id, annotators_per_item)
        task_ids = client.tasks_import(
            ls_project.id, [item.task_data(number) for number, item in enumerate(items, 1)]
        )
    except Exception:
        _project_discard(client, ls_project.id)
        raise
    return ls_project, task_ids


@transaction.atomic
def _study_save(
    *, training_run, user, items, task_ids, ls_project, identical, annotators_per_item, seed
) -> PreferenceStudy:
    study = PreferenceStudy.objects.create(
        training_run=training_run,
        ls_project_id=ls_project.id,
        ls_project_url=ls_project.url,
        sample_size=len(items),
        identical_skipped=identical,
        annotators_per_item=annotators_per_item,
        seed=seed,
        created_by=user,
    )
    PreferenceItem.objects.bulk_create(
        PreferenceItem(
            study=study,
            sample_index=item.index,
            prompt=item.prompt,
            output_a=item.output_a,
            output_b=item.output_b,
            tuned_side=item.tuned_side,
            ls_task_id=task_id,
        )
        for item, task_id in zip(items, task_ids, strict=True)
    )
    audit_record(
        project=training_run.project,
        actor=user,
        action="preference.create",
        target=study,
        after={"sample_size": len(items), "ls_project_id": ls_project.id, "seed": seed},
        message=(
            f"Sent {len(items)} blind pairs of training run {training_run.pk} to Label Studio "
            f"project {ls_project.id}"
        ),
    )
    return study


def preference_study_pull(
    *, study: PreferenceStudy, user=None, client: LabelStudioClient | None = None
) -> dict:
    """Read the study's annotations from Label Studio and mirror them as votes. Returns
    ``{"report": ..., "stats": ...}`` (the pull's counts and the preference statistics)."""
    from training.selectors.preference import preference_study_stats

    client = client or label_studio_client()
    tasks = list(client.annotated_tasks(study.ls_project_id))
    report = _votes_mirror(study=study, tasks=tasks, user=user)
    return {"report": report.as_dict(), "stats": preference_study_stats(study).as_dict()}


def _wanted_votes(study: PreferenceStudy, tasks: list[LsTask], report: PreferencePullReport):
    """(item id, annotation id) -> the vote fields, for every usable annotation read."""
    items = {item.ls_task_id: item.pk for item in study.items.all()}
    wanted = {}
    for task in tasks:
        report.tasks_read += 1
        if task.id not in items:
            report.unknown_tasks += 1
            continue
        for annotation in task.annotations:
            choice = None if annotation.was_cancelled else core.vote_from_result(annotation.result)
            if choice is None:
                report.skipped += 1
                continue
            wanted[(items[task.id], annotation.id)] = {
                "choice": choice,
                "annotator_email": annotation.user_email,
                "annotated_at": annotation.updated_at,
            }
    return wanted


@transaction.atomic
def _votes_mirror(*, study: PreferenceStudy, tasks: list[LsTask], user) -> PreferencePullReport:
    report = PreferencePullReport()
    wanted = _wanted_votes(study, tasks, report)
    existing = {
        (vote.item_id, vote.ls_annotation_id): vote
        for vote in PreferenceVote.objects.select_for_update().filter(item__study=study)
    }
    for key, fields in wanted.items():
        vote = existing.pop(key, None)
        if vote is None:
            PreferenceVote.objects.create(item_id=key[0], ls_annotation_id=key[1], **fields)
            report.votes_created += 1
        elif any(getattr(vote, name) != value for name, value in fields.items()):
            PreferenceVote.objects.filter(pk=vote.pk).update(**fields)
            report.votes_updated += 1
    PreferenceVote.objects.filter(pk__in=[vote.pk for vote in existing.values()]).delete()
    report.votes_removed = len(existing)
    study.pulled_at = timezone.now()
    study.save(update_fields=["pulled_at"])
    audit_record(
        project=study.training_run.project,
        actor=user or "preference pull",
        action="preference.pull",
        target=study,
        after=report.as_dict(),
        message=f"Pulled votes of preference study {study.pk}",
    )
    return report
