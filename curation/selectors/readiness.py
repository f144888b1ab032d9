"""What the readiness report looks at, gathered from one version's frozen members (and
the quality app's summary when it has one)."""

import logging
from collections import defaultdict
from importlib import import_module
from typing import Any

from django.db.models import Count

from curation.core.readiness import DEFAULT_THRESHOLDS, ReadinessInputs, pairwise_agreement
from curation.models import (
    DatasetVersion,
    DatasetVersionMember,
    ExampleSource,
    Label,
    LabelOrigin,
    ReviewStatus,
)

logger = logging.getLogger(__name__)

HUMAN_ORIGINS = (LabelOrigin.ANNOTATOR, LabelOrigin.IMPORT)
NON_HUMAN_SOURCES = (ExampleSource.SYNTHETIC, ExampleSource.WEAK)
EVAL_SPLITS = ("validation", "test")
ID_LIMIT = 200


def version_quality_summary(version: DatasetVersion) -> dict[str, Any] | None:
    """The quality app's summary for ``version``, or None when it has none (or is not
    installed yet, or fails: a missing summary is a warning, never a crash)."""
    try:
        selectors = import_module("curation.quality.selectors")
        summary_of = selectors.version_quality_summary
    except (ImportError, AttributeError):
        return None
    try:
        return summary_of(version)
    except Exception:  # the report must still render; the failure is logged
        logger.exception("quality summary failed for version %s", version.pk)
        return None


def _thresholds(version: DatasetVersion) -> dict[str, float]:
    project = version.project
    thresholds = dict(DEFAULT_THRESHOLDS)
    thresholds.update(project.readiness_thresholds or {})
    thresholds["min_size"] = project.min_version_size
    thresholds["synthetic_cap"] = project.synthetic_share_cap
    return thresholds


def _human_members(version: DatasetVersion):
    members = version.members.all()
    if version.project.is_classification:
        return members.filter(label_origin__in=HUMAN_ORIGINS)
    return members.exclude(source__in=NON_HUMAN_SOURCES)


def _split_label_counts(version: DatasetVersion) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    rows = version.members.order_by().values("split", "label").annotate(n=Count("id"))
    for row in rows:
        counts[row["split"]][row["label"]] = row["n"]
    return dict(counts)


def _duplicates(version: DatasetVersion) -> tuple[int, list[str], list[str]]:
    """(members beyond the first of each content hash, ids of members that share their
    content with another member, ids of members whose content is also in another split)."""
    groups = (
        version.members.order_by()
        .values("content_hash")
        .annotate(n=Count("id"), splits=Count("split", distinct=True))
        .filter(n__gt=1)
    )
    extra = sum(row["n"] - 1 for row in groups)
    copied = [row["content_hash"] for row in groups]
    leaked = [row["content_hash"] for row in groups if row["splits"] > 1]
    return extra, _ids_with_hashes(version, copied), _ids_with_hashes(version, leaked)


def _ids_with_hashes(version: DatasetVersion, hashes: list[str]) -> list[str]:
    """External ids of the members with these content hashes, copies side by side."""
    members = version.members.filter(content_hash__in=hashes[:ID_LIMIT]).order_by(
        "content_hash", "external_id"
    )
    return list(members.values_list("external_id", flat=True)[:ID_LIMIT])


def _feedback_test_leaks(version: DatasetVersion, feedback) -> list[str]:
    """Feedback members whose input (the first content field) is in the test split of an
    earlier version of the project."""
    first = version.project.content_fields[0]
    inputs = {
        str(fields.get(first, "")).strip().casefold(): external_id
        for external_id, fields in feedback.values_list("external_id", "fields")
    }
    if not inputs:
        return []
    tests = DatasetVersionMember.objects.filter(
        version__project=version.project, version__number__lt=version.number, split="test"
    ).values_list("fields", flat=True)
    leaked = []
    for fields in tests.iterator(chunk_size=5000):
        external_id = inputs.pop(str(fields.get(first, "")).strip().casefold(), None)
        if external_id is not None:
            leaked.append(external_id)
    return leaked[:ID_LIMIT]


def _agreement(version: DatasetVersion) -> tuple[tuple[int, float] | None, list[str]]:
    """(pairwise annotator agreement, ids of examples whose annotators disagree)."""
    labels = Label.objects.filter(
        example_id__in=version.members.order_by().values("example_id"),
        origin=LabelOrigin.ANNOTATOR,
    ).values_list("example__external_id", "value")
    by_example: dict[str, list[str]] = defaultdict(list)
    for external_id, value in labels.iterator(chunk_size=5000):
        by_example[external_id].append(value)
    disagreeing = [key for key, values in by_example.items() if len(set(values)) > 1]
    return pairwise_agreement(list(by_example.values())), disagreeing[:ID_LIMIT]


def readiness_inputs(version: DatasetVersion) -> ReadinessInputs:
    members = version.members.all()
    non_human_eval = members.filter(split__in=EVAL_SPLITS).exclude(
        pk__in=_human_members(version).values("pk")
    )
    synthetic = members.filter(source=ExampleSource.SYNTHETIC)
    unreviewed = synthetic.exclude(example__review_status=ReviewStatus.ACCEPTED)
    duplicate_count, copied, leaked = _duplicates(version)
    agreement, disagreeing = _agreement(version)
    non_human = members.exclude(pk__in=_human_members(version).values("pk"))
    feedback = members.filter(source=ExampleSource.FEEDBACK)
    unreviewed_feedback = feedback.exclude(example__review_status=ReviewStatus.ACCEPTED)
    return ReadinessInputs(
        total=members.count(),
        is_classification=version.project.is_classification,
        label_set=list(version.project.label_set),
        split_label_counts=_split_label_counts(version),
        human_count=_human_members(version).count(),
        non_human_eval_ids=list(non_human_eval.values_list("external_id", flat=True)[:ID_LIMIT]),
        non_human_eval_count=non_human_eval.count(),
        synthetic_count=synthetic.count(),
        unreviewed_synthetic_ids=list(unreviewed.values_list("external_id", flat=True)[:ID_LIMIT]),
        duplicate_count=duplicate_count,
        cross_split_duplicate_ids=leaked,
        agreement=agreement,
        quality=version_quality_summary(version),
        thresholds=_thresholds(version),
        feedback_count=feedback.count(),
        unreviewed_feedback_ids=list(
            unreviewed_feedback.values_list("external_id", flat=True)[:ID_LIMIT]
        ),
        feedback_test_leak_ids=_feedback_test_leaks(version, feedback),
        duplicate_ids=copied,
        non_human_ids=list(non_human.values_list("external_id", flat=True)[:ID_LIMIT]),
        disagreement_ids=disagreeing,
    )


__all__ = ["readiness_inputs", "version_quality_summary"]
