"""Reads for agreement: annotator labels as ratings, and the project's agreement report."""

from collections.abc import Iterable

from curation.models import Label, LabelOrigin, Project
from labeling.core.agreement import AgreementReport, Rating, agreement_report


def annotator_ratings(labels: Iterable[Label]) -> list[Rating]:
    """Annotator labels as ratings: the item is the example, the annotator its author."""
    return [
        Rating(
            item=label.example_id,
            annotator=label.author or f"user-{label.annotator_id}",
            value=label.value,
            order=(label.created_at, label.pk),
            lead_time_seconds=label.lead_time_seconds,
        )
        for label in labels
    ]


def project_agreement(project: Project) -> AgreementReport:
    """Fleiss' kappa, pairwise Cohen's kappa and the per-annotator table of a project."""
    labels = Label.objects.filter(example__project=project, origin=LabelOrigin.ANNOTATOR).only(
        "example_id", "author", "annotator_id", "value", "created_at", "lead_time_seconds"
    )
    return agreement_report(annotator_ratings(labels))
