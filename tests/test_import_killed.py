"""The reproduction from issue 12: `assay_import` is killed (SIGKILL) mid-file, and the
same import is started again at once. Before, the dead run blocked every import of the
project for the stale limit (15 minutes); now the second import starts straight away, and
the killed one left nothing behind. Both imports are real `manage.py` processes."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection

from curation.models import Example, Run, RunStatus
from curation.services.runs import live_cache_key
from tests.factories import ProjectFactory, UserFactory

REPO_ROOT = Path(__file__).resolve().parents[1]
ROWS = 20_000  # ten progress points of 2,000 rows


def assay_import(project, path: Path, data_dir: Path, *, progress_delay: float = 0.0):
    """``assay_import`` in a process of its own, on this test's database; its cache (live
    progress, heartbeat) is ``data_dir/cache``, the folder this process's cache reads."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "curation.settings.test",
        "ASSAY_DATABASE_NAME": str(connection.settings_dict["NAME"]),
        "ASSAY_DATA_DIR": str(data_dir),
        "ASSAY_TEST_PROGRESS_DELAY": str(progress_delay),
    }
    argv = ["assay_import", str(project.pk), str(path), "--user", "importer", "--skip-checks"]
    return subprocess.Popen(
        [sys.executable, "-m", "tests.worker_handlers", *argv],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until_mid_file(timeout: float = 60.0) -> Run:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = Run.objects.filter(kind="import", status=RunStatus.RUNNING).first()
        live = cache.get(live_cache_key(run.pk)) if run else None
        if live and 0 < live["progress"] < 90:
            return run
        time.sleep(0.1)
    raise AssertionError("the import never got mid-file")


# transactional_db: the imports are other processes, which see only committed rows (and
# the flush after it must be allowed to clear the audit log they append to).
@pytest.mark.slow
def test_an_import_killed_mid_file_does_not_block_the_next_one(transactional_db, tmp_path):
    user = UserFactory(username="importer", is_superuser=True)
    project = ProjectFactory(name="Killed", label_set=["ham", "spam"], created_by=user)
    csv = tmp_path / "reviews.csv"
    lines = (f"review number {n},{('ham', 'spam')[n % 2]}" for n in range(ROWS))
    csv.write_text("text,label\n" + "\n".join(lines) + "\n")

    first = assay_import(project, csv, tmp_path, progress_delay=0.5)
    killed = wait_until_mid_file()
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert Example.objects.filter(project=project).count() == 0  # nothing partial

    started = time.monotonic()
    second = assay_import(project, csv, tmp_path)
    out, err = second.communicate(timeout=300)

    assert second.returncode == 0, err
    assert f"Imported {ROWS:,} examples" in out
    assert time.monotonic() - started < 60
    assert Example.objects.filter(project=project).count() == ROWS
    killed.refresh_from_db()
    assert killed.status == RunStatus.FAILED
    assert "abandoned" in killed.error
