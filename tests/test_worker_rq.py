"""The RQ task backend: a run enqueued through Django's task API lands on the Redis queue and
an RQ worker (burst mode, in this process) executes it.

CI runs these with ``ASSAY_TASK_BACKEND=rq`` (``pytest -m redis``); the fixture below
configures the same backend when the suite runs with the default one, so they pass either way.
"""

import os

import pytest
import redis
from django.conf import settings as django_settings

from curation.models import Run, RunStatus
from curation.services.runs import RUN_KINDS, RunKind, run_enqueue
from tests.factories import ProjectFactory
from tests.worker_handlers import CRASH_KIND, ECHO_KIND, GPU_ECHO_KIND, TEST_HANDLERS

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

# A Redis database of its own: a developer's `assay_serve` worker on the same Redis must
# not take (and run against the wrong database) the jobs the tests enqueue.
TEST_REDIS_DB = 15


@pytest.fixture
def redis_url() -> str:
    url = django_settings.REDIS_URL
    try:
        redis.Redis.from_url(url, db=TEST_REDIS_DB, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but Redis at {url} is unreachable: {exc}")
        pytest.skip(f"Redis at {url} is unreachable ({exc}); start redis-server to run this")
    return url


@pytest.fixture
def rq_queue(settings, redis_url, monkeypatch):
    """The RQ backend on the test Redis database, with the test run kinds registered."""
    import django_rq

    settings.RQ_QUEUES = {
        name: {"URL": redis_url, "DB": TEST_REDIS_DB, "DEFAULT_TIMEOUT": 600}
        for name in settings.TASK_QUEUES
    }
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": settings.TASK_QUEUES}
    }
    for kind, dotted_path in TEST_HANDLERS.items():
        monkeypatch.setitem(RUN_KINDS, kind, RunKind(handler=dotted_path, title=kind))
    queues = [django_rq.get_queue(name) for name in settings.TASK_QUEUES]
    for queue in queues:
        queue.empty()
    yield django_rq.get_queue("default")
    for queue in queues:
        queue.empty()


def work_burst(queue) -> None:
    from django_tasks_rq import Job
    from rq import SimpleWorker

    SimpleWorker([queue], connection=queue.connection, job_class=Job).work(burst=True)


def test_rq_worker_executes_an_enqueued_run(rq_queue):
    project = ProjectFactory()
    run = run_enqueue(kind=ECHO_KIND, target=project, project=project, params={"via": "rq"})
    assert rq_queue.count == 1
    assert Run.objects.get(pk=run.pk).status == RunStatus.QUEUED

    work_burst(rq_queue)

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.result["echo"] == {"via": "rq"}
    assert rq_queue.count == 0
    assert run.task_id and rq_queue.fetch_job(run.task_id).is_finished


def test_rq_worker_records_a_crash_on_the_run(rq_queue):
    project = ProjectFactory()
    run = run_enqueue(kind=CRASH_KIND, target=project, project=project)

    work_burst(rq_queue)

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "handler crashed on purpose" in run.error
    assert "Traceback" in run.log


def test_runs_land_on_the_rq_queue_their_kind_is_routed_to(rq_queue, settings):
    import django_rq

    settings.RUN_QUEUES = {**settings.RUN_QUEUES, GPU_ECHO_KIND: "gpu"}
    gpu_queue = django_rq.get_queue("gpu")
    project = ProjectFactory()
    on_default = run_enqueue(kind=ECHO_KIND, target=project, project=project)
    on_gpu = run_enqueue(kind=GPU_ECHO_KIND, target=project, project=project)
    real = {"lf_apply": "cpu-heavy", "quality_check": "cpu-heavy", "training": "gpu"}
    for kind, queue in real.items():  # routed, then taken off: their handlers are not run here
        task_id = Run.objects.get(
            pk=run_enqueue(kind=kind, target=project, project=project).pk
        ).task_id
        assert task_id in django_rq.get_queue(queue).job_ids, kind
        django_rq.get_queue(queue).remove(task_id)

    work_burst(gpu_queue)  # the GPU machine's worker

    on_default.refresh_from_db()
    on_gpu.refresh_from_db()
    assert (on_gpu.status, on_default.status) == (RunStatus.SUCCEEDED, RunStatus.QUEUED)

    work_burst(rq_queue)  # the CPU machine's worker, on "default"

    on_default.refresh_from_db()
    assert on_default.status == RunStatus.SUCCEEDED
    assert rq_queue.fetch_job(on_default.task_id).origin == "default"
    assert gpu_queue.fetch_job(on_gpu.task_id).origin == "gpu"
