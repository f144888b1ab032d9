"""The database task backend end to end: runs enqueued here are executed by a real
``db_worker`` subprocess that opens the same test database; and the one-active-run guard."""

import os
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from curation.exceptions import RunAlreadyActive
from curation.models import Run, RunStatus
from curation.services.runs import run_enqueue
from tests.factories import ProjectFactory
from tests.worker_handlers import CRASH_KIND, ECHO_KIND, GPU_ECHO_KIND

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ROUTES = {
    "import": "default",
    "lf_apply": "cpu-heavy",
    "label_model_fit": "cpu-heavy",
    "quality_check": "cpu-heavy",
    "training": "gpu",
    "deployment_start": "gpu",
}

# The worker is another process: it only sees committed rows, so no wrapping transaction.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def database_backend(settings):
    """This process enqueues into the database task table (the test default runs inline)."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": settings.TASK_QUEUES}
    }


def worker_command(queues: str = "*", **env_extra: str) -> tuple[list[str], dict[str, str]]:
    """The worker's argv and environment: system checks (URLs, templates) are `manage.py
    check`'s business, not the worker's."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "curation.settings.test",
        "ASSAY_TASK_BACKEND": "database",
        "ASSAY_DATABASE_NAME": str(connection.settings_dict["NAME"]),
        **env_extra,
    }
    command = ["assay_db_worker", "--batch", "--no-startup-delay", "--no-reload", "--skip-checks",
               "--queue-name", queues]  # fmt: skip
    return [sys.executable, "-m", "tests.worker_handlers", *command], env


def run_db_worker(queues: str = "*") -> subprocess.CompletedProcess:
    """``assay_db_worker --batch`` in a subprocess, with the test handlers registered, on the
    database this test uses (a SQLite file, or the PostgreSQL test database)."""
    argv, env = worker_command(queues)
    return subprocess.run(
        argv,
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_worker_executes_an_enqueued_run_and_stores_its_result(database_backend):
    project = ProjectFactory()
    run = run_enqueue(kind=ECHO_KIND, target=project, project=project, params={"rows": 3})
    assert Run.objects.get(pk=run.pk).status == RunStatus.QUEUED

    worker = run_db_worker()

    assert worker.returncode == 0, worker.stderr
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.result["echo"] == {"rows": 3}
    assert run.result["pid"] != os.getpid()
    assert f"echo from pid {run.result['pid']}" in run.log
    assert run.progress == 100
    assert run.started_at and run.finished_at and run.error == ""
    assert DBTaskResult.objects.get(id=run.task_id).status == "SUCCESSFUL"


def test_a_crashing_handler_ends_the_run_failed_with_error_and_log(database_backend):
    project = ProjectFactory()
    run = run_enqueue(kind=CRASH_KIND, target=project, project=project)

    worker = run_db_worker()

    assert worker.returncode == 0, worker.stderr
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert f"handler crashed on purpose (run {run.pk})" in run.error
    assert "about to crash" in run.log
    assert "Traceback" in run.log
    assert run.finished_at is not None
    # The failure is the run's, not the task queue's: the next run is accepted.
    assert run_enqueue(kind=CRASH_KIND, target=project, project=project).status == "queued"


def test_second_run_of_a_kind_on_a_target_is_refused_while_the_first_is_queued(
    database_backend,
):
    project, other = ProjectFactory(), ProjectFactory()
    first = run_enqueue(kind=ECHO_KIND, target=project, project=project)

    with pytest.raises(RunAlreadyActive, match=f"#{first.pk}.*already queued"):
        run_enqueue(kind=ECHO_KIND, target=project, project=project)

    assert run_enqueue(kind=ECHO_KIND, target=other, project=other).status == "queued"
    assert run_enqueue(kind=CRASH_KIND, target=project, project=project).status == "queued"
    assert Run.objects.filter(kind=ECHO_KIND, project=project).count() == 1


def _running_run(project, *, heartbeat_age: timedelta) -> Run:
    run = run_enqueue(kind=ECHO_KIND, target=project, project=project)
    Run.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING,
        started_at=timezone.now() - heartbeat_age,
        heartbeat_at=timezone.now() - heartbeat_age,
    )
    return run


def test_a_stale_running_run_no_longer_blocks(database_backend, settings):
    settings.RUN_STALE_AFTER_SECONDS = 60
    project = ProjectFactory()
    stale = _running_run(project, heartbeat_age=timedelta(seconds=61))

    fresh = run_enqueue(kind=ECHO_KIND, target=project, project=project)

    stale.refresh_from_db()
    assert fresh.status == RunStatus.QUEUED
    assert stale.status == RunStatus.FAILED
    assert "stopped reporting progress" in stale.error


def test_a_running_run_with_a_recent_heartbeat_still_blocks(database_backend, settings):
    settings.RUN_STALE_AFTER_SECONDS = 60
    project = ProjectFactory()
    running = _running_run(project, heartbeat_age=timedelta(seconds=30))

    with pytest.raises(RunAlreadyActive, match="already running"):
        run_enqueue(kind=ECHO_KIND, target=project, project=project)

    running.refresh_from_db()
    assert running.status == RunStatus.RUNNING


def test_runs_land_on_the_queue_their_kind_is_routed_to(database_backend, settings):
    settings.RUN_QUEUES = {**settings.RUN_QUEUES, GPU_ECHO_KIND: "gpu"}
    project = ProjectFactory()
    on_default = run_enqueue(kind=ECHO_KIND, target=project, project=project)
    on_gpu = run_enqueue(kind=GPU_ECHO_KIND, target=project, project=project)
    gpu_worker = run_db_worker("gpu")

    assert gpu_worker.returncode == 0, gpu_worker.stderr
    on_default.refresh_from_db()
    on_gpu.refresh_from_db()
    assert (on_gpu.status, on_default.status) == (RunStatus.SUCCEEDED, RunStatus.QUEUED)
    gpu_pid = on_gpu.result["pid"]

    default_worker = run_db_worker("default")

    assert default_worker.returncode == 0, default_worker.stderr
    on_default.refresh_from_db()
    assert on_default.status == RunStatus.SUCCEEDED
    assert on_default.result["pid"] != gpu_pid  # another worker process
    assert DBTaskResult.objects.get(id=on_gpu.task_id).queue_name == "gpu"
    assert DBTaskResult.objects.get(id=on_default.task_id).queue_name == "default"


def test_the_platform_s_run_kinds_are_routed_by_default(database_backend):
    project = ProjectFactory()  # no worker runs here: the handlers are not called

    runs = {
        kind: run_enqueue(kind=kind, target=project, project=project) for kind in DEFAULT_ROUTES
    }

    queue_of = {
        kind: DBTaskResult.objects.get(id=Run.objects.get(pk=run.pk).task_id).queue_name
        for kind, run in runs.items()
    }

    assert queue_of == DEFAULT_ROUTES


def test_assay_run_queues_overrides_the_routes(monkeypatch):
    monkeypatch.setenv("ASSAY_RUN_QUEUES", '{"training": "big-gpu", "import": "cpu-heavy"}')
    from curation.settings.base import run_queues_from_env

    routes = run_queues_from_env()

    assert routes["training"] == "big-gpu"
    assert routes["import"] == "cpu-heavy"
    assert routes["deployment_start"] == "gpu"


def test_worker_waits_out_a_write_lock_longer_than_its_busy_timeout(database_backend):
    if connection.vendor != "sqlite":
        pytest.skip("only SQLite has one write lock for the whole database")
    project = ProjectFactory()
    run = run_enqueue(kind=ECHO_KIND, target=project, project=project, params={"rows": 1})
    import_like = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    import_like.execute("BEGIN IMMEDIATE")  # what a long import holds
    argv, env = worker_command(ASSAY_SQLITE_BUSY_TIMEOUT_SECONDS="0.5")
    worker = subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        time.sleep(8)  # the worker starts, then meets the lock several times over
        still_polling = worker.poll() is None
    finally:
        import_like.rollback()
        import_like.close()
    output, _ = worker.communicate(timeout=120)

    assert still_polling, output
    assert worker.returncode == 0, output
    assert "database is locked" in output  # it did meet the lock
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
