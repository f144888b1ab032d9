"""Objects looked up through the permission table: a version or run is found only via a
project the user may act in (`curation.permissions.project_for_user`), so every page and
endpoint that takes one gets the same 404/403 answers as the project itself."""

from django.http import Http404

from curation.models import DatasetVersion, Run
from curation.permissions import Action, project_for_user, projects_visible_to, require

VERSION_RELATED = ("project", "parent", "created_by", "reviewed_by")


def version_for_user(
    user, project_id: int, number: int, action: Action = Action.VIEW
) -> DatasetVersion:
    """A project's version by number; 404 for a non-member or no such version, 403 for a
    member whose role lacks ``action``."""
    project = project_for_user(user, project_id, action)
    version = (
        DatasetVersion.objects.select_related(*VERSION_RELATED)
        .filter(project=project, number=number)
        .first()
    )
    if version is None:
        raise Http404(f"{project.name} has no version {number}.")
    return version


def version_by_id_for_user(user, version_id: int, action: Action = Action.VIEW) -> DatasetVersion:
    """A version by primary key (the API's addressing), checked like `version_for_user`."""
    version = (
        DatasetVersion.objects.select_related(*VERSION_RELATED)
        .filter(pk=version_id, project__in=projects_visible_to(user))
        .first()
    )
    if version is None:
        raise Http404("No such dataset version.")
    require(user, version.project, action)
    return version


def run_for_user(user, run_id: int, action: Action = Action.VIEW) -> Run:
    """A run through its project; a run without a project is its creator's (and
    superusers') only."""
    run = Run.objects.select_related("project", "created_by").filter(pk=run_id).first()
    if run is None:
        raise Http404("No such run.")
    if run.project_id is None:
        if not (user.is_superuser or run.created_by_id == user.pk):
            raise Http404("No such run.")
        return run
    project_for_user(user, run.project_id, action)
    return run


def run_to_cancel_for_user(user, run_id: int) -> Run:
    """A run the user may cancel: their role must allow what starting its kind needs
    (`curation.services.runs.run_kind_action`); 404/403 as for viewing it."""
    from curation.services.runs import run_kind_action

    run = run_for_user(user, run_id)
    if run.project is not None:
        require(user, run.project, run_kind_action(run.kind))
    return run


def user_can_cancel_run(user, run: Run) -> bool:
    from curation.permissions import user_can
    from curation.services.runs import run_kind_action

    if run.project is None:
        return user.is_superuser or run.created_by_id == user.pk
    return user_can(user, run.project, run_kind_action(run.kind))
