"""Exports: writing a dataset version out as files a training job (ours or anyone's) reads.

An export folder holds, per format asked for, ``hf_dataset/`` (a saved `DatasetDict`),
``parquet/<split>.parquet`` and ``jsonl/<split>.jsonl``, plus a ``README.md`` dataset card
and ``SHA256SUMS``. Exporting the same version twice gives byte-identical files.

The files are written to a temporary folder inside EXPORT_DIR and renamed into place at
``EXPORT_DIR/<project id>/v<number>/export-<export id>`` only once complete, so a crash
never leaves half an export behind. Drafts and versions in review may be exported (to look
at them, or for a trial run); their card says, at the top, that they are not approved.
Rejected versions are not exported: they are known to be wrong.
"""

import os
import shutil
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction

from curation.core import export_writers as writers
from curation.exceptions import AssayError
from curation.models import (
    DatasetExport,
    DatasetVersion,
    ExportFile,
    ExportFormat,
    Run,
    VersionStatus,
)
from curation.services.runs import Progress, SilentProgress, run_enqueue

FORMAT_ORDER = tuple(ExportFormat.values)
TEMPORARY_PREFIX = ".tmp-"
# A temporary folder this old belongs to an export whose process was killed outright.
STALE_TEMPORARY_SECONDS = 24 * 3600


def _clean_formats(formats) -> list[str]:
    if not formats:
        return list(FORMAT_ORDER)
    unknown = sorted(set(formats) - set(FORMAT_ORDER))
    if unknown:
        raise AssayError(
            f"Unknown export format(s) {', '.join(unknown)}; expected {', '.join(FORMAT_ORDER)}."
        )
    return [name for name in FORMAT_ORDER if name in formats]


def _schema(version: DatasetVersion) -> writers.ExportSchema:
    manifest = version.manifest
    return writers.ExportSchema(
        task_type=manifest.get("task_type", version.project.task_type),
        fields=tuple(manifest.get("fields") or version.project.content_fields),
        labels=tuple(manifest.get("labels") or ()),
    )


def _split_rows(version: DatasetVersion, split: str) -> list[writers.ExportRow]:
    """A split's members in external-id order (sorted here, not by the database's collation)."""
    members = version.members.filter(split=split).values_list(
        "external_id", "fields", "label", "label_origin", "source", "content_hash"
    )
    rows = [writers.ExportRow(*member) for member in members.iterator(chunk_size=2000)]
    return sorted(rows, key=lambda row: row.id)


def _check_exportable(version: DatasetVersion, schema: writers.ExportSchema) -> None:
    if version.status == VersionStatus.REJECTED:
        raise AssayError(f"{version} was rejected; build and approve a new version to export.")
    if not schema.is_classification and not {"prompt", "response"} <= set(schema.fields):
        raise AssayError(
            f"{version} cannot be exported in chat format: generation exports need 'prompt' "
            f"and 'response' fields, and the project has {', '.join(schema.fields)}."
        )


def _card(version: DatasetVersion, formats: list[str]) -> str:
    manifest = version.manifest
    return writers.render_dataset_card(
        writers.CardInfo(
            title=version.project.name,
            version_number=version.number,
            status=version.status,
            task_type=version.project.task_type,
            content_hash=version.content_hash,
            hash_algorithm=manifest.get("hash_algorithm", "sha256"),
            seed=version.seed,
            ratios=version.split_ratios,
            parent_number=version.parent.number if version.parent else None,
            split_counts=manifest.get("split_counts", {}),
            label_distribution=manifest.get("label_distribution", {}),
            sources=manifest.get("sources", {}),
            fields=manifest.get("fields", version.project.content_fields),
            labels=manifest.get("labels", []),
            formats=formats,
            reviewed_by=version.reviewed_by.get_username() if version.reviewed_by else "",
            note=version.note,
        )
    )


def _write_files(version, folder: Path, formats: list[str], progress: Progress) -> None:
    schema = _schema(version)
    hf_splits = {}
    for step, split in enumerate(writers.SPLITS):
        progress.update(5 + 25 * step, f"Writing the {split} split")
        rows = _split_rows(version, split)
        if ExportFormat.JSONL in formats:
            writers.write_jsonl(folder / "jsonl" / f"{split}.jsonl", rows, schema)
        if formats == [ExportFormat.JSONL]:
            continue  # the other formats go through an Arrow table
        table = writers.rows_table(rows, schema)
        if ExportFormat.PARQUET in formats:
            writers.write_parquet(folder / "parquet" / f"{split}.parquet", table)
        if ExportFormat.HF_DATASET in formats:
            fingerprint = writers.split_fingerprint(version.content_hash, split)
            hf_splits[split] = writers.hf_split_dataset(table, rows, schema, fingerprint)
    if hf_splits:
        progress.update(80, "Saving the Hugging Face dataset")
        writers.write_hf_dataset(folder / "hf_dataset", hf_splits)
    (folder / writers.CARD_FILE).write_text(_card(version, formats), encoding="utf-8")


def dataset_version_export(
    *,
    version: DatasetVersion,
    formats: list[str] | None = None,
    created_by=None,
    progress: Progress | None = None,
) -> DatasetExport:
    """Write the version's files and record them, all or nothing (see the module doc)."""
    progress = progress or SilentProgress()
    formats = _clean_formats(formats)
    _check_exportable(version, _schema(version))
    export_root = Path(settings.EXPORT_DIR)
    _remove_stale_temporaries(export_root)
    temporary = export_root / f"{TEMPORARY_PREFIX}{uuid.uuid4().hex}"
    temporary.mkdir(parents=True)
    final: Path | None = None
    try:
        _write_files(version, temporary, formats, progress)
        files = writers.write_checksums(temporary)
        progress.update(95, "Recording the export")
        with transaction.atomic():
            export = _record(version, formats, files, created_by)
            destination = Path(export.path)
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.rename(temporary, destination)
            final = destination
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        if final is not None and final.exists():
            shutil.rmtree(final, ignore_errors=True)  # renamed, but the records rolled back
        raise
    progress.log(f"Exported {version} to {final} ({len(files)} files)")
    return export


def _remove_stale_temporaries(export_root: Path) -> None:
    cutoff = time.time() - STALE_TEMPORARY_SECONDS
    for folder in export_root.glob(f"{TEMPORARY_PREFIX}*"):
        if folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)


def _record(version, formats, files: list[writers.ExportedFile], created_by) -> DatasetExport:
    export = DatasetExport.objects.create(
        version=version, formats=formats, path="", created_by=created_by
    )
    export.path = str(
        Path(settings.EXPORT_DIR)
        / str(version.project_id)
        / f"v{version.number}"
        / f"export-{export.pk}"
    )
    export.save(update_fields=["path"])
    ExportFile.objects.bulk_create(
        ExportFile(export=export, path=f.path, sha256=f.sha256, size_bytes=f.size_bytes)
        for f in files
    )
    return export


def export_start(
    *, version: DatasetVersion, formats: list[str] | None = None, created_by=None
) -> Run:
    """Queue an export of ``version`` for the worker (one at a time per version)."""
    return run_enqueue(
        kind="export",
        target=version,
        project=version.project,
        params={"formats": _clean_formats(formats)},
        created_by=created_by,
    )


def export_run_handler(run: Run, progress: Progress) -> dict:
    export = dataset_version_export(
        version=run.target,
        formats=run.params.get("formats"),
        created_by=run.created_by,
        progress=progress,
    )
    from curation.services.audit import audit_record

    audit_record(
        project=run.target.project,
        actor=run.created_by,
        action="version.export",
        target=run.target,
        after={"export_id": export.pk, "path": export.path, "formats": export.formats},
        message=f"Exported to {export.path}",
    )
    progress.update(100, f"Exported to {export.path}")
    return {
        "export_id": export.pk,
        "path": export.path,
        "files": [
            {"path": f.path, "sha256": f.sha256, "size_bytes": f.size_bytes}
            for f in export.files.all()
        ],
    }
