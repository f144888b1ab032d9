"""Annotations reach Assay by webhook, by the reconcile job, incrementally; agreement and
consensus of several annotators; Label Studio down during a sync run."""

import json
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from curation.models import Label, Run, RunStatus
from curation.services.runs import run_create, run_execute
from labeling.core.label_config import classification_result
from labeling.models import Consensus, LabelStudioLink
from labeling.services.links import label_studio_project_link
from labeling.services.pull import label_studio_pull
from labeling.services.push import label_studio_push
from labeling.services.webhooks import WEBHOOK_SECRET_HEADER, label_studio_webhook_register
from tests.factories import ExampleFactory, GenerationExampleFactory, ProjectFactory

DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def _choose(label):
    return classification_result(label, to_name="text")


@pytest.fixture
def pushed(db, linked, ls_client):
    project = ProjectFactory(label_set=["ham", "spam"])
    examples = ExampleFactory.create_batch(4, project=project)
    linked(project)
    label_studio_push(project=project, client=ls_client)
    return project, examples, [e.label_studio_task.ls_task_id for e in examples]


def _queued_pull(project, *, timeout=10.0) -> Run:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = Run.objects.filter(
            project=project, kind="label_studio_pull", status=RunStatus.QUEUED
        ).first()
        if run is not None:
            return run
        time.sleep(0.2)
    raise AssertionError("no pull run was queued by the webhook")


# --- the endpoint --------------------------------------------------------------------------


def _post(client, body: dict, **headers):
    return client.post(
        "/labeling/webhooks/label-studio/",
        data=json.dumps(body),
        content_type="application/json",
        headers=headers,
    )


@pytest.mark.parametrize("secret", [None, "wrong"])
def test_a_webhook_without_the_secret_is_refused_and_changes_nothing(client, db, settings, secret):
    settings.TASKS = DUMMY_TASKS
    link = LabelStudioLink.objects.create(
        project=ProjectFactory(),
        ls_project_id=4242,
        base_url="http://ls",
        project_url="http://ls/p",
    )
    headers = {} if secret is None else {WEBHOOK_SECRET_HEADER: secret}

    response = _post(client, {"action": "ANNOTATION_CREATED", "project": {"id": 4242}}, **headers)

    assert response.status_code == 403
    assert not Run.objects.exists()
    link.refresh_from_db()
    assert link.hint_received_at is None


def test_a_webhook_with_the_secret_queues_one_pull(client, db, settings):
    settings.TASKS = DUMMY_TASKS
    project = ProjectFactory()
    LabelStudioLink.objects.create(
        project=project, ls_project_id=4243, base_url="http://ls", project_url="http://ls/p"
    )
    secret = {WEBHOOK_SECRET_HEADER: settings.LABEL_STUDIO_WEBHOOK_SECRET}

    first = _post(client, {"action": "ANNOTATIONS_DELETED", "project": {"id": 4243}}, **secret)
    second = _post(client, {"action": "ANNOTATION_CREATED", "project": {"id": 4243}}, **secret)
    other = _post(client, {"action": "ANNOTATION_CREATED", "project": {"id": 999999}}, **secret)

    assert [r.status_code for r in (first, second, other)] == [200, 200, 200]
    run = Run.objects.get()
    assert first.json()["queued"] == run.pk and second.json()["queued"] is None
    assert (run.kind, run.status, run.project) == ("label_studio_pull", RunStatus.QUEUED, project)
    assert LabelStudioLink.objects.get(project=project).full_pull_requested


# --- end to end against the real server ----------------------------------------------------


@pytest.mark.slow
def test_annotations_by_two_users_arrive_by_webhook(
    live_server, transactional_db, settings, ls_client, unique_email
):
    """LS calls Assay's live server; the webhook only queues a pull, which the test then
    executes as the worker would."""
    settings.TASKS = DUMMY_TASKS
    project = ProjectFactory(label_set=["ham", "spam"])
    examples = ExampleFactory.create_batch(3, project=project)
    link = label_studio_project_link(project=project, client=ls_client)
    try:
        label_studio_webhook_register(project=project, base_url=live_server.url, client=ls_client)
        label_studio_push(project=project, client=ls_client)
        tasks = [e.label_studio_task.ls_task_id for e in examples]
        other = ls_client.user_ensure(email=unique_email)
        first = ls_client.annotation_create(tasks[0], result=_choose("spam"), lead_time=2.5)
        ls_client.annotation_create(tasks[1], result=_choose("ham"), user_id=other)

        run_execute(_queued_pull(project).pk)

        labels = Label.objects.filter(example__project=project)
        assert sorted(labels.values_list("author", "value")) == sorted(
            [(ls_client.whoami(), "spam"), (unique_email, "ham")]
        )
        ls_client.annotation_update(first.id, result=_choose("ham"))
        run_execute(_queued_pull(project).pk)
        assert labels.get(external_ref=str(first.id)).value == "ham"
        ls_client.annotation_delete(first.id)
        run = run_execute(_queued_pull(project).pk)
        assert run.result["mode"] == "full"  # a deletion hint asks for a full pull
        assert list(labels.values_list("author", flat=True)) == [unique_email]
    finally:
        ls_client.project_delete(link.ls_project_id)


def test_with_webhooks_off_the_reconcile_job_brings_annotations(pushed, ls_client, unique_email):
    project, examples, tasks = pushed
    assert LabelStudioLink.objects.get(project=project).webhook_id is None
    other = ls_client.user_ensure(email=unique_email)
    ls_client.annotation_create(tasks[0], result=_choose("spam"))
    ls_client.annotation_create(tasks[0], result=_choose("ham"), user_id=other)

    call_command("labeling_reconcile")
    call_command("labeling_reconcile")

    assert Label.objects.filter(example=examples[0]).count() == 2
    runs = Run.objects.filter(project=project, kind="label_studio_pull")
    assert [r.status for r in runs] == [RunStatus.SUCCEEDED] * 2


def test_label_studio_down_fails_the_run_clearly_and_a_rerun_completes(pushed, ls_client, settings):
    project, _examples, tasks = pushed
    for task, label in zip(tasks, ["spam", "ham", "spam"], strict=False):
        ls_client.annotation_create(task, result=_choose(label))
    real_url = settings.LABEL_STUDIO_URL
    settings.LABEL_STUDIO_URL = "http://127.0.0.1:9"

    down = run_execute(run_create(kind="label_studio_pull", target=project, project=project).pk)

    assert down.status == RunStatus.FAILED
    assert "does not answer at http://127.0.0.1:9" in down.error
    assert not Label.objects.filter(example__project=project).exists()
    settings.LABEL_STUDIO_URL = real_url
    rerun = run_execute(run_create(kind="label_studio_pull", target=project, project=project).pk)
    again = run_execute(run_create(kind="label_studio_pull", target=project, project=project).pk)
    assert (rerun.status, rerun.result["labels_created"]) == (RunStatus.SUCCEEDED, 3)
    assert again.result["labels_created"] == 0
    assert Label.objects.filter(example__project=project).count() == 3


# --- what a pull records -------------------------------------------------------------------


def test_an_incremental_pull_reads_only_tasks_changed_since_the_watermark(pushed, ls_client):
    project, _examples, tasks = pushed
    ls_client.annotation_create(tasks[0], result=_choose("spam"), lead_time=7.5)
    first = label_studio_pull(project=project, client=ls_client)
    ls_client.annotation_create(tasks[1], result=_choose("ham"))

    second = label_studio_pull(project=project, client=ls_client)

    assert (first.mode, second.mode) == ("full", "incremental")
    assert second.labels_created == 1
    assert Label.objects.get(example__project=project, value="spam").lead_time_seconds == 7.5


@pytest.fixture
def settled(pushed, ls_client):
    """Pushed, one task annotated, pulled in full and then incrementally (which reads the
    unannotated tasks once: the full pull skipped them)."""
    project, examples, tasks = pushed
    ls_client.annotation_create(tasks[0], result=_choose("spam"))
    label_studio_pull(project=project, client=ls_client)
    label_studio_pull(project=project, client=ls_client)
    return project, examples, tasks


def test_an_incremental_pull_with_nothing_changed_reads_no_task(settled, ls_client):
    project, _examples, _tasks = settled

    again = label_studio_pull(project=project, client=ls_client)

    assert again.mode == "incremental"
    assert again.tasks_listed == 4  # all were pushed within the watermark's slack
    assert (again.tasks_read, again.labels_created, again.labels_updated) == (0, 0, 0)
    assert Label.objects.filter(example__project=project).count() == 1


def test_after_a_burst_an_incremental_pull_reads_only_the_burst(settled, ls_client):
    project, examples, tasks = settled
    ls_client.annotation_create(tasks[2], result=_choose("ham"))
    ls_client.annotation_create(tasks[3], result=_choose("ham"))

    after = label_studio_pull(project=project, client=ls_client)

    assert (after.tasks_read, after.labels_created) == (2, 2)
    for example, expected in zip(examples, ["spam", "", "ham", "ham"], strict=True):
        example.refresh_from_db()
        assert example.resolved_label == expected


def test_a_change_committed_behind_the_watermark_is_still_pulled(settled, ls_client):
    """LS stamps updated_at before its commit: a pull can see a newer task first and
    move the watermark past a change that becomes visible only afterwards."""
    project, examples, tasks = settled
    ls_client.annotation_create(tasks[1], result=_choose("ham"))
    link = LabelStudioLink.objects.get(project=project)
    link.pull_watermark = timezone.now() + timedelta(seconds=5)
    link.save(update_fields=["pull_watermark"])

    after = label_studio_pull(project=project, client=ls_client)

    assert (after.tasks_read, after.labels_created) == (1, 1)
    examples[1].refresh_from_db()
    assert examples[1].resolved_label == "ham"


def test_several_annotators_give_a_consensus_that_is_the_resolved_label(
    pushed, ls_client, unique_email
):
    project, examples, tasks = pushed
    second = ls_client.user_ensure(email=unique_email)
    third = ls_client.user_ensure(email="third-" + unique_email)
    for user, label in [(None, "spam"), (second, "spam"), (third, "ham")]:
        ls_client.annotation_create(tasks[0], result=_choose(label), user_id=user)

    label_studio_pull(project=project, client=ls_client)

    consensus = Consensus.objects.get(example=examples[0])
    assert (consensus.value, consensus.annotator_count) == ("spam", 3)
    assert consensus.agreement == pytest.approx(2 / 3)
    examples[0].refresh_from_db()
    assert examples[0].resolved_label == "spam"


def test_a_generation_correction_is_kept_in_the_label(db, linked, ls_client):
    example = GenerationExampleFactory()
    project = example.project
    linked(project)
    label_studio_push(project=project, client=ls_client)
    result = [
        {"from_name": "verdict", "to_name": "response", "type": "choices",
         "value": {"choices": ["reject"]}},
        {"from_name": "corrected_response", "to_name": "response", "type": "textarea",
         "value": {"text": ["A better answer."]}},
    ]  # fmt: skip
    ls_client.annotation_create(example.label_studio_task.ls_task_id, result=result, lead_time=12)

    label_studio_pull(project=project, client=ls_client)

    label = Label.objects.get(example=example)
    assert (label.value, label.meta["corrected_response"]) == ("reject", "A better answer.")
    assert label.lead_time_seconds == 12
