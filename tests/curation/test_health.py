"""/healthz, /readyz and /metrics: what probes, load balancers and Prometheus see."""

from datetime import timedelta

import pytest
from django.utils import timezone

from curation.models import Run, RunStatus
from tests.factories import ProjectFactory
from tests.prometheus import scrape

pytestmark = pytest.mark.django_db


def make_run(project, kind: str, status: str, *, seconds: float | None = None, waited=0.0):
    now = timezone.now()
    run = Run.objects.create(kind=kind, target=project, project=project, status=status)
    started = now - timedelta(seconds=seconds) if seconds is not None else None
    Run.objects.filter(pk=run.pk).update(
        created_at=now - timedelta(seconds=waited),
        started_at=started,
        finished_at=now if seconds is not None else None,
    )
    return run


def test_healthz_answers_without_credentials_or_a_database_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_reports_each_dependency(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache"}
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["database"]["required"] is True
    assert body["checks"]["database"]["seconds"] >= 0


def test_readyz_is_503_naming_an_unreachable_redis_queue(client, settings):
    settings.TASK_BACKEND = "rq"
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    settings.READINESS_TIMEOUT_SECONDS = 0.5

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["queue"]["ok"] is False
    assert body["checks"]["queue"]["error"] == "ConnectionError"
    assert body["checks"]["database"]["ok"] is True
    assert "127.0.0.1:1" not in response.content.decode()  # addresses stay in the log


@pytest.mark.redis
def test_readyz_checks_the_real_redis_queue(client, settings):
    settings.TASK_BACKEND = "rq"

    response = client.get("/readyz")

    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["queue"]["ok"] is True


def test_an_unreachable_label_studio_is_reported_but_keeps_the_site_ready(client, settings):
    settings.LABEL_STUDIO_ENABLED = True
    settings.LABEL_STUDIO_URL = "http://127.0.0.1:1"
    settings.READINESS_TIMEOUT_SECONDS = 0.5

    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["label_studio"] == {
        "ok": False,
        "required": False,
        "seconds": body["checks"]["label_studio"]["seconds"],
        "error": "ConnectionError",
    }


def test_metrics_count_runs_by_kind_and_status_with_queue_depth_and_durations(client):
    project = ProjectFactory()
    make_run(project, "import", RunStatus.SUCCEEDED, seconds=3)
    make_run(project, "import", RunStatus.FAILED, seconds=120)
    make_run(project, "version_build", RunStatus.QUEUED, waited=40)
    client.get("/healthz")  # a request for the latency histogram

    samples = scrape(client)

    runs = samples["assay_runs"]
    assert runs[(("kind", "import"), ("status", "succeeded"))] == 1
    assert runs[(("kind", "import"), ("status", "failed"))] == 1
    assert samples["assay_run_queue_depth"] == {(("kind", "version_build"),): 1}
    assert samples["assay_run_queue_oldest_seconds"][(("kind", "version_build"),)] >= 40
    ok = (("kind", "import"), ("status", "succeeded"))
    assert samples["assay_run_duration_seconds_count"][ok] == 1
    assert samples["assay_run_duration_seconds_sum"][ok] == pytest.approx(3, abs=0.01)
    buckets = samples["assay_run_duration_seconds_bucket"]
    assert buckets[(*ok[:1], ("le", "1.0"), *ok[1:])] == 0
    assert buckets[(*ok[:1], ("le", "5.0"), *ok[1:])] == 1
    failed = (("kind", "import"), ("le", "60.0"), ("status", "failed"))
    assert buckets[failed] == 0
    latency = samples["django_http_requests_latency_seconds_by_view_method_count"]
    assert latency[(("method", "GET"), ("view", "healthz"))] >= 1


def test_metrics_ask_for_the_token_when_one_is_set(client, settings):
    settings.METRICS_TOKEN = "s3cret"

    refused = client.get("/metrics")
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    allowed = client.get("/metrics", headers={"Authorization": "Bearer s3cret"})

    assert (refused.status_code, wrong.status_code) == (401, 401)
    assert allowed.status_code == 200
    assert b"# HELP assay_runs " in allowed.content


def test_probes_answer_get_only(client):
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405
