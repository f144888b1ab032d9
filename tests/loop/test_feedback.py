"""Production feedback back into curation: a correction sent through the events API is a
pending feedback example, reaches Label Studio with the model's output pre-filled, and
enters a version only once accepted; bad input changes nothing; a duplicate counts once."""

import pytest
from django.test import Client

from curation.exceptions import AssayError
from curation.models import Example, ReviewStatus
from curation.services.readiness import readiness_report
from curation.services.versions import dataset_version_build
from labeling.core.label_config import classification_result
from labeling.services.pull import label_studio_pull
from loop.models import LoopPolicy
from loop.services.feedback import (
    feedback_example_accept,
    feedback_example_reject,
    feedback_push_pending,
    feedback_reviews_apply,
)
from serving.models import FeedbackEvent, RequestLog
from serving.services import engines
from tests.factories import ExampleFactory, ProjectFactory, UserFactory
from tests.serving.helpers import FakeEngine, active_deployment, app_key, finished_training_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def served(monkeypatch, tmp_path):
    monkeypatch.setattr(engines, "_builtin", FakeEngine())
    project = ProjectFactory(label_set=["ham", "spam"])
    for n in range(12):
        ExampleFactory(project=project, fields={"text": f"known text {n}"},
                       resolved_label=("ham", "spam")[n % 2])  # fmt: skip
    run = finished_training_run(project, base=str(tmp_path), adapter=None, labels=["ham", "spam"])
    active_deployment(run, "spam-v1")
    _app, key = app_key(project)
    return {"project": project, "client": Client(headers={"authorization": f"Bearer {key}"})}


def _classify(client, text: str) -> str:
    response = client.post("/v1/classifications", {"model": "spam-v1", "input": text},
                           content_type="application/json")  # fmt: skip
    assert response.status_code == 200, response.json()
    return response.json()["id"]


def _event(client, body: dict):
    return client.post("/v1/feedback", body, content_type="application/json")


def test_a_correction_is_a_pending_feedback_example_with_its_provenance(served):
    request_id = _classify(served["client"], "WIN a free cruise now")

    answer = _event(served["client"], {"request_id": request_id, "event": "correction",
                                       "correction": "spam", "event_id": "e1"})  # fmt: skip

    assert answer.status_code == 200
    example = Example.objects.get(source="feedback")
    assert example.fields == {"text": "WIN a free cruise now"}
    assert example.review_status == ReviewStatus.PENDING
    log = RequestLog.objects.get(request_id=request_id)
    assert example.provenance["request_id"] == request_id
    assert example.provenance["deployment"] == "spam-v1"
    assert example.provenance["training_run_id"] == log.training_run_id
    assert example.provenance["original_output"] == "ham"  # the fake engine's first label
    assert example.labels.get().origin == "model"  # the model's output, pre-annotated


def test_a_duplicate_event_counts_once_and_thumbs_up_makes_no_example(served):
    request_id = _classify(served["client"], "lunch at noon?")
    body = {"request_id": request_id, "event": "thumbs", "value": 0, "event_id": "same"}
    first, second = _event(served["client"], body), _event(served["client"], body)
    _event(served["client"], {"request_id": _classify(served["client"], "hi"), "event": "thumbs",
                              "value": 1})  # fmt: skip

    assert (first.json()["duplicate"], second.json()["duplicate"]) == (False, True)
    assert FeedbackEvent.objects.filter(event_id="same").count() == 1
    assert Example.objects.filter(source="feedback").count() == 1


def test_bad_events_get_a_clear_error_and_change_nothing(served):
    before = (Example.objects.count(), FeedbackEvent.objects.count())
    unknown = _event(served["client"], {"request_id": "nope", "event": "correction",
                                        "correction": "spam"})  # fmt: skip
    empty = _event(served["client"], {"request_id": _classify(served["client"], "x"),
                                      "event": "correction", "correction": " "})  # fmt: skip

    assert unknown.status_code == 404 and "No request 'nope'" in unknown.json()["error"]["message"]
    assert empty.status_code == 400 and "corrected text" in empty.json()["error"]["message"]
    assert (Example.objects.count(), FeedbackEvent.objects.count()) == before


def test_pending_feedback_enters_a_version_only_once_accepted_on_the_page(served):
    project = served["project"]
    lead = UserFactory(is_superuser=True)
    ids = [_classify(served["client"], f"claim your prize {n}") for n in range(2)]
    for n, request_id in enumerate(ids):
        _event(served["client"], {"request_id": request_id, "event": "correction",
                                  "correction": "spam", "event_id": f"c{n}"})  # fmt: skip
    accepted, rejected = Example.objects.filter(source="feedback").order_by("pk")

    draft = dataset_version_build(project=project, seed=1)
    assert not draft.members.filter(source="feedback").exists()

    feedback_example_accept(example=accepted, user=lead)
    feedback_example_reject(example=rejected, user=lead, note="not spam after all")
    with pytest.raises(AssayError, match="already reviewed"):
        feedback_example_accept(example=rejected, user=lead)
    version = dataset_version_build(project=project, seed=1)

    member = version.members.get(source="feedback")
    assert (member.external_id, member.label) == (accepted.external_id, "spam")
    check = next(c for c in readiness_report(version)["checks"] if c["name"] == "feedback")
    assert check["status"] == "pass" and check["data"]["count"] == 1


def test_accepting_with_a_label_outside_the_label_set_is_refused(served):
    _event(served["client"], {"request_id": _classify(served["client"], "x"), "event": "thumbs",
                              "value": 0})  # fmt: skip
    example = Example.objects.get(source="feedback")
    with pytest.raises(AssayError, match="not in the label set"):
        feedback_example_accept(example=example, user=UserFactory(is_superuser=True),
                                label="eggs")  # fmt: skip
    example.refresh_from_db()
    assert example.review_status == ReviewStatus.PENDING


def test_a_correction_reaches_label_studio_and_only_its_acceptance_versions_it(
    served, linked, ls_client, label_studio_server, settings, django_capture_on_commit_callbacks
):
    """End to end against the real Label Studio server."""
    settings.LABEL_STUDIO_URL = label_studio_server.url
    settings.LABEL_STUDIO_TOKEN = label_studio_server.token
    project = served["project"]
    link = linked(project)
    LoopPolicy.objects.create(project=project, feedback_batch_size=2)
    first = _classify(served["client"], "URGENT you won a prize call now")
    _event(served["client"], {"request_id": first, "event": "correction", "correction": "spam"})
    assert feedback_push_pending(project=project) is None  # below the batch size
    second = _classify(served["client"], "see you at the pub")
    _event(served["client"], {"request_id": second, "event": "thumbs", "value": 0})

    with django_capture_on_commit_callbacks(execute=True):
        run = feedback_push_pending(project=project)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error

    tasks = {t.external_id: t for t in ls_client.tasks_iter(link.ls_project_id)}
    assert set(tasks) == {f"feedback-{first}", f"feedback-{second}"}
    (prediction,) = ls_client.task_predictions(tasks[f"feedback-{first}"].id)
    assert prediction.result[0]["value"]["choices"] == ["ham"]  # the model's output
    assert prediction.model_version == "deployment:spam-v1"

    ls_client.annotation_create(tasks[f"feedback-{first}"].id,
                                result=classification_result("spam", to_name="text"))  # fmt: skip
    before = dataset_version_build(project=project, seed=2)
    assert not before.members.filter(source="feedback").exists()  # pulled nothing yet

    label_studio_pull(project=project, client=ls_client)
    assert feedback_reviews_apply(project=project) == {"accepted": 1, "corrected": 0,
                                                       "rejected": 0}  # fmt: skip
    after = dataset_version_build(project=project, seed=2)

    member = after.members.get(source="feedback")
    assert (member.external_id, member.label) == (f"feedback-{first}", "spam")
    still = Example.objects.get(external_id=f"feedback-{second}")
    assert still.review_status == ReviewStatus.PENDING
