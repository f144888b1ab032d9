"""A project's loop policy (defaults until someone saves one)."""

from curation.models import Project
from loop.models import LoopPolicy


def loop_policy(project: Project) -> LoopPolicy:
    """The saved policy, or an unsaved one holding the defaults."""
    return LoopPolicy.objects.filter(project=project).first() or LoopPolicy(project=project)
