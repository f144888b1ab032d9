"""Import runs: storing an upload, queueing the run, and the run's handler."""

import logging
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.template.defaultfilters import filesizeformat
from django.utils.text import get_valid_filename

from curation.core.readers import ImportOptions
from curation.exceptions import AssayError, ImportFileError
from curation.models import Project, Run
from curation.models.runs import ACTIVE_RUN_STATUSES
from curation.services.runs import Progress, run_enqueue

from .files import examples_import

logger = logging.getLogger(__name__)


# Most file systems hold names of at most 255 bytes.
MAX_NAME_BYTES = 255


def import_upload_store(*, uploaded_file) -> Path:
    """Save an uploaded file as ``UPLOAD_DIR/<uuid>/<its name>`` for an import run; the
    run deletes the folder when it ends, and `import_uploads_sweep` any folder left behind
    once UPLOAD_RETENTION_SECONDS have passed.

    Refuses a file over UPLOAD_MAX_BYTES before anything is written (Django has already
    streamed a large one to a temporary file, not into memory). The stored name is the
    upload's, made safe and cut to 255 bytes; errors and provenance keep the full name,
    which callers pass to `import_start` as ``display_name``. A failed write leaves no
    folder behind."""
    display = Path(uploaded_file.name or "").name or "upload"
    _check_upload_size(display, uploaded_file.size)
    import_uploads_sweep()
    folder = Path(settings.UPLOAD_DIR) / uuid.uuid4().hex
    folder.mkdir(parents=True)
    path = folder / _stored_name(display)
    try:
        with open(path, "wb") as handle:
            for chunk in uploaded_file.chunks():
                handle.write(chunk)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return path


def _check_upload_size(name: str, size: int | None) -> None:
    limit = settings.UPLOAD_MAX_BYTES
    if limit and size is not None and size > limit:
        raise ImportFileError(
            f"the file is {_size(size)}; uploads are limited to "
            f"{_size(limit)} (ASSAY_UPLOAD_MAX_BYTES). Split it, or import it "
            f"from the server with manage.py assay_import, which has no limit",
            file=name,
        )


def _size(size: int) -> str:
    return filesizeformat(size).replace("\xa0", " ")


def _stored_name(name: str) -> str:
    """``name`` made safe for the file system and at most MAX_NAME_BYTES long, its
    extension (which tells the format) kept."""
    try:
        safe = get_valid_filename(name)
    except SuspiciousFileOperation:
        safe = "upload"
    stem, suffix = os.path.splitext(safe)
    if len(suffix.encode()) > 32:
        stem, suffix = safe, ""
    budget = MAX_NAME_BYTES - len(suffix.encode())
    stem = stem.encode()[:budget].decode("utf-8", errors="ignore") or "upload"
    return stem + suffix


def import_uploads_sweep() -> list[Path]:
    """Delete upload folders older than UPLOAD_RETENTION_SECONDS that no queued or running
    import uses: copies whose run never ran, or whose worker died before its cleanup.
    Returns the folders removed."""
    root = Path(settings.UPLOAD_DIR)
    if not root.is_dir():
        return []
    cutoff = time.time() - settings.UPLOAD_RETENTION_SECONDS
    old = [f for f in root.iterdir() if f.is_dir() and f.stat().st_mtime < cutoff]
    if not old:
        return []
    in_use = {
        Path(params.get("path", "")).resolve().parent
        for params in Run.objects.filter(kind="import", status__in=ACTIVE_RUN_STATUSES)
        .values_list("params", flat=True)
        .iterator()
    }
    removed = [folder for folder in old if folder.resolve() not in in_use]
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
        logger.info("removed upload folder %s after its retention", folder)
    return removed


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
