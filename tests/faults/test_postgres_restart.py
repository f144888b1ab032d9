"""PostgreSQL restarted in the middle of a run. Only on PostgreSQL (DATABASE_URL; stage 2
of .ci/run runs it). The cluster restarted is the one serving DATABASE_URL, found by its
port, so a private cluster on another port keeps everyone else's connections out of it.

The import's transaction dies with the server: nothing of it may stay; the worker must
record the run as failed once the server is back (not leave it "running"), survive, and
take the rerun, which imports the whole file."""

import os
import subprocess
import time

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from curation.core.readers.options import ImportOptions
from curation.models import Example, Run, RunStatus
from curation.services.imports import import_start
from curation.services.runs import live_cache_key
from tests.factories import ProjectFactory, UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
ROWS = 20_000  # ten progress points of 2,000 rows


@pytest.fixture
def postgres_cluster() -> tuple[str, str]:
    """(version, name) of the local cluster DATABASE_URL points at, for pg_ctlcluster."""
    database = settings.DATABASES["default"]
    if "postgresql" not in database["ENGINE"]:
        pytest.skip("runs on PostgreSQL only (DATABASE_URL; stage 2 of .ci/run)")
    port = str(database.get("PORT") or 5432)
    listed = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=False
    )
    for line in listed.stdout.splitlines():
        version, name, cluster_port, *_ = line.split()
        if cluster_port == port:
            return version, name
    reason = f"no local cluster listens on port {port} (pg_lsclusters: {listed.stdout!r})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def restart(cluster: tuple[str, str]) -> None:
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster, "restart"],
        check=True,
        capture_output=True,
        timeout=120,
    )


def wait_until_mid_file(run: Run, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        live = cache.get(live_cache_key(run.pk))
        if live and 0 < live["progress"] < 80:
            return
        time.sleep(0.1)
    raise AssertionError("the import never got mid-file")


def test_a_run_whose_database_restarts_fails_cleanly_and_the_worker_takes_the_rerun(
    postgres_cluster, worker_process, tmp_path, transactional_db
):
    user = UserFactory(username="importer")
    project = ProjectFactory(name="Restarted", label_set=["ham", "spam"])
    csv = tmp_path / "messages.csv"
    lines = (f"message number {n},{('ham', 'spam')[n % 2]}" for n in range(ROWS))
    csv.write_text("text,label\n" + "\n".join(lines) + "\n")

    first = import_start(project=project, path=csv, options=ImportOptions(), created_by=user)
    worker = worker_process(ASSAY_TEST_PROGRESS_DELAY="0.5")
    wait_until_mid_file(first)
    restart(postgres_cluster)
    connection.close()  # this process's connection died too; Django opens a new one
    out, err = worker.communicate(timeout=180)

    assert worker.returncode == 0, err[-3000:]
    first.refresh_from_db()
    assert first.status == RunStatus.FAILED
    assert first.error.startswith("Unexpected error: OperationalError")
    assert Example.objects.filter(project=project).count() == 0

    rerun = import_start(project=project, path=csv, options=ImportOptions(), created_by=user)
    out, err = worker_process().communicate(timeout=180)

    rerun.refresh_from_db()
    assert rerun.status == RunStatus.SUCCEEDED, (rerun.error, err[-3000:])
    assert Example.objects.filter(project=project).count() == ROWS
