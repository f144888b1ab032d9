"""Import runs: storing an upload, queueing the run, and the run's handler."""

import logging
import shutil
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.utils.text import get_valid_filename

from curation.core.readers import ImportOptions
from curation.exceptions import AssayError, ImportFileError
from curation.models import Project, Run
from curation.services.runs import Progress, run_enqueue

from .files import examples_import

logger = logging.getLogger(__name__)


def import_upload_store(*, uploaded_file) -> Path:
    """Save an uploaded file as ``UPLOAD_DIR/<uuid>/<its name>`` for an import run; the
    run deletes the folder when it ends."""
    try:
        name = get_valid_filename(Path(uploaded_file.name or "").name)
    except SuspiciousFileOperation:
        name = "upload"
    folder = Path(settings.UPLOAD_DIR) / uuid.uuid4().hex
    folder.mkdir(parents=True)
    path = folder / name
    with open(path, "wb") as handle:
        for chunk in uploaded_file.chunks():
            handle.write(chunk)
    return path


def import_run_params(
    *, path: Path | str, options: ImportOptions, display_name: str | None = None
) -> dict[str, Any]:
    """The params of an import run; refuses a path that does not exist or whose format
    cannot be told, before any run is created."""
    path = Path(path).resolve()
    name = display_name or path.name
    if not path.exists():
        raise ImportFileError("file not found", file=name)
    try:
        options.resolved_format(path)
    except AssayError as exc:
        raise ImportFileError(str(exc), file=name) from exc
    return {"path": str(path), "display_name": name, "options": options.to_dict()}


def import_start(
    *,
    project: Project,
    path: Path | str,
    options: ImportOptions,
    display_name: str | None = None,
    created_by=None,
) -> Run:
    """Queue an import run of ``path`` into ``project``. Refused (`RunAlreadyActive`)
    while another import into the project is queued or running; an uploaded copy is
    deleted when the run is refused or ends."""
    try:
        params = import_run_params(path=path, options=options, display_name=display_name)
        return run_enqueue(
            kind="import", target=project, project=project, params=params, created_by=created_by
        )
    except AssayError:
        _discard_upload(Path(path))
        raise


def import_run_handler(run: Run, progress: Progress) -> dict[str, Any]:
    """Run handler for kind "import" (see `curation.services.runs.RUN_KINDS`)."""
    path = Path(run.params["path"])
    options = ImportOptions.from_dict(run.params["options"])
    try:
        report = examples_import(
            project=run.target,
            path=path,
            options=options,
            display_name=run.params.get("display_name"),
            progress=progress,
        )
    finally:
        _discard_upload(path)
    from curation.services.audit import audit_record

    result = report.as_dict()
    if options.synthetic:
        from curation.services.synthetic import synthetic_near_duplicates_flag

        result["near_duplicates"] = synthetic_near_duplicates_flag(project=run.target)
    audit_record(
        project=run.target,
        actor=run.created_by,
        action="import",
        target=run,
        after={k: result[k] for k in ("file", "format", "created", "labelled", "source")},
        message=f"Imported {report.created:,} examples from {report.file}",
    )
    return result


def _discard_upload(path: Path) -> None:
    """Delete an uploaded copy (its ``UPLOAD_DIR/<uuid>/`` folder); files anywhere else
    belong to the user and are never touched."""
    folder = path.resolve().parent
    if folder.parent == Path(settings.UPLOAD_DIR).resolve() and folder.is_dir():
        shutil.rmtree(folder, ignore_errors=True)
        logger.info("removed uploaded file %s", path)
