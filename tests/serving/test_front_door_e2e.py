"""The front door end to end: a run is deployed from its page and through the API, a real
Assay server process answers the official `openai` client with the built-in engine, for
generation and classification; feedback is accepted; the request log is written by the
server's background writer; bad input gets OpenAI-shaped errors and logs nothing."""

import time

import openai
import pytest
from django.test import Client

from serving.core.engine import Decoding, ModelSpec
from serving.engines.builtin import BuiltinEngine
from serving.models import Deployment, FeedbackEvent, RequestLog
from tests.factories import ProjectFactory, UserFactory
from tests.serving.helpers import app_key, finished_training_run

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _wait_for_log(request_id: str) -> RequestLog:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        row = RequestLog.objects.filter(request_id=request_id).first()
        if row is not None:
            return row
        time.sleep(0.1)
    pytest.fail(f"request {request_id} never reached the request log")


def test_openai_client_chats_with_a_run_deployed_from_its_page(
    assay_server, tiny_llama, tiny_llama_adapters
):
    project = ProjectFactory(
        task_type="generation", label_set=[], field_schema=["prompt", "response"]
    )
    training_run = finished_training_run(project, base=tiny_llama, adapter=tiny_llama_adapters[0])
    engineer = UserFactory(is_superuser=True)
    page = Client()
    page.force_login(engineer)

    response = page.post(
        f"/training/{training_run.pk}/deploy/", {"name": "tiny-chat", "engine": "builtin"}
    )

    deployment = Deployment.objects.get(name="tiny-chat")
    assert response.status_code == 302 and response["Location"] == f"/deployments/{deployment.pk}/"
    assert deployment.status == "active", deployment.error  # the start run loaded it and answered
    _app, key = app_key(project, "support-bot")
    client = openai.OpenAI(base_url=f"{assay_server}/v1", api_key=key, max_retries=0)

    answer = client.chat.completions.create(
        model="tiny-chat",
        messages=[{"role": "user", "content": "name[Zizzi], food[French]"}],
        user="user-42",
        max_tokens=6,
    )

    reference = BuiltinEngine()
    reference.load(ModelSpec("ref", "generation", tiny_llama, tiny_llama_adapters[0]))
    same = reference.chat(
        "ref", [{"role": "user", "content": "name[Zizzi], food[French]"}], Decoding(max_tokens=6)
    )
    assert answer.choices[0].message.content == same.text  # the adapter answered, greedily
    assert answer.usage.completion_tokens == same.completion_tokens > 0
    assert answer.id.startswith("req_")
    assert [m.id for m in client.models.list().data] == ["tiny-chat"]

    logged = _wait_for_log(answer.id)
    assert (logged.unit_key, logged.deployment_id) == ("user-42", deployment.pk)
    assert logged.training_run_id == training_run.pk and logged.latency_ms > 0
    assert logged.output["text"] == same.text

    feedback = client.post(
        "/feedback",
        body={"request_id": answer.id, "event": "thumbs", "value": "up", "event_id": "e1"},
        cast_to=object,
    )
    assert feedback["duplicate"] is False and FeedbackEvent.objects.get().value == 1.0


def test_openai_client_classifies_with_a_run_deployed_through_the_api(
    assay_server, tiny_bert, tiny_bert_adapter
):
    project = ProjectFactory(label_set=["ham", "spam"])
    training_run = finished_training_run(
        project, base=tiny_bert, adapter=tiny_bert_adapter, labels=("ham", "spam")
    )
    api = Client()
    api.force_login(UserFactory(is_superuser=True))
    created = api.post(
        f"/api/training-runs/{training_run.pk}/deployments",
        {"name": "spam-filter"},
        content_type="application/json",
    )
    assert created.status_code == 202, created.json()
    assert Deployment.objects.get(name="spam-filter").status == "active"
    _app, key = app_key(project)
    client = openai.OpenAI(base_url=f"{assay_server}/v1", api_key=key, max_retries=0)

    result = client.post(
        "/classifications",
        body={"model": "spam-filter", "input": ["win a free prize now", "the pub by the river"]},
        cast_to=object,
    )

    assert [row["label"] in ("ham", "spam") for row in result["data"]] == [True, True]
    for row in result["data"]:
        assert set(row["probabilities"]) == {"ham", "spam"}
        assert sum(row["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
        assert row["label"] == max(row["probabilities"], key=row["probabilities"].get)
    assert _wait_for_log(result["id"]).output["labels"] == [r["label"] for r in result["data"]]


def test_bad_requests_get_openai_errors_and_nothing_is_logged(
    assay_server, tiny_llama, tiny_llama_adapters
):
    project = ProjectFactory(
        task_type="generation", label_set=[], field_schema=["prompt", "response"]
    )
    training_run = finished_training_run(project, base=tiny_llama, adapter=tiny_llama_adapters[1])
    from serving.services.deployments import deployment_start

    deployment_start(training_run=training_run, name="tiny-two")
    _app, key = app_key(project)
    client = openai.OpenAI(base_url=f"{assay_server}/v1", api_key=key, max_retries=0)
    good = [{"role": "user", "content": "hello"}]

    with pytest.raises(openai.AuthenticationError, match="unknown application key"):
        openai.OpenAI(
            base_url=f"{assay_server}/v1", api_key="assay_app_wrong", max_retries=0
        ).chat.completions.create(model="tiny-two", messages=good)
    with pytest.raises(openai.NotFoundError, match="'gpt-4' does not exist.*Available: tiny-two"):
        client.chat.completions.create(model="gpt-4", messages=good)
    with pytest.raises(openai.BadRequestError, match=r"messages\[0\] needs a 'role'"):
        client.chat.completions.create(
            model="tiny-two", messages=[{"role": "robot", "content": "x"}]
        )
    with pytest.raises(openai.BadRequestError, match="'max_tokens' must be between 1 and 4096"):
        client.chat.completions.create(model="tiny-two", messages=good, max_tokens=0)
    with pytest.raises(openai.BadRequestError, match="is a generation model"):
        client.post("/classifications", body={"model": "tiny-two", "input": "x"}, cast_to=object)
    with pytest.raises(openai.NotFoundError, match="No request 'req_missing'"):
        client.post(
            "/feedback", body={"request_id": "req_missing", "event": "thumbs"}, cast_to=object
        )

    time.sleep(0.6)  # longer than the log writer's flush interval
    assert RequestLog.objects.count() == 0 and FeedbackEvent.objects.count() == 0
