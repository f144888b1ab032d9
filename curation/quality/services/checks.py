"""Quality checks: run the label-issue, duplicate, outlier and expectation checks over a
version's members (or a project's examples) as one persisted run, and store what they
find as reviewable findings.

A new check of the same target replaces the open findings of the previous one; findings
a person already resolved or dismissed are not raised again (matched by fingerprint).
"""

import hashlib
from contextlib import contextmanager

from django.db import transaction

from curation.exceptions import AssayError
from curation.models import DatasetVersion, Project, Run
from curation.quality.core import duplicates, label_issues, outliers
from curation.quality.core.expectations import ExpectationSpec, run_expectations
from curation.quality.models import (
    ExpectationResult,
    Finding,
    FindingKind,
    FindingStatus,
    QualityCheck,
)
from curation.quality.selectors.rows import QualityRow, quality_rows
from curation.services.runs import Progress, SilentProgress, run_enqueue

CHECKS = ("expectations", "duplicates", "outliers", "label_issues")
RUN_KIND = "quality_check"
MIN_ROWS_FOR_LABEL_ISSUES = 10


def quality_check_start(
    *,
    project: Project,
    version: DatasetVersion | None = None,
    checks: list[str] | None = None,
    model: str = label_issues.DEFAULT_MODEL,
    folds: int = 5,
    seed: int = 0,
    filter_by: str = label_issues.DEFAULT_FILTER,
    created_by=None,
    dask: bool | None = None,
) -> Run:
    """Queue a quality check run (one at a time per version, or per project); ``dask`` as
    in `quality_check_execute`."""
    options = _options(checks=checks, model=model, folds=folds, seed=seed, filter_by=filter_by)
    if version is not None and version.project_id != project.pk:
        raise AssayError(f"Version {version} does not belong to project {project.name}.")
    params = {"version_id": version.pk if version else None, **options}
    if dask is not None:
        params["dask"] = dask
    return run_enqueue(
        kind=RUN_KIND,
        target=version or project,
        project=project,
        params=params,
        created_by=created_by,
    )


def _options(
    *, checks, model: str, folds: int, seed: int, filter_by: str = label_issues.DEFAULT_FILTER
) -> dict:
    checks = list(checks or CHECKS)
    unknown = set(checks) - set(CHECKS)
    if unknown:
        raise AssayError(
            f"Unknown check(s): {', '.join(sorted(unknown))}; use {', '.join(CHECKS)}."
        )
    if model not in label_issues.MODELS:
        raise AssayError(f"Unknown model '{model}'; use {', '.join(label_issues.MODELS)}.")
    if not 2 <= int(folds) <= 20:
        raise AssayError("Folds must be between 2 and 20.")
    if filter_by not in label_issues.FILTERS:
        raise AssayError(
            f"Unknown label-issue filter '{filter_by}'; use {', '.join(label_issues.FILTERS)}."
        )
    return {
        "checks": checks,
        "model": model,
        "folds": int(folds),
        "seed": int(seed),
        "filter_by": filter_by,
    }


def quality_check_run_handler(run: Run, progress: Progress) -> dict:
    version_id = run.params.get("version_id")
    version = DatasetVersion.objects.get(pk=version_id) if version_id else None
    check = quality_check_execute(
        project=run.project,
        version=version,
        options={
            key: run.params[key]
            for key in ("checks", "model", "folds", "seed", "filter_by")
            if key in run.params  # runs queued before filter_by existed use the default
        },
        progress=progress,
        run=run,
        user=run.created_by,
        dask=run.params.get("dask"),
    )
    return {"check_id": check.pk, **check.summary}


def quality_check_execute(
    *,
    project: Project,
    version: DatasetVersion | None = None,
    options: dict | None = None,
    progress: Progress | None = None,
    run: Run | None = None,
    user=None,
    dask: bool | None = None,
) -> QualityCheck:
    """Run the checks now and store the check, its expectation results and findings.
    The numeric work happens outside the transaction; the writes happen in one. The
    label-issue folds run on Dask when ``dask`` is True, never when False, and by the
    number of labelled rows (``settings.DASK_MIN_ROWS``) when None."""
    options = _options(
        **(options or {"checks": None, "model": label_issues.DEFAULT_MODEL, "folds": 5, "seed": 0})
    )
    progress = progress or SilentProgress()
    progress.update(2, "Loading rows")
    rows = quality_rows(project=project, version=version)
    if not rows:
        raise AssayError(f"{version or project} has no examples to check.")
    computed = _compute(project, rows, options, progress, dask=dask)
    progress.update(95, "Saving findings")
    check = _store(project, version, rows, options, computed, run=run, user=user)
    progress.log(f"{len(rows):,} rows checked; summary {check.summary}")
    return check


def _compute(
    project: Project, rows: list[QualityRow], options: dict, progress: Progress, *, dask=None
) -> dict:
    texts = [row.text(project.content_fields) for row in rows]
    computed: dict = {"skipped": {}, "ran": list(options["checks"])}
    if "expectations" in options["checks"]:
        progress.update(5, "Running the expectation suite")
        computed["expectations"] = _expectations(project, rows)
    if "duplicates" in options["checks"]:
        progress.update(25, "Looking for duplicates")
        computed["exact"] = duplicates.exact_duplicate_clusters(texts)
        computed["near"] = duplicates.near_duplicate_clusters(texts, seed=options["seed"])
    if "outliers" in options["checks"]:
        progress.update(40, "Looking for outliers")
        computed["outliers"] = outliers.find_outliers(texts, seed=options["seed"])
    if "label_issues" in options["checks"]:
        progress.update(50, f"Cross-validating the {options['model']} model for label issues")
        computed["label_issues"] = _label_issues(
            project, rows, texts, options, computed, dask=dask, progress=progress
        )
    return computed


def _expectations(project: Project, rows: list[QualityRow]) -> list:
    rules = list(project.expectation_rules.filter(enabled=True))
    specs = [ExpectationSpec(r.kind, r.column, r.params, key=str(r.pk)) for r in rules]
    records = [row.as_record(project.content_fields) for row in rows]
    return run_expectations(records, specs)


def _label_issues(project, rows, texts, options, computed, *, dask, progress) -> list:
    labelled = [i for i, row in enumerate(rows) if row.label]
    reason = _label_issue_skip_reason(project, rows, labelled)
    if reason:
        computed["skipped"]["label_issues"] = reason
        return []
    try:
        with _fold_runner(len(labelled), dask, progress) as run_folds:
            issues = label_issues.find_label_issues(
                [texts[i] for i in labelled],
                [rows[i].label for i in labelled],
                model=options["model"],
                folds=options["folds"],
                seed=options["seed"],
                filter_by=options["filter_by"],
                run_folds=run_folds,
            )
    except AssayError as exc:
        computed["skipped"]["label_issues"] = str(exc)
        return []
    computed["labelled"] = len(labelled)
    return [(labelled[issue.index], issue) for issue in issues]


@contextmanager
def _fold_runner(n_rows: int, asked: bool | None, progress: Progress):
    """The cross-validation folds' runner: a Dask cluster's when wanted, else None (here)."""
    if asked is False:
        yield None
        return
    from curation.integrations import dask_cluster

    options = dask_cluster.dask_options()
    if not dask_cluster.dask_wanted(n_rows, asked=asked, options=options):
        yield None
        return
    where = options.scheduler or f"a local cluster of {options.workers} processes"
    progress.log(f"Cross-validating the label-issue folds on Dask ({where})")
    with dask_cluster.dask_client(options) as client:
        yield dask_cluster.fold_runner(client)


def _label_issue_skip_reason(project: Project, rows, labelled: list[int]) -> str:
    if not project.is_classification:
        return "label issues apply to classification projects only"
    if len(labelled) < MIN_ROWS_FOR_LABEL_ISSUES:
        return f"only {len(labelled)} labelled rows; at least {MIN_ROWS_FOR_LABEL_ISSUES} needed"
    if len({rows[i].label for i in labelled}) < 2:
        return "every labelled row has the same label"
    return ""


def fingerprint(kind: str, example_ids, extra: str = "") -> str:
    key = f"{kind}|{','.join(str(i) for i in sorted(example_ids))}|{extra}"
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def _store(project, version, rows, options, computed, *, run, user) -> QualityCheck:
    check = QualityCheck.objects.create(
        project=project, version=version, run=run, options=options, created_by=user
    )
    drafts = [
        *_expectation_findings(check, rows, computed.get("expectations", [])),
        *_duplicate_findings(rows, computed.get("exact", []), computed.get("near", [])),
        *_outlier_findings(rows, computed.get("outliers", [])),
        *_label_issue_findings(rows, computed.get("label_issues", [])),
    ]
    Finding.objects.filter(project=project, version=version, status=FindingStatus.OPEN).delete()
    reviewed = set(
        Finding.objects.filter(project=project, version=version)
        .exclude(status=FindingStatus.OPEN)
        .values_list("fingerprint", flat=True)
    )
    for kind, example_ids, details, score, extra in drafts:
        key = fingerprint(kind, example_ids, extra)
        if key in reviewed:
            continue
        finding = Finding.objects.create(
            project=project,
            version=version,
            quality_check=check,
            kind=kind,
            details=details,
            score=round(float(score), 6),
            fingerprint=key,
        )
        finding.examples.set(example_ids)
    check.summary = _summary(rows, computed)
    check.save(update_fields=["summary"])
    return check


def _expectation_findings(check: QualityCheck, rows, outcomes) -> list:
    drafts = []
    for outcome in outcomes:
        ExpectationResult.objects.create(
            quality_check=check,
            rule_id=int(outcome.key) if outcome.key else None,
            kind=outcome.kind,
            column=outcome.column,
            description=outcome.description[:500],
            success=outcome.success,
            element_count=outcome.element_count,
            unexpected_count=outcome.unexpected_count,
            unexpected_percent=outcome.unexpected_percent,
            sample_values=outcome.sample_values,
        )
        if not outcome.success:
            example_ids = [rows[i].example_id for i in outcome.unexpected_rows[:200]]
            details = {
                "rule_id": int(outcome.key) if outcome.key else None,
                "description": outcome.description,
                "unexpected_count": outcome.unexpected_count,
                "unexpected_percent": outcome.unexpected_percent,
                "sample_values": outcome.sample_values,
            }
            score = outcome.unexpected_percent / 100
            drafts.append((FindingKind.EXPECTATION, example_ids, details, score, outcome.key))
    return drafts


def _duplicate_findings(rows, exact, near) -> list:
    splits = [row.split for row in rows]
    leaks = {
        c.indices: found for c, found in duplicates.cross_split_clusters([*exact, *near], splits)
    }
    drafts = []
    for cluster in [*exact, *near]:
        found = leaks.get(cluster.indices)
        kind = (
            FindingKind.CROSS_SPLIT_DUPLICATE
            if found
            else FindingKind.EXACT_DUPLICATE
            if cluster.kind == "exact"
            else FindingKind.DUPLICATE
        )
        details = {
            "match": cluster.kind,
            "similarity": cluster.similarity,
            "size": len(cluster.indices),
            "splits": found or sorted({splits[i] for i in cluster.indices if splits[i]}),
            "external_ids": [rows[i].external_id for i in cluster.indices[:50]],
        }
        example_ids = [rows[i].example_id for i in cluster.indices]
        drafts.append((kind, example_ids, details, cluster.similarity, ""))
    return drafts


def _outlier_findings(rows, found) -> list:
    return [
        (
            FindingKind.OUTLIER,
            [rows[o.index].example_id],
            {"reasons": o.reasons, "length": o.length, "external_id": rows[o.index].external_id},
            o.score,
            "",
        )
        for o in found
    ]


def _label_issue_findings(rows, found) -> list:
    drafts = []
    for position, issue in found:
        details = {
            "given_label": issue.given_label,
            "suggested_label": issue.suggested_label,
            "given_label_confidence": round(issue.given_label_confidence, 4),
            "suggested_label_confidence": round(issue.suggested_label_confidence, 4),
            "external_id": rows[position].external_id,
            "split": rows[position].split,
        }
        drafts.append(
            (FindingKind.LABEL_ISSUE, [rows[position].example_id], details, issue.score, "")
        )
    return drafts


def _summary(rows, computed) -> dict:
    n = len(rows)
    clusters = [*computed.get("exact", []), *computed.get("near", [])]
    redundant = _redundant_copies(clusters)
    splits = [row.split for row in rows]
    outcomes = computed.get("expectations", [])
    issues = computed.get("label_issues", [])
    labelled = computed.get("labelled", 0)
    return {
        "examples": n,
        "label_issues": len(issues),
        "label_issue_rate": round(len(issues) / labelled, 6) if labelled else None,
        "exact_duplicate_clusters": len(computed.get("exact", [])),
        "near_duplicate_clusters": len(computed.get("near", [])),
        "duplicate_examples": redundant,
        "duplicate_rate": round(redundant / n, 6),
        "cross_split_duplicates": len(duplicates.cross_split_clusters(clusters, splits)),
        "outliers": len(computed.get("outliers", [])),
        "expectations": {
            "total": len(outcomes),
            "passed": sum(1 for o in outcomes if o.success),
            "failed": sum(1 for o in outcomes if not o.success),
        },
        "checks": [
            c for c in CHECKS if c in computed or c in ("duplicates",) and "exact" in computed
        ],
        "skipped": computed["skipped"],
    }


def _redundant_copies(clusters) -> int:
    """Examples beyond the first of each duplicate group (clusters may overlap)."""
    parent: dict[int, int] = {}

    def root(i: int) -> int:
        while parent.setdefault(i, i) != i:
            i = parent[i]
        return i

    for cluster in clusters:
        for i in cluster.indices[1:]:
            parent[root(i)] = root(cluster.indices[0])
    groups = {root(i) for i in parent}
    return len(parent) - len(groups)
