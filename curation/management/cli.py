"""Shared pieces of the management commands: finding objects, and running a run inline
with a progress bar (the same `run_execute` the worker calls)."""

from contextlib import contextmanager

from django.core.management.base import CommandError
from tqdm import tqdm

from curation.exceptions import AssayError
from curation.models import DatasetVersion, Project, Run, RunStatus
from curation.services.runs import run_create, run_execute


def project_from_ref(ref: str) -> Project:
    """A project by id or by exact name."""
    query = (
        Project.objects.filter(pk=int(ref)) if ref.isdigit() else Project.objects.filter(name=ref)
    )
    project = query.first()
    if project is None:
        raise CommandError(f"No project with id or name '{ref}'.")
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
    *, kind: str, target, project, params: dict, created_by=None, quiet: bool = False
) -> Run:
    """Create a run and execute it in this process with a progress bar. Raises
    CommandError with the run's error when it fails."""
    try:
        run = run_create(
            kind=kind, target=target, project=project, params=params, created_by=created_by
        )
    except AssayError as exc:
        raise CommandError(str(exc)) from exc
    with progress_bar(kind.replace("_", " "), disable=quiet) as listener:
        run = run_execute(run.pk, listeners=(listener,))
    if run.status != RunStatus.SUCCEEDED:
        raise CommandError(f"{kind.replace('_', ' ')} run #{run.pk} failed: {run.error}")
    return run
