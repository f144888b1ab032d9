"""The fault cases of the kinds that talk to other systems or heavy models: training,
deployment start, Label Studio push and pull (see tests/faults/cases_data.py)."""

from pathlib import Path

from curation.models import Example, LabelOrigin, Project, Run
from tests.factories import ExampleFactory
from tests.faults.seed import (
    SEED_SIZE,
    FaultCase,
    FaultEnv,
    audit_actions,
    examples_visible,
)

# --- training ---------------------------------------------------------------------------


def training_prepare(project: Project, env: FaultEnv) -> None:
    from curation.models import DatasetVersion
    from curation.services.versions import dataset_version_build

    version = dataset_version_build(project=project, seed=3)
    DatasetVersion.objects.filter(pk=version.pk).update(status="approved")  # review: elsewhere


def training_begin(project: Project, env: FaultEnv) -> Run:
    """The first attempt is a launch; after a killed one, the user resumes the same run."""
    from training.models import TrainingRun
    from training.services import training_run_resume, training_run_start

    existing = TrainingRun.objects.filter(project=project).first()
    if existing is not None:
        return training_run_resume(training_run=existing, created_by=env.user).run
    values = {
        "base_model": env.fixture("tiny_bert"),
        "max_steps": 8,
        "eval_steps": 2,
        "batch_size": 8,
        "max_length": 16,
        "learning_rate": 5e-3,
        "early_stopping_patience": 0,
        "bootstrap_samples": 20,
        "seed": 7,
    }
    return training_run_start(
        version=project.versions.get(), values=values, created_by=env.user
    ).run


def training_visible(project: Project) -> dict:
    """The registry row as its page shows it once finished; the live curves of a run in
    progress are left out (a killed attempt's curves continue in the resumed one)."""
    from training.models import TrainingRun

    runs = [
        {
            "finished": run.finished_at is not None,
            "global_step": run.global_step,
            "best_metric": run.best_metric,
            "validation_steps": [p["step"] for p in (run.history or {}).get("validation", [])]
            if run.finished_at
            else None,
            "artifact": bool(run.artifact_path) and Path(run.artifact_path).is_dir(),
            "model_card": bool(run.model_card),
        }
        for run in TrainingRun.objects.filter(project=project)
    ]
    return {"training_runs": runs, "audit": audit_actions(project)}


# --- deployment start -------------------------------------------------------------------


def deployment_prepare(project: Project, env: FaultEnv) -> None:
    from tests.serving.helpers import finished_training_run

    finished_training_run(
        project,
        base=env.fixture("tiny_bert"),
        adapter=env.fixture("tiny_bert_adapter"),
        labels=["ham", "spam"],
    )


def deployment_begin(project: Project, env: FaultEnv) -> Run:
    """The first start; after a killed one, the user starts the same deployment again."""
    from serving.models import Deployment
    from serving.services.deployments import deployment_start, deployment_start_retry
    from training.models import TrainingRun

    existing = Deployment.objects.filter(project=project).first()
    if existing is not None:
        return deployment_start_retry(deployment=existing, created_by=env.user).run
    training_run = TrainingRun.objects.get(project=project)
    name = f"{project.name.lower()}-model"
    return deployment_start(training_run=training_run, name=name, created_by=env.user).run


def deployments_visible(project: Project) -> dict:
    from serving.models import Deployment

    deployments = [
        (d.status, d.error, d.started_at is not None, d.task_type, d.adapter_path != "")
        for d in Deployment.objects.filter(project=project)
    ]
    return {
        "deployments": deployments,
        "audit": audit_actions(project, retries="deployment.retry"),
    }


# --- Label Studio push and pull -------------------------------------------------------------

EXTRA_FOR_PUSH = 1_000  # with the seed, two batches (1,000 and 120 tasks): killed after the first


def push_prepare(project: Project, env: FaultEnv) -> None:
    Example.objects.bulk_create(
        ExampleFactory.build(project=project, external_id=f"x{n}", fields={"text": f"more {n}"})
        for n in range(EXTRA_FOR_PUSH)
    )
    env.fixture("linked")(project)


def push_begin(project: Project, env: FaultEnv) -> Run:
    from labeling.services.push import label_studio_push_start

    return label_studio_push_start(project=project, created_by=env.user)


def tasks_visible(project: Project, client) -> dict:
    """The Label Studio project's tasks by external id, and what Assay has linked."""
    from labeling.models import TaskLink

    link = project.label_studio_link
    link.refresh_from_db()
    in_label_studio = sorted(task.external_id for task in client.tasks_iter(link.ls_project_id))
    linked = sorted(
        TaskLink.objects.filter(link=link).values_list("example__external_id", flat=True)
    )
    return {"tasks": in_label_studio, "linked": linked, "task_count": link.task_count}


def push_partial(before: dict, after: dict) -> None:
    """A push goes batch by batch (Label Studio has no transactions) and sends the next
    batch before linking the last: a killed one leaves whole linked batches, each task
    once, and at most the one batch in flight in Label Studio unlinked, which the next
    push adopts instead of duplicating."""
    from labeling.services.push import PUSH_BATCH_SIZE

    assert before["tasks"] == []
    assert 0 < len(after["linked"]) < EXTRA_FOR_PUSH + SEED_SIZE
    assert after["linked"] == sorted(set(after["linked"]))
    assert after["tasks"] == sorted(set(after["tasks"]))
    assert set(after["linked"]) <= set(after["tasks"])
    assert len(after["tasks"]) - len(after["linked"]) <= PUSH_BATCH_SIZE


def pull_prepare(project: Project, env: FaultEnv) -> None:
    from labeling.core.label_config import classification_result
    from labeling.services.push import label_studio_push

    client = env.fixture("ls_client")
    env.fixture("linked")(project)
    label_studio_push(project=project, client=client)
    links = project.label_studio_link.tasks.select_related("example").order_by("example__pk")
    for n, task in enumerate(links[:12]):
        label = ("ham", "spam")[n % 3 == 0]
        client.annotation_create(
            task.ls_task_id, result=classification_result(label, to_name="text")
        )


def pull_begin(project: Project, env: FaultEnv) -> Run:
    from labeling.services.pull import label_studio_pull_start

    return label_studio_pull_start(project=project, created_by=env.user)


def annotations_visible(project: Project) -> dict:
    from curation.models import Label

    link = project.label_studio_link
    link.refresh_from_db()
    labels = Label.objects.filter(example__project=project, origin=LabelOrigin.ANNOTATOR)
    return {
        "labels": sorted(labels.values_list("example__external_id", "value")),
        "examples": examples_visible(project),
        "annotation_count": link.annotation_count,
        "pulled": link.last_pull_at is not None,
        "audit": audit_actions(project),
    }


def label_studio_client():
    from labeling.integrations.label_studio import label_studio_client as client

    return client()


CASES = [
    # 40 is step 4 of 8: checkpoint 2 is on disk, the resumed attempt goes on from it.
    FaultCase("training", training_begin, training_visible, kill_at=40, prepare=training_prepare),
    # 5: the one progress point, before the model loads and answers its smoke request.
    FaultCase(
        "deployment_start",
        deployment_begin,
        deployments_visible,
        kill_at=5,
        prepare=deployment_prepare,
    ),
    FaultCase(
        "label_studio_push",
        push_begin,
        lambda project: tasks_visible(project, label_studio_client()),
        kill_at=10,
        prepare=push_prepare,
        partial=push_partial,
    ),
    # 5: the first page of annotations applied, inside the pull's one transaction.
    FaultCase(
        "label_studio_pull", pull_begin, annotations_visible, kill_at=5, prepare=pull_prepare
    ),
]
