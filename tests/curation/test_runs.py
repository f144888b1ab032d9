"""The run machinery (`curation.services.runs`): the one-active-run guard against runs
that hold a long data transaction open."""

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from curation.exceptions import RunAlreadyActive
from curation.models import Project, Run, RunStatus
from curation.services.runs import RUN_KINDS, register_run_kind, run_create, run_execute

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
