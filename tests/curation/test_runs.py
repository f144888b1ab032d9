"""The run machinery (`curation.services.runs`): the one-active-run guard against runs
that hold a long data transaction open, dead workers, and cancelling."""

import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from curation.exceptions import RunAlreadyActive, RunNotActive
from curation.models import AuditEvent, Project, Run, RunStatus
from curation.services.run_liveness import worker_identity
from curation.services.runs import (
    RUN_KINDS,
    register_run_kind,
    run_cancel,
    run_create,
    run_execute,
)
from tests.factories import UserFactory

LONG_KIND = "test_long_transaction"


def long_transaction_handler(run: Run, progress) -> dict:
    """Like an import or a version build: all its writes in one transaction, and no
    progress reported for longer than the stale limit. Halfway, someone starts a second
    run of the same kind on the same project."""
    with transaction.atomic():
        Project.objects.filter(pk=run.target_id).update(description="being imported")
        time.sleep(run.params["seconds"])
        try:
            second = run_create(kind=LONG_KIND, target=run.target, project=run.project)
        except RunAlreadyActive as refused:
            return {"second_run": None, "refused": str(refused)}
        return {"second_run": second.pk}


CANCELLED_KIND = "test_cancelled_midway"


def cancelled_midway_handler(run: Run, progress) -> dict:
    """Writes in one transaction, reports progress, and is cancelled halfway (by the
    user in ``params``, as the page or API would); a broad ``except`` must not keep it."""
    with transaction.atomic():
        Project.objects.filter(pk=run.target_id).update(description="half imported")
        progress.update(50, "halfway")
        user = UserFactory._meta.model.objects.get(username=run.params["cancel_as"])
        run_cancel(run=Run.objects.get(pk=run.pk), cancelled_by=user)
        try:
            progress.update(60, "past the cancel")
        except Exception:  # noqa: BLE001 - the point: handlers' broad excepts
            return {"swallowed": True}
    return {"finished": True}


@pytest.fixture
def cancelled_kind():
    register_run_kind(
        CANCELLED_KIND, handler=f"{__name__}.cancelled_midway_handler", title="Cancelled"
    )
    yield CANCELLED_KIND
    RUN_KINDS.pop(CANCELLED_KIND)


@pytest.fixture
def long_kind():
    register_run_kind(
        LONG_KIND, handler=f"{__name__}.long_transaction_handler", title="Long transaction"
    )
    yield LONG_KIND
    RUN_KINDS.pop(LONG_KIND)


def test_a_live_run_longer_than_the_stale_limit_still_blocks_a_second_one(
    long_kind, classification_project, settings
):
    settings.RUN_STALE_AFTER_SECONDS = 1
    run = run_create(
        kind=long_kind,
        target=classification_project,
        project=classification_project,
        params={"seconds": 2.5},
    )

    run_execute(run.pk)

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.result["second_run"] is None
    assert f"#{run.pk}" in run.result["refused"]
    assert Run.objects.filter(kind=long_kind).count() == 1


def test_a_run_whose_worker_died_is_still_released(long_kind, classification_project, settings):
    # The heartbeat stops with the worker: the guard must not hold a dead run forever.
    settings.RUN_STALE_AFTER_SECONDS = 1
    dead = run_create(kind=long_kind, target=classification_project, project=classification_project)
    Run.objects.filter(pk=dead.pk).update(
        status=RunStatus.RUNNING, heartbeat_at=timezone.now() - timedelta(seconds=5)
    )

    fresh = run_create(
        kind=long_kind, target=classification_project, project=classification_project
    )

    dead.refresh_from_db()
    assert (dead.status, fresh.status) == (RunStatus.FAILED, RunStatus.QUEUED)
    assert "stopped reporting progress" in dead.error


def test_a_run_whose_process_is_gone_is_released_at_once(
    long_kind, classification_project, settings
):
    # SIGKILLed on this machine: its heartbeat is still fresh, but its process is gone.
    settings.RUN_STALE_AFTER_SECONDS = 60
    dead = run_create(kind=long_kind, target=classification_project, project=classification_project)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    namespace = worker_identity().rsplit("|", 2)[0]
    Run.objects.filter(pk=dead.pk).update(
        status=RunStatus.RUNNING, heartbeat_at=timezone.now(), worker=f"{namespace}|{gone.pid}|1"
    )

    fresh = run_create(
        kind=long_kind, target=classification_project, project=classification_project
    )

    dead.refresh_from_db()
    assert (dead.status, fresh.status) == (RunStatus.FAILED, RunStatus.QUEUED)


def test_a_live_run_on_another_machine_is_not_taken_for_dead(
    long_kind, classification_project, settings
):
    settings.RUN_STALE_AFTER_SECONDS = 60
    live = run_create(kind=long_kind, target=classification_project, project=classification_project)
    Run.objects.filter(pk=live.pk).update(
        status=RunStatus.RUNNING, heartbeat_at=timezone.now(), worker="gpu-1|boot|1|42|1"
    )

    with pytest.raises(RunAlreadyActive, match="already running"):
        run_create(kind=long_kind, target=classification_project, project=classification_project)


@pytest.mark.parametrize(("silent_for", "shown"), [(61, "failed"), (30, "running")])
def test_the_run_page_shows_a_run_silent_past_the_stale_limit_as_failed(
    long_kind, classification_project, settings, client, silent_for, shown
):
    # A worker on another machine: only its silence can tell it is dead.
    settings.RUN_STALE_AFTER_SECONDS = 60
    run = run_create(kind=long_kind, target=classification_project, project=classification_project)
    Run.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING,
        heartbeat_at=timezone.now() - timedelta(seconds=silent_for),
        worker="gpu-1|boot|1|42|1",
    )
    client.force_login(UserFactory(is_superuser=True))

    page = client.get(reverse("run-detail", args=[run.pk])).content.decode()

    assert f'data-status="{shown}"' in page
    assert ("the run was abandoned" in page) == (shown == "failed")
    assert Run.objects.get(pk=run.pk).status == RunStatus.RUNNING  # a page does not write


def test_the_stale_limit_is_a_minute_by_default():
    from django.conf import settings

    from curation.services.run_liveness import RunHeartbeat

    assert settings.RUN_STALE_AFTER_SECONDS <= 60
    assert RunHeartbeat(0).interval <= settings.RUN_STALE_AFTER_SECONDS / 4


def test_cancelling_a_queued_run_ends_it_and_the_worker_skips_it(long_kind, classification_project):
    alice = UserFactory(username="alice")
    run = run_create(kind=long_kind, target=classification_project, project=classification_project)

    run = run_cancel(run=run, cancelled_by=alice)
    executed = run_execute(run.pk)

    assert (run.status, executed.status) == (RunStatus.CANCELLED, RunStatus.CANCELLED)
    assert run.error == "Cancelled by alice."
    assert executed.started_at is None
    again = run_create(
        kind=long_kind, target=classification_project, project=classification_project
    )
    assert again.status == RunStatus.QUEUED


def test_a_cancelled_running_run_stops_at_its_next_progress_point_and_rolls_back(
    cancelled_kind, classification_project
):
    UserFactory(username="alice")
    run = run_create(
        kind=cancelled_kind,
        target=classification_project,
        project=classification_project,
        params={"cancel_as": "alice"},
    )

    run = run_execute(run.pk)

    run.refresh_from_db()
    classification_project.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert run.error == "Cancelled by alice."
    assert run.result == {}
    assert run.finished_at is not None
    assert classification_project.description != "half imported"
    event = AuditEvent.objects.get(project=classification_project, action="run.cancel")
    assert (event.actor.username, event.target_id) == ("alice", str(run.pk))
    assert event.before["status"] == RunStatus.RUNNING
    assert (
        run_create(
            kind=cancelled_kind, target=classification_project, project=classification_project
        ).status
        == RunStatus.QUEUED
    )


def test_a_finished_run_cannot_be_cancelled(long_kind, classification_project):
    run = run_create(kind=long_kind, target=classification_project, project=classification_project)
    Run.objects.filter(pk=run.pk).update(status=RunStatus.SUCCEEDED)

    with pytest.raises(RunNotActive, match="already ended"):
        run_cancel(run=run, cancelled_by=UserFactory())

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert not AuditEvent.objects.filter(action="run.cancel").exists()
