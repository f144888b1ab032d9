"""Selectors for Label Studio links: what the project pages show."""

from curation.models import Project
from labeling.models import LabelStudioLink


def project_label_studio_link(project: Project) -> LabelStudioLink | None:
    """The project's link with its counts and last sync times, or None when not linked."""
    return LabelStudioLink.objects.filter(project=project).first()
