"""Who may do what in a project: one table, checked on the server by every page, API
endpoint and command.

A user who is not a member of a project gets 404 for it (it does not exist for them);
a member whose role lacks the action gets 403. Superusers act as admins everywhere.
"""

from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from curation.models import Project, ProjectMembership, Role


class Action(StrEnum):
    VIEW = "view"  # pages, lists, downloads of what exists
    ANNOTATE = "annotate"  # label examples, review synthetic examples
    EDIT_DATA = "edit_data"  # import, labeling functions, quality findings, build versions
    REVIEW = "review"  # approve / reject dataset versions, override failing checks
    EXPORT = "export"  # export a version's files
    TRAIN = "train"  # launch and manage training runs
    SERVE = "serve"  # deploy models, application keys, experiments and rollouts
    MANAGE = "manage"  # members, Label Studio link, project settings


ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.ANNOTATOR: frozenset({Action.VIEW, Action.ANNOTATE}),
    Role.DATA_LEAD: frozenset(
        {Action.VIEW, Action.ANNOTATE, Action.EDIT_DATA, Action.REVIEW, Action.EXPORT}
    ),
    Role.ML_ENGINEER: frozenset({Action.VIEW, Action.EXPORT, Action.TRAIN, Action.SERVE}),
    Role.ADMIN: frozenset(Action),
}


def project_role(user, project: Project) -> str | None:
    if not getattr(user, "is_authenticated", False):
        return None
    if user.is_superuser:
        return Role.ADMIN
    membership = ProjectMembership.objects.filter(project=project, user=user).first()
    return membership.role if membership else None


def user_can(user, project: Project, action: Action) -> bool:
    role = project_role(user, project)
    return role is not None and action in ROLE_ACTIONS[role]


def projects_visible_to(user) -> QuerySet[Project]:
    if not getattr(user, "is_authenticated", False):
        return Project.objects.none()
    if user.is_superuser:
        return Project.objects.all()
    return Project.objects.filter(memberships__user=user)


def project_for_user(user, project_id: int, action: Action = Action.VIEW) -> Project:
    """The project if ``user`` may do ``action`` in it; Http404 for a non-member (or no
    such project), PermissionDenied (403) for a member whose role does not allow it."""
    project = projects_visible_to(user).filter(pk=project_id).first()
    if project is None:
        raise Http404("No such project.")
    require(user, project, action)
    return project


def require(user, project: Project, action: Action) -> None:
    """Raise PermissionDenied unless ``user`` may do ``action`` in ``project``."""
    if not user_can(user, project, action):
        role = project_role(user, project)
        raise PermissionDenied(
            f"Your role in {project.name} ({role or 'none'}) does not allow '{action.value}'."
        )
