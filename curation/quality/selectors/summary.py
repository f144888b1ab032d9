"""The quality summary of a dataset version, as the readiness report reads it."""

from django.db.models import Count

from curation.models import DatasetVersion
from curation.quality.models import Finding, FindingStatus, QualityCheck

FINDING_ID_LIMIT = 50


def latest_check(*, project, version: DatasetVersion | None = None) -> QualityCheck | None:
    return (
        QualityCheck.objects.filter(project=project, version=version)
        .select_related("version", "run")
        .first()
    )


def version_quality_summary(version: DatasetVersion) -> dict | None:
    """The latest quality check of ``version``, or None if it was never checked.

    Keys of the dict:

    - ``check_id`` (int), ``checked_at`` (ISO 8601 str), ``examples`` (rows checked),
      ``checks`` (list of the checks that ran: expectations, duplicates, outliers,
      label_issues), ``skipped`` ({check: reason} for checks that could not run);
    - ``label_issues`` (int) and ``label_issue_rate`` (share of labelled rows flagged,
      float 0–1, None when label issues did not run);
    - ``exact_duplicate_clusters``, ``near_duplicate_clusters`` (int),
      ``duplicate_examples`` (copies beyond the first of each group) and
      ``duplicate_rate`` (that over ``examples``);
    - ``cross_split_duplicates`` (int: duplicate clusters whose members sit in more than
      one split — leaks between train, validation and test);
    - ``outliers`` (int);
    - ``expectations``: ``{"total", "passed", "failed"}`` (ints) and ``expectations_passed``
      (bool: the suite ran and every expectation passed; None if it did not run);
    - ``open_findings`` ({kind: count}) and ``open_findings_total`` (int), counted now,
      so they fall as people resolve or dismiss findings;
    - ``open_finding_ids`` ({kind: [external ids]}): the examples of the open findings,
      worst first, up to ``FINDING_ID_LIMIT`` a kind, so a report can link to them.
    """
    check = latest_check(project=version.project, version=version)
    if check is None:
        return None
    summary = dict(check.summary)
    expectations = summary.get("expectations", {"total": 0, "passed": 0, "failed": 0})
    ran = "expectations" in summary.get("checks", [])
    open_counts = dict(
        Finding.objects.filter(version=version, status=FindingStatus.OPEN)
        .values_list("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    return {
        **summary,
        "check_id": check.pk,
        "checked_at": check.created_at.isoformat(),
        "expectations": expectations,
        "expectations_passed": (expectations["failed"] == 0) if ran else None,
        "open_findings": open_counts,
        "open_findings_total": sum(open_counts.values()),
        "open_finding_ids": _open_finding_ids(version, open_counts),
    }


def _open_finding_ids(version: DatasetVersion, kinds) -> dict[str, list[str]]:
    by_kind: dict[str, list[str]] = {}
    for kind in kinds:
        rows = (
            Finding.examples.through.objects.filter(
                finding__version=version, finding__status=FindingStatus.OPEN, finding__kind=kind
            )
            .order_by("-finding__score", "finding_id")
            .values_list("example__external_id", flat=True)
        )
        by_kind[kind] = list(dict.fromkeys(rows[: FINDING_ID_LIMIT * 2]))[:FINDING_ID_LIMIT]
    return by_kind
