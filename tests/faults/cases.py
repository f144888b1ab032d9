"""One fault case per run kind: what a project needs before the run, how a user starts it,
and what a user can see of its outcome.

``visible(project)`` returns only what pages and the API show, written without primary
keys (examples by external id or content hash), so two projects seeded alike and run
alike compare equal: the one whose first run was killed, then rerun, and its twin that
never saw a fault.
"""

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from curation.core.readers.options import ImportOptions
from curation.models import AuditEvent, Example, LabelOrigin, Project, Run
from curation.services.labels import label_add
from tests.factories import ExampleFactory, ProjectFactory

TOPICS = {
    "ham": "lunch meeting family weekend dinner garden movie friends song".split(),
    "spam": "winner prize claim free cash offer urgent click channel".split(),
}
SEED_SIZE = 120
IMPORT_ROWS = 6_000  # three batches of 2,000: killed after the first is written


@dataclass(frozen=True)
class FaultEnv:
    """What a case's steps may use: the test's folder, the user who starts runs, and
    ``fixture(name)`` for fixtures only some cases need (a tiny model to train)."""

    folder: Path
    user: object
    fixture: Callable[[str], object]


def seeded_project(name: str) -> Project:
    """A spam project of SEED_SIZE messages; two in three carry a human (import) label,
    a few of them wrong, as real data has."""
    rng = random.Random(12)
    project = ProjectFactory(name=name, label_set=["ham", "spam"])
    for n in range(SEED_SIZE):
        topic = ("ham", "spam")[n % 2]
        text = " ".join(rng.choices(TOPICS[topic], k=10))
        example = ExampleFactory(project=project, external_id=f"m{n}", fields={"text": text})
        if n % 3:
            label = topic if n % 17 else ("spam" if topic == "ham" else "ham")
            label_add(
                example=example, value=label, origin=LabelOrigin.IMPORT, author="seed", audit=False
            )
    return project


def _audit_actions(project: Project, *, retries: str = "") -> list[str]:
    """The audit log's actions, without ``retries``: the user's own "start it again"."""
    events = AuditEvent.objects.filter(project=project).exclude(action=retries)
    return sorted(events.values_list("action", flat=True))


def _examples(project: Project) -> list[tuple]:
    rows = Example.objects.filter(project=project).values_list("content_hash", "resolved_label")
    return sorted(rows)


# --- import -------------------------------------------------------------------------


def import_file(folder: Path) -> Path:
    path = folder / "messages.csv"
    if not path.exists():
        lines = (f"imported message {n},{('ham', 'spam')[n % 2]}" for n in range(IMPORT_ROWS))
        path.write_text("text,label\n" + "\n".join(lines) + "\n")
    return path


def import_begin(project: Project, env: FaultEnv) -> Run:
    from curation.services.imports import import_start

    return import_start(
        project=project, path=import_file(env.folder), options=ImportOptions(), created_by=env.user
    )


def import_visible(project: Project) -> dict:
    return {"examples": _examples(project), "audit": _audit_actions(project)}


# --- version build --------------------------------------------------------------------


def version_build_begin(project: Project, env: FaultEnv) -> Run:
    from curation.services.versions import version_build_start

    return version_build_start(project=project, seed=3, created_by=env.user)


def versions_visible(project: Project) -> dict:
    versions = [
        (v.number, v.content_hash, v.manifest.get("split_counts"), v.readiness.get("status"))
        for v in project.versions.order_by("number")
    ]
    return {"versions": versions, "audit": _audit_actions(project)}


# --- export ---------------------------------------------------------------------------


def export_prepare(project: Project, env: FaultEnv) -> None:
    from curation.services.versions import dataset_version_build

    dataset_version_build(project=project, seed=3, created_by=env.user)


def export_begin(project: Project, env: FaultEnv) -> Run:
    from curation.services.exports import export_start

    return export_start(
        version=project.versions.get(), formats=["jsonl", "parquet"], created_by=env.user
    )


def exports_visible(project: Project) -> dict:
    """The exports listed, their data files (the card names the project), and the export
    folders on disk outside the temporary ones an export writes into first."""
    from curation.models import ExportFile

    files = ExportFile.objects.filter(export__version__project=project).exclude(
        path__in=["README.md", "SHA256SUMS"]  # the card names the project; the sums cover it
    )
    on_disk = Path(settings.EXPORT_DIR) / str(project.pk)
    return {
        "files": sorted(files.values_list("path", "sha256", "size_bytes")),
        "folders": len(list(on_disk.glob("v*/export-*"))),
        "audit": _audit_actions(project),
    }


# --- weak supervision -----------------------------------------------------------------

LFS = [
    ("keyword_prize", ["prize", "free"], "spam"),
    ("keyword_click", ["click", "channel"], "spam"),
    ("keyword_family", ["family", "song"], "ham"),
    ("keyword_lunch", ["lunch", "dinner"], "ham"),
]


def lfs_prepare(project: Project, env: FaultEnv) -> None:
    from curation.weak_supervision.services.functions import labeling_function_create

    for name, words, label in LFS:
        labeling_function_create(
            project=project, name=name, kind="keyword", label=label, params={"keywords": words}
        )


def lf_apply_begin(project: Project, env: FaultEnv) -> Run:
    from curation.weak_supervision.services.application import lf_apply_start

    return lf_apply_start(project=project, created_by=env.user)


def applications_visible(project: Project) -> dict:
    from curation.weak_supervision.models import LFApplication

    applications = [
        (a.n_examples, a.labels, hashlib.sha256(bytes(a.matrix)).hexdigest(), a.analysis)
        for a in LFApplication.objects.filter(project=project).order_by("pk")
    ]
    return {"applications": applications, "audit": _audit_actions(project)}


def fit_prepare(project: Project, env: FaultEnv) -> None:
    from curation.weak_supervision.services.application import lf_apply

    lfs_prepare(project, env)
    lf_apply(project=project)


def label_model_fit_begin(project: Project, env: FaultEnv) -> Run:
    from curation.weak_supervision.services.fit import label_model_fit_start

    return label_model_fit_start(project=project, created_by=env.user)


def weak_labels_visible(project: Project) -> dict:
    from curation.models import Label
    from curation.weak_supervision.models import LabelModelFit

    weak = Label.objects.filter(example__project=project, origin=LabelOrigin.LABELING_FUNCTION)
    return {
        "fits": list(
            LabelModelFit.objects.filter(project=project)
            .order_by("number")
            .values_list("number", "chosen", "labels_written", "low_confidence")
        ),
        "weak_labels": sorted(
            (external_id, value, round(confidence or 0, 6))
            for external_id, value, confidence in weak.values_list(
                "example__external_id", "value", "confidence"
            )
        ),
        "examples": _examples(project),
        "audit": _audit_actions(project),
    }


# --- quality check ----------------------------------------------------------------------


def quality_check_begin(project: Project, env: FaultEnv) -> Run:
    from curation.quality.services.checks import quality_check_start

    return quality_check_start(project=project, model="tfidf", folds=3, created_by=env.user)


def findings_visible(project: Project) -> dict:
    from curation.quality.models import Finding, QualityCheck

    findings = sorted(
        (finding.kind, sorted(e.external_id for e in finding.examples.all()))
        for finding in Finding.objects.filter(project=project).prefetch_related("examples")
    )
    checks = [c.summary for c in QualityCheck.objects.filter(project=project).order_by("pk")]
    return {"checks": checks, "findings": findings, "audit": _audit_actions(project)}


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
    return {"training_runs": runs, "audit": _audit_actions(project)}


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
        "audit": _audit_actions(project, retries="deployment.retry"),
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
    """A push goes batch by batch (Label Studio has no transactions): a killed one leaves
    whole batches, each task linked once, which the next push goes on from."""
    assert before["tasks"] == []
    assert 0 < len(after["tasks"]) < EXTRA_FOR_PUSH + SEED_SIZE
    assert after["tasks"] == after["linked"] == sorted(set(after["tasks"]))


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
        "examples": _examples(project),
        "annotation_count": link.annotation_count,
        "pulled": link.last_pull_at is not None,
        "audit": _audit_actions(project),
    }


@dataclass(frozen=True)
class FaultCase:
    """A run kind under a worker killed at ``kill_at`` percent of its progress."""

    name: str
    begin: Callable[[Project, FaultEnv], Run]
    visible: Callable[[Project], dict]
    kill_at: float
    prepare: Callable[[Project, FaultEnv], None] = lambda project, env: None
    # For a kind that resumes instead of rolling back: checks what the kill left.
    partial: Callable[[dict, dict], None] | None = None


CASES = [
    FaultCase("import", import_begin, import_visible, kill_at=1),
    # 50 is reached at 95: every member frozen, inside the build's transaction.
    FaultCase("version_build", version_build_begin, versions_visible, kill_at=50),
    # 98: the version is built; its readiness report is next.
    FaultCase("version_build-readiness", version_build_begin, versions_visible, kill_at=98),
    FaultCase("export", export_begin, exports_visible, kill_at=50, prepare=export_prepare),
    FaultCase("lf_apply", lf_apply_begin, applications_visible, kill_at=40, prepare=lfs_prepare),
    FaultCase(
        "label_model_fit",
        label_model_fit_begin,
        weak_labels_visible,
        kill_at=50,
        prepare=fit_prepare,
    ),
    FaultCase("quality_check", quality_check_begin, findings_visible, kill_at=45),
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
    # 50: annotations read from Label Studio, about to be applied.
    FaultCase(
        "label_studio_pull", pull_begin, annotations_visible, kill_at=50, prepare=pull_prepare
    ),
]


def label_studio_client():
    from labeling.integrations.label_studio import label_studio_client as client

    return client()
