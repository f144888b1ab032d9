"""Sending uncertain weak labels to people: low-confidence or conflicting examples go to
Label Studio in one action (through the labeling app's push, restricted to them)."""

from curation.exceptions import AssayError
from curation.models import Project
from curation.weak_supervision.selectors.applications import review_candidates


def weak_labels_review_send(*, project: Project, threshold: float = 0.7, created_by=None):
    """Queue a Label Studio push of the examples `review_candidates` picks; returns the run."""
    from labeling.services.push import label_studio_push_start

    if not 0.0 < threshold <= 1.0:
        raise AssayError(f"The confidence threshold must be in (0, 1], not {threshold}.")
    example_ids = review_candidates(project, threshold=threshold)
    if not example_ids:
        raise AssayError(
            "No weak label is below the threshold or conflicting; nothing to send for review."
        )
    return label_studio_push_start(project=project, example_ids=example_ids, created_by=created_by)
