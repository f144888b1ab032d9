"""The fault cases of the data kinds (import, version build, export, LF apply, label-model
fit, quality check): what a project needs before the run, how a user starts it, and what
a user can see of its outcome.

``visible(project)`` returns only what pages and the API show, written without primary
keys (examples by external id or content hash), so two projects seeded alike and run
alike compare equal: the one whose first run was killed, then rerun, and its twin that
never saw a fault.
"""

import hashlib
from pathlib import Path

from django.conf import settings

from curation.core.readers.options import ImportOptions
from curation.models import LabelOrigin, Project, Run
from tests.faults.seed import FaultCase, FaultEnv, audit_actions, examples_visible

IMPORT_ROWS = 6_000  # three batches of 2,000: killed after the first is written


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
    return {"examples": examples_visible(project), "audit": audit_actions(project)}


# --- version build --------------------------------------------------------------------


def version_build_begin(project: Project, env: FaultEnv) -> Run:
    from curation.services.versions import version_build_start

    return version_build_start(project=project, seed=3, created_by=env.user)


def versions_visible(project: Project) -> dict:
    versions = [
        (v.number, v.content_hash, v.manifest.get("split_counts"), v.readiness.get("status"))
        for v in project.versions.order_by("number")
    ]
    return {"versions": versions, "audit": audit_actions(project)}


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
        "audit": audit_actions(project),
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
    return {"applications": applications, "audit": audit_actions(project)}


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
        "examples": examples_visible(project),
        "audit": audit_actions(project),
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
    return {"checks": checks, "findings": findings, "audit": audit_actions(project)}


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
]
