"""Reads of findings: filtered lists, counts, and the pictures' data (the given-vs-
suggested label matrix, duplicate clusters)."""

from collections import Counter

from django.db.models import Case, Count, IntegerField, QuerySet, Value, When

from curation.models import Project
from curation.quality.models import Finding, FindingKind, QualityCheck

# Scores mean different things per kind, so lists go kind by kind, most urgent kind first.
KIND_PRIORITY = (
    FindingKind.CROSS_SPLIT_DUPLICATE,
    FindingKind.LABEL_ISSUE,
    FindingKind.EXPECTATION,
    FindingKind.OUTLIER,
    FindingKind.DUPLICATE,
    FindingKind.EXACT_DUPLICATE,
)


def findings_list(
    *,
    project: Project,
    kind: str | None = None,
    status: str | None = None,
    min_score: float | None = None,
    version_id: int | None = None,
) -> QuerySet[Finding]:
    findings = Finding.objects.filter(project=project).select_related("version", "reviewed_by")
    if kind:
        findings = findings.filter(kind=kind)
    if status:
        findings = findings.filter(status=status)
    if min_score is not None:
        findings = findings.filter(score__gte=min_score)
    if version_id:
        findings = findings.filter(version_id=version_id)
    priority = Case(
        *[When(kind=kind, then=Value(i)) for i, kind in enumerate(KIND_PRIORITY)],
        default=Value(len(KIND_PRIORITY)),
        output_field=IntegerField(),
    )
    return (
        findings.prefetch_related("examples")
        .annotate(priority=priority)
        .order_by("priority", "-score", "id")
    )


def finding_counts(*, project: Project) -> dict[str, dict[str, int]]:
    """{kind: {status: count}} over every kind, zeros included."""
    counts = {kind: {"open": 0, "resolved": 0, "dismissed": 0} for kind in FindingKind.values}
    rows = (
        Finding.objects.filter(project=project)
        .values_list("kind", "status")
        .annotate(n=Count("id"))
        .values_list("kind", "status", "n")
    )
    for kind, status, n in rows:
        counts[kind][status] = n
    return counts


def label_issue_matrix(check: QualityCheck, *, labels: list[str]) -> dict:
    """Counts of (given label, suggested label) over a check's label issues, as rows for
    a heat-map table: {"labels", "rows": [{"given", "cells": [{"count", "shade"}]}]}."""
    pairs = Counter(
        (details.get("given_label"), details.get("suggested_label"))
        for details in check.findings.filter(kind=FindingKind.LABEL_ISSUE).values_list(
            "details", flat=True
        )
    )
    names = list(labels) or sorted({name for pair in pairs for name in pair if name})
    largest = max(pairs.values(), default=0)
    return {
        "labels": names,
        "total": sum(pairs.values()),
        "rows": [
            {
                "given": given,
                "cells": [
                    {
                        "suggested": suggested,
                        "count": pairs.get((given, suggested), 0),
                        "shade": round(pairs.get((given, suggested), 0) / largest, 2)
                        if largest
                        else 0,
                    }
                    for suggested in names
                ],
            }
            for given in names
        ],
    }


DUPLICATE_KINDS = (
    FindingKind.CROSS_SPLIT_DUPLICATE,
    FindingKind.EXACT_DUPLICATE,
    FindingKind.DUPLICATE,
)


def duplicate_clusters(check: QualityCheck, *, limit: int = 50) -> list[dict]:
    """A check's duplicate findings with their examples, leaks first."""
    order = {kind: i for i, kind in enumerate(DUPLICATE_KINDS)}
    findings = sorted(
        check.findings.filter(kind__in=DUPLICATE_KINDS).prefetch_related("examples"),
        key=lambda f: (order[f.kind], -f.details.get("size", 0), f.pk),
    )
    return [{"finding": f, "examples": list(f.examples.all()[:10])} for f in findings[:limit]]
