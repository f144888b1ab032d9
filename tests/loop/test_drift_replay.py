"""The small drift replay, every step through Assay's services on CPU: a classifier
trained on ham and one kind of spam is served; requests of a kind of spam it never saw
raise the drift alert, the drift trigger fires, and a draft version waits for approval.
Nothing trains until a data lead approves it; then the champion's config trains a new
model, it is compared with the champion on the new test split, and a challenger
experiment is proposed."""

import random

import pytest
from django.test import Client

from curation.models import Example
from curation.services.versions import dataset_version_approve
from loop.models import Alert, LoopPolicy, RetrainingCycle
from loop.services.monitoring import monitoring_snapshot_compute
from loop.services.tick import loop_tick
from loop.services.triggers import retraining_trigger_create
from serving.models import Deployment
from tests.factories import ExampleFactory, ProjectFactory, UserFactory
from tests.serving.helpers import active_deployment, app_key, finished_training_run
from tests.training.conftest import tiny_values
from training.models import TrainingRun
from training.services.launch import training_config_for

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

# Words the tiny test tokenizer knows (tests/training/conftest.py), so the tiny model can
# learn them in a few steps.
HAM = "the a pub river near food good".split()
OLD_SPAM = "win prize free click now".split()
NEW_SPAM = "cheap pricey city centre cafe bad".split()


def _text(rng, words):
    return " ".join(rng.choice(words) for _ in range(6))


@pytest.fixture
def world(tiny_bert, tiny_bert_adapter, settings):
    settings.LOOP_EMBEDDINGS = "hashing"
    project = ProjectFactory(label_set=["ham", "spam"], min_version_size=10)
    rng = random.Random(0)
    for n in range(40):
        spam = n % 2 == 1
        ExampleFactory(project=project, fields={"text": f"{_text(rng, OLD_SPAM if spam else HAM)}"},
                       resolved_label="spam" if spam else "ham")  # fmt: skip
    run = finished_training_run(project, base=tiny_bert, adapter=tiny_bert_adapter,
                                labels=["ham", "spam"])  # fmt: skip
    config = training_config_for(version=run.version, values=tiny_values(
        tiny_bert, method="full", max_steps=40, eval_steps=20, learning_rate=5e-3))  # fmt: skip
    TrainingRun.objects.filter(pk=run.pk).update(config=config.to_dict())
    run.refresh_from_db()
    champion = active_deployment(run, "spam-v1")
    LoopPolicy.objects.create(project=project, min_window_requests=20)
    _app, key = app_key(project)
    return {"project": project, "champion": champion, "rng": rng,
            "client": Client(headers={"authorization": f"Bearer {key}"})}  # fmt: skip


def _ask(world, words) -> None:
    response = world["client"].post(
        "/v1/classifications", {"model": "spam-v1", "input": _text(world["rng"], words)},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 200, response.json()


def test_drift_raises_the_alert_fires_the_trigger_and_waits_for_approval(
    world, django_capture_on_commit_callbacks
):
    project, champion = world["project"], world["champion"]
    retraining_trigger_create(project=project, kind="drift_above", metric="embedding_auc",
                              threshold=0.8)  # fmt: skip
    for n in range(30):
        _ask(world, HAM if n % 2 else OLD_SPAM)
    calm = monitoring_snapshot_compute(deployment=champion, last_requests=30)
    assert calm.metrics["embedding_auc"] < 0.8
    assert not Alert.objects.filter(metric="embedding_auc").exists()

    delay = None
    for n in range(1, 61):
        _ask(world, NEW_SPAM)
        if n % 5 == 0:
            monitoring_snapshot_compute(deployment=champion, last_requests=30)
            if Alert.objects.filter(metric="embedding_auc").exists():
                delay = n
                break
    assert delay is not None and delay <= 30, "the drift alert should come within 30 requests"

    # People label some of the new spam (e.g. accepted feedback); the trigger fires.
    for _ in range(40):
        ExampleFactory(project=project, fields={"text": _text(world["rng"], NEW_SPAM)},
                       resolved_label="spam")  # fmt: skip
    for _ in range(20):
        ExampleFactory(project=project, fields={"text": _text(world["rng"], HAM)},
                       resolved_label="ham")  # fmt: skip
    report = loop_tick(project=project, push_feedback=False)
    (cycle,) = RetrainingCycle.objects.all()
    assert report["cycles_started"] == [cycle.pk]
    assert cycle.reason["rule"] == "embedding_auc > 0.8"
    assert cycle.reason["numbers"]["embedding_auc"] > 0.8
    assert cycle.version.status == "in_review"
    runs_before = TrainingRun.objects.count()

    loop_tick(project=project, push_feedback=False)  # no approval: nothing trains
    cycle.refresh_from_db()
    assert cycle.status == "awaiting_approval"
    assert TrainingRun.objects.count() == runs_before

    lead = UserFactory(is_superuser=True)
    dataset_version_approve(version=cycle.version, user=lead, override_reason="small test set")
    with django_capture_on_commit_callbacks(execute=True):
        loop_tick(project=project, push_feedback=False)
    cycle.refresh_from_db()
    assert cycle.status == "training" and cycle.training_run.version == cycle.version
    assert cycle.training_run.run.status == "succeeded", cycle.training_run.run.error

    with django_capture_on_commit_callbacks(execute=True):
        loop_tick(project=project, push_feedback=False)
    cycle.refresh_from_db()
    evaluation = cycle.evaluation
    assert evaluation["metric"] == "accuracy" and evaluation["examples"] >= 5
    assert evaluation["difference"]["low"] <= evaluation["difference"]["value"]
    assert cycle.status == "proposed", cycle.message
    challenger = Deployment.objects.get(pk=cycle.challenger_id)
    assert challenger.training_run == cycle.training_run
    assert not project.experiments.exists()  # proposed, not rolled out
    assert Example.objects.filter(project=project).count() == 100
