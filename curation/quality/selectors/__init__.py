"""Reads of the data-quality app; `version_quality_summary` is what other apps use."""

from curation.quality.selectors.findings import (
    duplicate_clusters,
    finding_counts,
    findings_list,
    label_issue_matrix,
)
from curation.quality.selectors.summary import latest_check, version_quality_summary

__all__ = [
    "duplicate_clusters",
    "finding_counts",
    "findings_list",
    "label_issue_matrix",
    "latest_check",
    "version_quality_summary",
]
