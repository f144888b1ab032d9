"""Shared pieces of the management commands: who is acting (``--user``), finding objects
through the permission table, and running a run inline with a progress bar (the same
`run_execute` the worker calls)."""

from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import CommandError
from tqdm import tqdm

from curation.exceptions import AssayError
from curation.models import DatasetVersion, Project, Run, RunStatus
from curation.permissions import Action, require
from curation.services.runs import run_create, run_execute


def add_user_argument(parser) -> None:
    parser.add_argument(
        "--user",
        help="Username to act as; its role in the project is checked (default: the only "
        "superuser, when there is exactly one).",
    )


def command_user(username: str | None):
    """The user a command acts as: ``--user``, else the one superuser."""
    users = get_user_model().objects
    if username:
        user = users.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named '{username}'.")
        return user
    superusers = list(users.filter(is_superuser=True, is_active=True)[:2])
    if len(superusers) != 1:
        raise CommandError(
            "Say who is acting with --user USERNAME (there is not exactly one superuser)."
        )
    return superusers[0]


def project_from_ref(ref: str, *, user=None, action: Action = Action.VIEW) -> Project:
    """A project by id or by exact name; with ``user``, only if their role allows
    ``action`` (a non-member is told the project does not exist, as on the pages)."""
    query = (
        Project.objects.filter(pk=int(ref)) if ref.isdigit() else Project.objects.filter(name=ref)
    )
    project = query.first()
    if project is None:
        raise CommandError(f"No project with id or name '{ref}'.")
    if user is not None:
        try:
            require(user, project, action)
        except PermissionDenied as exc:
            from curation.permissions import project_role

            if project_role(user, project) is None:
                raise CommandError(f"No project with id or name '{ref}'.") from exc
            raise CommandError(str(exc)) from exc
    return project


def version_from_ref(project: Project, number: int) -> DatasetVersion:
    version = project.versions.filter(number=number).first()
    if version is None:
        raise CommandError(f"Project '{project.name}' has no version {number}.")
    return version


@contextmanager
def progress_bar(description: str, *, disable: bool = False):
    """A 0–100 tqdm bar; yields a listener for `run_execute`."""
    with tqdm(total=100, desc=description, unit="%", disable=disable, leave=True) as bar:

        def listener(percent: float, message: str) -> None:
            bar.n = int(percent)
            bar.set_postfix_str(message[:60], refresh=False)
            bar.refresh()

        yield listener


def run_inline(
    *,
    kind: str,
    target,
    project,
    params: dict,
    created_by=None,
    quiet: bool = False,
    option_flags: dict[str, str] | None = None,
) -> Run:
    """Create a run and execute it in this process with a progress bar. Raises
    CommandError with the run's error when it fails; an error that names the option
    fixing it (`ImportFileError.option`) also gets that option's flag from
    ``option_flags``, since the message itself speaks in the API's and the form's words."""
    try:
        run = run_create(
            kind=kind, target=target, project=project, params=params, created_by=created_by
        )
    except AssayError as exc:
        raise CommandError(str(exc)) from exc
    with progress_bar(kind.replace("_", " "), disable=quiet) as listener:
        run = run_execute(run.pk, listeners=(listener,))
    if run.status != RunStatus.SUCCEEDED:
        option = (run.result.get("error") or {}).get("option")
        flag = (option_flags or {}).get(option or "")
        hint = f" (on the command line: {flag})" if flag else ""
        raise CommandError(f"{kind.replace('_', ' ')} run #{run.pk} failed: {run.error}{hint}")
    return run
