"""Deployments, application keys and the request log as services (fake engine)."""

import sqlite3
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from curation.exceptions import AssayError
from curation.models import AuditEvent, RunStatus
from serving.core.engine import Decoding, EngineError
from serving.models import Deployment, RequestLog
from serving.services import engines, request_log
from serving.services.applications import application_revoke
from serving.services.deployments import (
    deployment_start,
    deployment_start_retry,
    deployment_stop,
)
from serving.services.experiments import experiment_create
from serving.services.request_log import redact, request_log_enqueue, request_log_prune
from tests.factories import ProjectFactory
from tests.prometheus import scrape
from tests.serving.helpers import FakeEngine, active_deployment, app_key, finished_training_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_engine(monkeypatch) -> FakeEngine:
    fake = FakeEngine()
    monkeypatch.setattr(engines, "_builtin", fake)
    return fake


@pytest.fixture
def generation_run(tmp_path):
    project = ProjectFactory(
        task_type="generation", label_set=[], field_schema=["prompt", "response"]
    )
    return finished_training_run(project, base=str(tmp_path), adapter=None)


def test_a_deployment_starts_active_and_is_audited(
    fake_engine, generation_run, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        deployment = deployment_start(training_run=generation_run, name="bot-v1")

    deployment.refresh_from_db()
    assert deployment.status == "active" and deployment.run.status == RunStatus.SUCCEEDED
    assert "smoke request answered" in deployment.run.log
    assert AuditEvent.objects.filter(action="deployment.start").exists()


def test_a_deployment_whose_start_failed_is_started_again_but_an_active_one_is_not(
    fake_engine, generation_run, django_capture_on_commit_callbacks
):
    deployment = deployment_start(training_run=generation_run, name="bot-v1")  # not run yet
    Deployment.objects.filter(pk=deployment.pk).update(status="failed", error="no memory")
    deployment.run.status = RunStatus.FAILED
    deployment.run.save(update_fields=["status"])

    with django_capture_on_commit_callbacks(execute=True):
        deployment_start_retry(deployment=deployment)

    deployment.refresh_from_db()
    assert (deployment.status, deployment.error) == ("active", "")
    assert deployment.run.status == RunStatus.SUCCEEDED
    assert AuditEvent.objects.filter(action="deployment.retry").count() == 1
    with pytest.raises(AssayError, match="'bot-v1' is active"):
        deployment_start_retry(deployment=deployment)


def test_a_failed_deployment_is_restarted_through_the_api(
    fake_engine, generation_run, django_capture_on_commit_callbacks
):
    from curation.services.api_tokens import api_token_create
    from tests.factories import MembershipFactory, UserFactory

    deployment = deployment_start(training_run=generation_run, name="bot-v1")  # not run yet
    Deployment.objects.filter(pk=deployment.pk).update(status="failed", error="no memory")
    deployment.run.status = RunStatus.FAILED
    deployment.run.save(update_fields=["status"])
    mel = UserFactory(username="mel")
    MembershipFactory(project=generation_run.project, user=mel, role="ml_engineer")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=mel, name='t')[1]}")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/deployments/{deployment.pk}/restart")
    again = client.post(f"/api/deployments/{deployment.pk}/restart")

    assert response.status_code == 202
    assert Deployment.objects.get(pk=deployment.pk).status == "active"
    assert again.status_code == 400
    assert "only a deployment whose start failed" in again.json()["detail"]


@pytest.mark.parametrize(
    ("name", "message"),
    [("Bad Name!", "not a usable model name"), ("", "not a usable model name")],
)
def test_a_bad_deployment_name_is_refused(fake_engine, generation_run, name, message):
    with pytest.raises(AssayError, match=message):
        deployment_start(training_run=generation_run, name=name)
    assert not Deployment.objects.exists()


def test_a_taken_name_an_unfinished_run_and_a_wrong_engine_are_refused(fake_engine, generation_run):
    deployment_start(training_run=generation_run, name="bot")
    with pytest.raises(AssayError, match="taken"):
        deployment_start(training_run=generation_run, name="bot")
    with pytest.raises(AssayError, match="Unknown engine 'tgi'"):
        deployment_start(training_run=generation_run, name="bot-2", engine="tgi")
    generation_run.run.status = RunStatus.FAILED
    generation_run.run.save()
    with pytest.raises(AssayError, match="has not finished"):
        deployment_start(training_run=generation_run, name="bot-3")
    assert Deployment.objects.count() == 1


def test_vllm_refuses_classification_models(fake_engine, tmp_path):
    project = ProjectFactory(label_set=["ham", "spam"])
    run = finished_training_run(project, base=str(tmp_path), adapter=None, labels=("ham", "spam"))
    with pytest.raises(AssayError, match="built-in engine"):
        deployment_start(training_run=run, name="clf", engine="vllm")


def test_a_deployment_in_a_running_experiment_cannot_be_stopped(fake_engine, generation_run):
    champion = active_deployment(generation_run, "bot-v1")
    active_deployment(generation_run, "bot-v2")
    experiment_create(
        project=generation_run.project,
        name="bot",
        variants=[{"deployment": "bot-v1", "weight": 0.5}, {"deployment": "bot-v2", "weight": 0.5}],
        primary_metric="thumbs",
    )
    with pytest.raises(AssayError, match="serves running experiment"):
        deployment_stop(deployment=champion)
    assert Deployment.objects.get(name="bot-v1").status == "active"


def test_a_stopped_deployment_no_longer_answers(fake_engine, generation_run):
    deployment = active_deployment(generation_run, "bot-v1")
    _app, key = app_key(generation_run.project)
    deployment_stop(deployment=deployment)
    response = Client(headers={"authorization": f"Bearer {key}"}).post(
        "/v1/chat/completions",
        {"model": "bot-v1", "messages": [{"role": "user", "content": "hi"}]},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert "is not active" in response.json()["error"]["message"]


def test_a_revoked_key_is_refused(fake_engine, generation_run):
    active_deployment(generation_run, "bot-v1")
    application, key = app_key(generation_run.project)
    application_revoke(application=application)
    response = Client(headers={"authorization": f"Bearer {key}"}).get("/v1/models")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_a_key_only_reaches_its_own_projects_models(fake_engine, generation_run, tmp_path):
    active_deployment(generation_run, "bot-v1")
    other = ProjectFactory(
        task_type="generation", label_set=[], field_schema=["prompt", "response"]
    )
    _app, key = app_key(other)
    response = Client(headers={"authorization": f"Bearer {key}"}).post(
        "/v1/chat/completions",
        {"model": "bot-v1", "messages": [{"role": "user", "content": "hi"}]},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_personal_data_is_redacted_before_it_is_stored(fake_engine, generation_run, settings):
    settings.SERVING_REDACT_PII = True
    active_deployment(generation_run, "bot-v1")
    _app, key = app_key(generation_run.project)
    text = "Mail jane.doe@example.com or call 555-123-4567, card 4111 1111 1111 1111"
    Client(headers={"authorization": f"Bearer {key}"}).post(
        "/v1/chat/completions",
        {"model": "bot-v1", "messages": [{"role": "user", "content": text}]},
        content_type="application/json",
    )
    stored = RequestLog.objects.get().input["messages"][0]["content"]
    assert stored == "Mail [EMAIL] or call [PHONE], card [CARD]"
    assert redact("no personal data here") == "no personal data here"


def test_the_retention_deletes_only_old_requests(generation_run):
    deployment = active_deployment(generation_run, "bot-v1")
    for age_days in (1, 100):
        request_log_enqueue(
            {
                "request_id": f"req_{age_days}",
                "project_id": generation_run.project_id,
                "deployment_id": deployment.pk,
                "endpoint": "chat",
                "input": {},
                "output": {},
                "created_at": timezone.now() - timedelta(days=age_days),
            }
        )
    assert request_log_prune(days=90) == 1
    assert list(RequestLog.objects.values_list("request_id", flat=True)) == ["req_1"]


def test_logged_requests_wait_out_a_long_write_lock_instead_of_being_lost(
    transactional_db, monkeypatch, tmp_path
):
    if connection.vendor != "sqlite":
        pytest.skip("only SQLite has one write lock for the whole database")
    project = ProjectFactory(task_type="generation", label_set=[], field_schema=["prompt"])
    deployment = active_deployment(
        finished_training_run(project, base=str(tmp_path), adapter=None), "bot-v1"
    )
    # Each try gives up on the lock quickly, so the test sees several retries in a second.
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "timeout", 0.2)
    monkeypatch.setattr(request_log, "RETRY_PAUSE_SECONDS", 0.1)
    row = {
        "request_id": "req_during_import",
        "project_id": project.pk,
        "deployment_id": deployment.pk,
        "endpoint": "chat",
        "input": {},
        "output": {},
        "created_at": timezone.now(),
    }
    import_like = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    import_like.execute("BEGIN IMMEDIATE")  # what a long import holds

    writer = request_log.RequestLogWriter()
    writer.put(row)
    time.sleep(1.5)
    import_like.rollback()
    import_like.close()

    deadline = time.monotonic() + 10
    while not RequestLog.objects.filter(request_id="req_during_import").exists():
        assert time.monotonic() < deadline, "the logged request was lost"
        time.sleep(0.1)


def _chat_request(key: str, **fields):
    return Client(headers={"authorization": f"Bearer {key}"}).post(
        "/v1/chat/completions",
        {"model": "bot-v1", "messages": [{"role": "user", "content": "hi"}], **fields},
        content_type="application/json",
    )


def test_serving_decodes_as_the_run_was_evaluated_and_requests_override_openai_fields(
    fake_engine, generation_run
):
    generation_run.config = {**generation_run.config, "num_beams": 4, "length_penalty": 0.7}
    generation_run.save()
    deployment = deployment_start(training_run=generation_run, name="bot-v1")
    assert deployment.decoding == {
        "max_tokens": 8,
        "num_beams": 4,
        "length_penalty": 0.7,
        "temperature": 0.0,
        "top_p": 1.0,
    }
    Deployment.objects.filter(pk=deployment.pk).update(status=Deployment.Status.ACTIVE)
    _app, key = app_key(generation_run.project)

    assert _chat_request(key).status_code == 200
    assert fake_engine.decodings[-1] == Decoding(max_tokens=8, num_beams=4, length_penalty=0.7)
    assert _chat_request(key, temperature=0.9, top_p=0.5).status_code == 200
    sampled = fake_engine.decodings[-1]
    assert (sampled.strategy, sampled.temperature, sampled.top_p) == ("sample", 0.9, 0.5)
    bad = _chat_request(key, top_p=1.5)
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "top_p"


def test_bad_deployment_decoding_and_beams_on_vllm_are_refused(fake_engine, generation_run):
    with pytest.raises(AssayError, match="'num_beams' must be between 1 and 16, got 0"):
        deployment_start(training_run=generation_run, name="bot", decoding={"num_beams": 0})
    with pytest.raises(AssayError, match="vLLM engine does not do beam search"):
        deployment_start(
            training_run=generation_run, name="bot", engine="vllm", decoding={"num_beams": 3}
        )
    assert not Deployment.objects.exists()
    deployment = deployment_start(
        training_run=generation_run, name="bot", decoding={"temperature": 0.6, "top_p": 0.9}
    )
    assert deployment.decoding_description == "sampling (temperature 0.6, top_p 0.9)"


def test_run_and_deployment_pages_say_how_they_decode(fake_engine, generation_run):
    from django.urls import reverse

    from tests.factories import UserFactory

    generation_run.config = {**generation_run.config, "num_beams": 4}
    generation_run.save()
    deployment = deployment_start(
        training_run=generation_run, name="bot", decoding={"length_penalty": 0.6}
    )
    client = Client()
    client.force_login(UserFactory(is_superuser=True))

    run_page = client.get(reverse("training-run-detail", args=[generation_run.pk]))
    assert "beam search (4 beams, length penalty 1)" in run_page.content.decode()
    deployment_page = client.get(reverse("deployment-detail", args=[deployment.pk]))
    assert "beam search (4 beams, length penalty 0.6)" in deployment_page.content.decode()


def test_metrics_count_served_latency_and_tokens_per_deployment(
    fake_engine, generation_run, monkeypatch
):
    active_deployment(generation_run, "bot-v1")
    _app, key = app_key(generation_run.project)
    before = scrape(Client())

    answered = [_chat_request(key) for _ in range(2)]
    refused = _chat_request(key, temperature=5)  # never reaches an engine: not served

    def out_of_memory(*args, **kwargs):
        raise EngineError("out of memory")

    monkeypatch.setattr(fake_engine, "chat", out_of_memory)
    failed = _chat_request(key)
    after = scrape(Client())

    assert [r.status_code for r in (*answered, refused, failed)] == [200, 200, 400, 503]

    def added(name: str, **labels) -> float:
        key = tuple(sorted({"deployment": "bot-v1", "endpoint": "chat", **labels}.items()))
        return after.get(name, {}).get(key, 0) - before.get(name, {}).get(key, 0)

    assert added("assay_serving_request_seconds_count", outcome="ok") == 2
    assert added("assay_serving_request_seconds_count", outcome="error") == 1
    assert added("assay_serving_request_seconds_sum", outcome="ok") > 0
    assert added("assay_serving_request_seconds_bucket", outcome="ok", le="+Inf") == 2
    # The fake engine reads one token per message and writes four.
    assert added("assay_serving_tokens_total", kind="prompt") == 2
    assert added("assay_serving_tokens_total", kind="completion") == 8
