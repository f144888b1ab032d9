"""Redis restarted under the RQ task backend (marker ``redis``; stage 3 of .ci/run). The
Redis restarted is a private one, started here on a free port without persistence, as CI
runs Redis: a restart loses every job it held, and other tests' queues are not touched.

- A run queued when Redis restarts has lost its job: it must not block its kind forever;
  the next start of it fails the lost run (saying why) and goes through.
- A run executing when Redis restarts goes on: its data and state live in the database
  and the file cache, so it ends succeeded with the whole file, whatever RQ's own
  bookkeeping of the lost job says, and the worker lives on.
"""

import os
import socket
import subprocess
import sys
import time

import pytest
import redis
from django.core.cache import cache

from curation.core.readers.options import ImportOptions
from curation.models import Example, Run, RunStatus
from curation.services.imports import import_start
from curation.services.runs import live_cache_key
from tests.factories import ProjectFactory, UserFactory
from tests.faults.conftest import REPO_ROOT, worker_env

pytestmark = [pytest.mark.redis, pytest.mark.slow]
ROWS = 20_000


class PrivateRedis:
    """redis-server on a free port, in the foreground, restartable."""

    def __init__(self, folder) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.folder = folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.exceptions.ConnectionError:
                time.sleep(0.1)
        raise AssertionError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def private_redis(tmp_path):
    if not os.path.exists("/usr/bin/redis-server"):
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but redis-server is not installed")
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def rq_backend(settings, private_redis):
    """This process enqueues to the private Redis through the RQ backend."""
    settings.RQ_QUEUES = {
        name: {"URL": private_redis.url, "DEFAULT_TIMEOUT": 600} for name in settings.TASK_QUEUES
    }
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": settings.TASK_QUEUES}
    }
    return private_redis


def rq_worker(data_dir, redis_url: str, **extra: str) -> subprocess.Popen:
    """``rqworker --burst`` (django-rq, as `assay_worker` starts it) in a subprocess: takes
    the default queue's jobs until it is empty."""
    env = worker_env(data_dir, ASSAY_TASK_BACKEND="rq", REDIS_URL=redis_url, **extra)
    command = ["rqworker", "--burst", "--job-class", "django_tasks_rq.Job", "default"]
    return subprocess.Popen(
        [sys.executable, "-m", "tests.worker_handlers", *command],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def messages_csv(tmp_path):
    csv = tmp_path / "messages.csv"
    lines = (f"message number {n},{('ham', 'spam')[n % 2]}" for n in range(ROWS))
    csv.write_text("text,label\n" + "\n".join(lines) + "\n")
    return csv


def start_import(project, csv, user) -> Run:
    return import_start(project=project, path=csv, options=ImportOptions(), created_by=user)


def test_a_run_queued_when_redis_restarts_does_not_block_its_kind(
    rq_backend, messages_csv, tmp_path, transactional_db
):
    user = UserFactory(username="importer")
    project = ProjectFactory(name="Lost job", label_set=["ham", "spam"])
    lost = start_import(project, messages_csv, user)

    rq_backend.restart()  # the queued job goes with it
    again = start_import(project, messages_csv, user)

    lost.refresh_from_db()
    assert lost.status == RunStatus.FAILED
    assert "task queue lost this run" in lost.error
    worker = rq_worker(tmp_path, rq_backend.url)
    out, err = worker.communicate(timeout=300)
    again.refresh_from_db()
    assert again.status == RunStatus.SUCCEEDED, (again.error, err[-3000:])
    assert Example.objects.filter(project=project).count() == ROWS


def test_a_run_executing_when_redis_restarts_goes_on_to_the_end(
    rq_backend, messages_csv, tmp_path, transactional_db
):
    user = UserFactory(username="importer")
    project = ProjectFactory(name="Redis blip", label_set=["ham", "spam"])
    first = start_import(project, messages_csv, user)
    worker = rq_worker(tmp_path, rq_backend.url, ASSAY_TEST_PROGRESS_DELAY="0.5")
    deadline = time.monotonic() + 120
    while not (cache.get(live_cache_key(first.pk)) or {}).get("progress"):
        assert time.monotonic() < deadline, "the import never started"
        time.sleep(0.1)

    rq_backend.restart()
    out, err = worker.communicate(timeout=300)

    assert worker.returncode == 0, err[-3000:]
    first.refresh_from_db()
    assert first.status == RunStatus.SUCCEEDED, first.error
    assert Example.objects.filter(project=project).count() == ROWS
    assert start_import(project, messages_csv, user).status == RunStatus.QUEUED
