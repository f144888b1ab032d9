"""Selectors for Label Studio links: what the project pages show."""

from curation.models import Project, Run
from labeling.models import Consensus, LabelStudioLink

RUN_KINDS = ("label_studio_push", "label_studio_pull")


def project_label_studio_link(project: Project) -> LabelStudioLink | None:
    """The project's link with its counts and last sync times, or None when not linked."""
    return LabelStudioLink.objects.filter(project=project).first()


def project_label_studio_runs(project: Project, *, limit: int = 5):
    return Run.objects.filter(project=project, kind__in=RUN_KINDS).order_by("-id")[:limit]


def project_consensus_summary(project: Project) -> dict:
    """How many examples have a consensus, and how many of those are contested (< 100%)."""
    rows = Consensus.objects.filter(example__project=project)
    return {"examples": rows.count(), "contested": rows.filter(agreement__lt=1.0).count()}
