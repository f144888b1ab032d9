"""A project part-way through the loop, built from rows (no model is loaded): a served
deployment with logged requests, three monitoring windows and an alert, a pending
feedback example, a cycle whose draft version waits for approval and a finished cycle
with its evaluation and challenger, and a budget."""

from datetime import timedelta

from django.utils import timezone

from curation.models import DatasetVersion, ExampleSource, ReviewStatus
from curation.services.versions import dataset_version_build
from loop.models import Alert, LoopPolicy, MonitoringSnapshot, RetrainingCycle
from loop.services.triggers import retraining_trigger_create
from serving.models import RequestLog
from tests.factories import ExampleFactory, MembershipFactory, ProjectFactory, UserFactory
from tests.serving.helpers import active_deployment, finished_training_run
from training.models import TrainingRun

WINDOWS = [
    {"length_ks": 0.10, "oov_rate": 0.05, "embedding_auc": 0.55, "label_tvd": 0.04,
     "negative_feedback_rate": 0.02, "correction_rate": 0.0, "error_rate": 0.0,
     "latency_p95_ms": 120.0},
    {"length_ks": 0.22, "oov_rate": 0.18, "embedding_auc": 0.71, "label_tvd": 0.12,
     "negative_feedback_rate": 0.08, "correction_rate": 0.03, "error_rate": 0.01,
     "latency_p95_ms": 150.0},
    {"length_ks": 0.41, "oov_rate": 0.37, "embedding_auc": 0.93, "label_tvd": 0.29,
     "negative_feedback_rate": 0.15, "correction_rate": 0.07, "error_rate": 0.02,
     "latency_p95_ms": 180.0},
]  # fmt: skip
EVALUATION = {
    "metric": "accuracy", "examples": 40,
    "champion": {"value": 0.7, "low": 0.55, "high": 0.825},
    "challenger": {"value": 0.9, "low": 0.8, "high": 0.975},
    "difference": {"value": 0.2, "low": 0.075, "high": 0.325},
}  # fmt: skip


def loop_world() -> dict:
    project = ProjectFactory(label_set=["ham", "spam"], name="Loop world")
    users = {role: UserFactory(username=f"loop-{role}")
             for role in ("admin", "ml_engineer", "data_lead", "annotator")}  # fmt: skip
    for role, user in users.items():
        MembershipFactory(project=project, user=user, role=role)
    run = finished_training_run(project, base="tiny", adapter=None, labels=["ham", "spam"])
    TrainingRun.objects.filter(pk=run.pk).update(train_seconds=720.0, estimate={"device": "cpu"})
    champion = active_deployment(run, "spam-v1")
    now = timezone.now()
    for n in range(8):
        RequestLog.objects.create(
            request_id=f"req-{n}", project=project, deployment=champion, training_run=run,
            endpoint="classifications", input={"texts": [f"text {n}"]},
            output={"labels": ["ham"]}, latency_ms=450.0, prompt_tokens=3, created_at=now,
        )  # fmt: skip
    start = now - timedelta(hours=3 * 168)
    snapshots = []
    for index, metrics in enumerate(WINDOWS):
        snapshots.append(MonitoringSnapshot.objects.create(
            deployment=champion, window_start=start + timedelta(hours=168 * index),
            window_end=start + timedelta(hours=168 * (index + 1)), requests=100 + index,
            metrics=metrics, details={"mmd_p_value": 0.5 - 0.2 * index, "embeddings": "hashing"},
        ))  # fmt: skip
    latest = snapshots[-1]
    alert = Alert.objects.create(
        project=project, deployment=champion, metric="embedding_auc", value=0.93, threshold=0.8,
        window_start=latest.window_start, window_end=latest.window_end,
        message="Embedding drift of spam-v1 is 0.93, above the threshold 0.8.",
        webhook_status="failed: connection refused",
    )  # fmt: skip
    feedback = ExampleFactory(
        project=project, source=ExampleSource.FEEDBACK, review_status=ReviewStatus.PENDING,
        external_id="feedback-req-3", fields={"text": "text 3"},
        provenance={"request_id": "req-3", "deployment": "spam-v1",
                    "deployment_id": champion.pk, "training_run_id": run.pk,
                    "original_output": "ham",
                    "events": [{"event": "correction", "value": None, "correction": "spam"}]},
    )  # fmt: skip
    trigger = retraining_trigger_create(project=project, kind="drift_above",
                                        metric="embedding_auc", threshold=0.8)  # fmt: skip
    finished = _finished_cycle(project, trigger, champion, run, latest)
    for n in range(4):
        ExampleFactory(project=project, fields={"text": f"fresh {n}"}, resolved_label="spam")
    waiting = dataset_version_build(project=project, seed=0)
    DatasetVersion.objects.filter(pk=waiting.pk).update(status="in_review")
    open_cycle = RetrainingCycle.objects.create(
        project=project, trigger=trigger, champion=champion, version=waiting,
        reason={"rule": "embedding_auc > 0.8", "numbers": {"embedding_auc": 0.93}},
        message=f"v{waiting.number} waits for a data lead's approval.",
    )  # fmt: skip
    LoopPolicy.objects.create(project=project, budget=5.0, min_window_requests=20)
    return {"project": project, "users": users, "run": run, "champion": champion,
            "snapshots": snapshots, "alert": alert, "feedback": feedback, "trigger": trigger,
            "finished": finished, "open_cycle": open_cycle, "waiting": waiting}  # fmt: skip


def _finished_cycle(project, trigger, champion, run, snapshot) -> RetrainingCycle:
    new_run = TrainingRun.objects.create(
        project=project, version=run.version, version_hash=run.version_hash,
        task_type=run.task_type, method="full", base_model="tiny", config=run.config,
        output_dir="", artifact_path="tiny", train_seconds=360.0, estimate={"device": "cpu"},
        finished_at=timezone.now(),
    )  # fmt: skip
    challenger = active_deployment(new_run, "spam-v1-c1")
    return RetrainingCycle.objects.create(
        project=project, trigger=trigger, champion=champion, version=run.version,
        training_run=new_run, challenger=challenger, evaluation=EVALUATION,
        status=RetrainingCycle.Status.PROPOSED,
        reason={"rule": "embedding_auc > 0.8", "numbers": {"embedding_auc": 0.93,
                                                           "requests": snapshot.requests},
                "deployment": champion.name,
                "window": [snapshot.window_start.isoformat(), snapshot.window_end.isoformat()]},
        message="Better: accuracy 0.900 against the champion's 0.700.",
    )  # fmt: skip
