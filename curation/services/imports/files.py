"""Importing one file into a project, all or nothing.

The file is streamed through a reader (`curation.core.readers`), mapped and checked
record by record, and written in batches inside one transaction: the first bad record
raises `ImportFileError` naming file, line and column, and the rollback leaves examples,
labels and the project's label set as they were. Exact duplicates (same content hash)
are kept, since a data set may contain them on purpose, but counted and reported.

With ``options.synthetic`` the records become synthetic examples pending human review,
their provenance naming the generator, method and seed (and the parent example, when a
``parent`` column is mapped); `curation.services.synthetic` flags near duplicates after.
"""

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from curation.core.hashing import content_hash
from curation.core.readers import (
    ImportOptions,
    MappedRecord,
    RecordMapper,
    open_reader,
    resolve_mapping,
)
from curation.exceptions import AssayError, ImportFileError
from curation.models import Example, ExampleSource, Label, LabelOrigin, Project, ReviewStatus
from curation.services.projects import project_label_set_extend
from curation.services.rows import RowInserter
from curation.services.runs import Progress

BATCH_SIZE = 2_000
DUPLICATE_SAMPLES = 5

T = TypeVar("T")


@dataclass
class ImportReport:
    """What an import did, as shown after the run and stored in ``run.result``."""

    file: str
    format: str
    source: str = ExampleSource.IMPORTED
    created: int = 0
    labelled: int = 0
    labels_created: int = 0
    label_set_added: list[str] = field(default_factory=list)
    duplicates_in_file: int = 0
    duplicates_of_existing: int = 0
    # Up to DUPLICATE_SAMPLES of {"line": n, "duplicate_of": "line m" | "example 'id'"}.
    duplicate_samples: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def examples_import(
    *,
    project: Project,
    path: Path | str,
    options: ImportOptions,
    display_name: str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import every record of a file as an example of ``project``, or none of them.

    ``display_name`` (default: the file's name) is what errors, provenance and generated
    ids show; an uploaded copy passes the name the user uploaded. Raises `ImportFileError`.
    """
    path = Path(path)
    name = display_name or path.name
    try:
        format = options.resolved_format(path)
    except AssayError as exc:
        raise ImportFileError(str(exc), file=name) from exc
    reader = open_reader(path, options, name=name, format=format)
    mapping = resolve_mapping(
        options.mapping,
        content_fields=project.content_fields,
        columns=reader.columns(),
        error=reader.error,
    )
    reader.check_mapping(mapping)
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        writer = _ImportWriter(
            project=locked, mapping=mapping, reader=reader, format=format, options=options
        )
        mapper = writer.mapper()
        records = (
            mapper(position, record)
            for position, record in reader.records(columns=sorted(set(mapping.values())))
        )
        for batch in _batches(records, BATCH_SIZE):
            writer.write(batch)
            if progress is not None:
                progress.update(
                    99 * reader.fraction_read,
                    f"{writer.report.created:,} examples from {name}",
                )
        writer.finish()
    if progress is not None:
        progress.log(f"Imported {writer.report.created:,} examples from {name}.")
    return writer.report


class _ImportWriter:
    """Checks and writes one import's batches; holds only counters between batches.

    Duplicates are found by asking the database about each batch's ids and hashes: the
    earlier batches of this file are already inserted (same transaction), so one query
    answers both "earlier in this file" and "already in the project", and memory stays
    flat for files of millions of rows. Examples with a primary key above ``baseline_pk``
    are this import's own.
    """

    def __init__(
        self, *, project: Project, mapping: dict[str, str], reader, format: str, options=None
    ):
        self.project = project
        self.synthetic = options.synthetic if options is not None else None
        self.source = ExampleSource.SYNTHETIC if self.synthetic else ExampleSource.IMPORTED
        self.review_status = ReviewStatus.PENDING if self.synthetic else ReviewStatus.NOT_REQUIRED
        self.mapping = mapping
        self.reader = reader
        self.unit = reader.unit
        self.name = reader.name
        self.format = format
        self.report = ImportReport(file=self.name, format=format, source=self.source)
        self.adopt_labels = project.is_classification and not project.label_set
        self.labels_found: set[str] = set()
        self.baseline_pk = Example.objects.order_by("-pk").values_list("pk", flat=True).first()
        self.baseline_pk = self.baseline_pk or 0
        self.example_rows = RowInserter(Example)
        self.label_rows = RowInserter(Label)

    def mapper(self) -> RecordMapper:
        allowed = self.project.label_set if self.project.is_classification else None
        return RecordMapper(
            self.mapping,
            content_fields=self.project.content_fields,
            allowed_labels=allowed or None,
            error=self.reader.error,
        )

    def write(self, batch: list[MappedRecord]) -> None:
        ids = [self._external_id(record) for record in batch]
        self._check_ids(batch, ids)
        hashes = [content_hash(record.fields) for record in batch]
        self._count_duplicates(batch, hashes)
        now = timezone.now()
        # The batch's rows get keys above the newest one now: reading them back by that
        # range is one index scan, where `external_id IN (2,000 ids)` cost a fifth of it.
        newest_pk = Example.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        self.example_rows.insert(
            [
                {
                    "project": self.project.pk,
                    "external_id": external_id,
                    "fields": record.fields,
                    "content_hash": digest,
                    "source": self.source,
                    "review_status": self.review_status,
                    "provenance": self._provenance(record),
                    # The import label is the example's only label, so it is the resolved
                    # one (curation.services.labels precedence); resolving row by row is slow.
                    "resolved_label": record.label,
                    "resolved_label_origin": LabelOrigin.IMPORT if record.label else "",
                    "created_at": now,
                }
                for record, external_id, digest in zip(batch, ids, hashes, strict=True)
            ]
        )
        labelled = {i: r.label for r, i in zip(batch, ids, strict=True) if r.label}
        example_pks = Example.objects.filter(project=self.project, pk__gt=newest_pk).values_list(
            "external_id", "pk"
        )
        labels = [
            {
                "example": pk,
                "value": labelled[external_id],
                "origin": LabelOrigin.IMPORT,
                "author": self.name,
                "created_at": now,
                "updated_at": now,
            }
            for external_id, pk in example_pks
            if external_id in labelled
        ]
        self.label_rows.insert(labels)
        self.labels_found.update(labelled.values())
        self.report.created += len(batch)
        self.report.labelled += len(labels)
        self.report.labels_created += len(labels)

    def _provenance(self, record: MappedRecord) -> dict[str, Any]:
        provenance = {"file": self.name, self.unit: record.position, "format": self.format}
        if self.synthetic:
            provenance.update(self.synthetic)
            if record.parent:
                provenance["parent"] = record.parent
        return provenance

    def finish(self) -> None:
        if not self.report.created:
            raise self.reader.error("the file has no records to import")
        if self.adopt_labels and self.labels_found:
            self.report.label_set_added = sorted(self.labels_found)
            project_label_set_extend(project=self.project, labels=self.report.label_set_added)

    def _external_id(self, record: MappedRecord) -> str:
        """The record's id, or ``<file name>:<line>``: stable across re-imports of the same
        file (so a second import is refused instead of doubling the data) and leading a
        reader straight back to the source line."""
        if record.external_id is not None:
            return record.external_id
        return f"{self.name}:{record.position}"

    def _check_ids(self, batch: list[MappedRecord], ids: list[str]) -> None:
        column = self.mapping.get("id")
        first_seen: dict[str, int] = {}
        for record, external_id in zip(batch, ids, strict=True):
            if external_id in first_seen:
                raise self.reader.error(
                    f"duplicate id '{external_id}': also on {self.unit} {first_seen[external_id]}",
                    record.position,
                    column,
                )
            first_seen[external_id] = record.position
        # No ORDER BY: sorting by id makes SQLite walk the project's whole (project_id)
        # index instead of probing (project_id, external_id), so every batch would read
        # every row imported so far and a large import would slow down as it grows.
        clashes = dict(
            Example.objects.filter(project=self.project, external_id__in=ids)
            .order_by()
            .values_list("external_id", "pk")
        )
        if not clashes:
            return
        record, external_id = next((r, i) for r, i in zip(batch, ids, strict=True) if i in clashes)
        existing = Example.objects.get(pk=clashes[external_id])
        raise self.reader.error(self._clash_message(external_id, existing), record.position, column)

    def _clash_message(self, external_id: str, existing: Example) -> str:
        if existing.pk > self.baseline_pk:
            where = existing.provenance.get(self.unit)
            return f"duplicate id '{external_id}': also on {self.unit} {where}"
        origin = existing.provenance.get("file")
        message = f"an example with id '{external_id}' already exists in the project"
        if origin:
            message += f" (imported from {origin})"
        if "id" not in self.mapping:
            message += "; was this file imported before?"
        return message

    def _count_duplicates(self, batch: list[MappedRecord], hashes: list[str]) -> None:
        """Count records whose content is already in this file or in the project."""
        known = {
            row["content_hash"]: row
            for row in Example.objects.filter(project=self.project, content_hash__in=set(hashes))
            .values("content_hash")
            .annotate(
                existing=Min("pk", filter=Q(pk__lte=self.baseline_pk)),
                earlier=Min("pk", filter=Q(pk__gt=self.baseline_pk)),
            )
        }
        first_in_batch: dict[str, int] = {}
        for record, digest in zip(batch, hashes, strict=True):
            row = known.get(digest, {})
            if digest in first_in_batch or row.get("earlier"):
                self.report.duplicates_in_file += 1
                self._sample(
                    record,
                    earlier_pk=row.get("earlier"),
                    earlier_position=first_in_batch.get(digest),
                )
            if row.get("existing"):
                self.report.duplicates_of_existing += 1
                self._sample(record, existing_pk=row["existing"])
            first_in_batch.setdefault(digest, record.position)

    def _sample(self, record, *, earlier_position=None, earlier_pk=None, existing_pk=None):
        samples = self.report.duplicate_samples
        if len(samples) >= DUPLICATE_SAMPLES:
            return
        if existing_pk is not None:
            other = Example.objects.values_list("external_id", flat=True).get(pk=existing_pk)
            duplicate_of = f"example '{other}'"
        else:
            if earlier_pk is not None:  # the first occurrence is in an earlier batch
                provenance = Example.objects.values_list("provenance", flat=True).get(pk=earlier_pk)
                earlier_position = provenance.get(self.unit)
            duplicate_of = f"{self.unit} {earlier_position}"
        samples.append({self.unit: record.position, "duplicate_of": duplicate_of})


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
