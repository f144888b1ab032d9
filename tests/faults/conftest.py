"""The fault suite's machinery: a real task worker (``db_worker`` on the database task
backend) in a subprocess on this test's database, which can be made to die by SIGKILL at
a chosen progress point of the run it executes (the fault point in
tests/worker_handlers.py)."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from tests.labeling.conftest import (  # noqa: F401 - the Label Studio cases' server
    _no_webhooks_unless_asked,
    label_studio_server,
    linked,
    ls_client,
)
from tests.serving.conftest import tiny_bert_adapter  # noqa: F401 - the deployment case's model
from tests.training.conftest import tiny_bert  # noqa: F401 - the training case's base model

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def database_backend(settings):
    """This process enqueues into the database task table (the test default runs inline)."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": settings.TASK_QUEUES}
    }


def worker_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """A worker's environment: this test's database, and ``data_dir`` for its cache
    (heartbeats, cancel requests), uploads and exports, the folders this process uses."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "curation.settings.test",
        "ASSAY_TASK_BACKEND": os.environ.get("ASSAY_TASK_BACKEND", "database"),
        "ASSAY_DATABASE_NAME": str(connection.settings_dict["NAME"]),
        "ASSAY_DATA_DIR": str(data_dir),
        **extra,
    }


@pytest.fixture
def worker(database_backend, tmp_path):
    """``worker(kill_at=None)``: run ``db_worker --batch`` over every queue until the
    queue is empty; with ``kill_at``, the worker SIGKILLs itself at the first progress
    report at or past that percent. Returns the finished process."""

    def run(*, kill_at: float | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
        extra = {} if kill_at is None else {"ASSAY_TEST_KILL_AT_PROGRESS": str(kill_at)}
        command = ["db_worker", "--batch", "--no-startup-delay", "--no-reload", "--skip-checks",
                   "--queue-name", "*"]  # fmt: skip
        return subprocess.run(
            [sys.executable, "-m", "tests.worker_handlers", *command],
            cwd=REPO_ROOT,
            env=worker_env(tmp_path, **extra),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


@pytest.fixture
def worker_process(database_backend, tmp_path):
    """``worker_process(**env)``: a ``db_worker --batch`` started in the background (a
    Popen), for a test that acts on the world while the worker runs."""

    def start(**extra: str) -> subprocess.Popen:
        command = ["db_worker", "--batch", "--no-startup-delay", "--no-reload", "--skip-checks",
                   "--queue-name", "*"]  # fmt: skip
        return subprocess.Popen(
            [sys.executable, "-m", "tests.worker_handlers", *command],
            cwd=REPO_ROOT,
            env=worker_env(tmp_path, **extra),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    return start


def was_killed(process: subprocess.CompletedProcess) -> bool:
    return process.returncode == -signal.SIGKILL


@pytest.fixture(autouse=True)
def _training_in_test_folder(settings, tmp_path):
    """Training output goes where the worker (ASSAY_DATA_DIR=tmp_path) writes it too."""
    settings.TRAINING_DIR = tmp_path / "training"
