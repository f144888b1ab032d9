"""Writers for the files of a dataset export: JSON Lines, Parquet, a saved Hugging Face
`DatasetDict`, the dataset card and the checksum list.

Pure Python (no Django): the export service loads a version's rows and calls these. Every
writer is deterministic: the same rows give byte-identical files, so an export can be
checked against an earlier one by its checksums. pyarrow and datasets are imported inside
the functions that need them, so importing this module is cheap.
"""

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curation.core.hashing import file_sha256

SPLITS = ("train", "validation", "test")
CHECKSUM_FILE = "SHA256SUMS"
CARD_FILE = "README.md"


@dataclass(frozen=True)
class ExportSchema:
    """What the rows look like: the task, the content field names and (for
    classification) the ordered label names."""

    task_type: str
    fields: tuple[str, ...]
    labels: tuple[str, ...] = ()

    @property
    def is_classification(self) -> bool:
        return self.task_type == "classification"


@dataclass(frozen=True)
class ExportRow:
    """One frozen member, as the writers see it."""

    id: str
    fields: Mapping[str, str]
    label: str
    label_origin: str
    source: str
    content_hash: str


def chat_messages(row: ExportRow) -> list[dict[str, str]]:
    """The chat form of a generation row: an optional system turn, the prompt as the
    user's turn and the response as the assistant's."""
    messages = []
    if row.fields.get("system"):
        messages.append({"role": "system", "content": row.fields["system"]})
    messages.append({"role": "user", "content": row.fields.get("prompt", "")})
    messages.append({"role": "assistant", "content": row.fields.get("response", "")})
    return messages


def jsonl_record(row: ExportRow, schema: ExportSchema) -> dict[str, Any]:
    if schema.is_classification:
        return {
            "id": row.id,
            **{name: row.fields.get(name, "") for name in schema.fields},
            "label": row.label,
        }
    return {"id": row.id, "messages": chat_messages(row)}


def write_jsonl(path: Path, rows: Iterable[ExportRow], schema: ExportSchema) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(json.dumps(jsonl_record(row, schema), ensure_ascii=False))
            handle.write("\n")


def rows_table(rows: Sequence[ExportRow], schema: ExportSchema):
    """A pyarrow table of every frozen column, strings throughout, in the rows' order."""
    import pyarrow as pa

    columns: dict[str, list[str]] = {"id": [row.id for row in rows]}
    for name in schema.fields:
        columns[name] = [row.fields.get(name, "") for row in rows]
    for name in ("label", "label_origin", "source", "content_hash"):
        columns[name] = [getattr(row, name) for row in rows]
    arrow_schema = pa.schema([(name, pa.string()) for name in columns])
    return pa.table(columns, schema=arrow_schema)


def write_parquet(path: Path, table) -> None:
    """Parquet without pandas metadata (the table never went through pandas)."""
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")


def hf_split_dataset(table, rows: Sequence[ExportRow], schema: ExportSchema, fingerprint: str):
    """One split as a `datasets.Dataset`: id, the content fields and the label (a
    `ClassLabel` for classification), plus chat ``messages`` for generation."""
    import pyarrow as pa
    from datasets import ClassLabel, Dataset, DatasetInfo, Features

    table = table.select(["id", *schema.fields, "label"])
    if schema.is_classification:
        index = {name: position for position, name in enumerate(schema.labels)}
        labels = pa.array([index[row.label] for row in rows], pa.int64())
        table = table.set_column(table.schema.get_field_index("label"), "label", labels)
    else:
        message = pa.struct([("role", pa.string()), ("content", pa.string())])
        messages = pa.array([chat_messages(row) for row in rows], pa.list_(message))
        table = table.append_column("messages", messages)
    features = Features.from_arrow_schema(table.schema)
    if schema.is_classification:
        features["label"] = ClassLabel(names=list(schema.labels))
    table = table.cast(features.arrow_schema)
    return Dataset(table, info=DatasetInfo(features=features), fingerprint=fingerprint)


def write_hf_dataset(path: Path, datasets_by_split: Mapping[str, Any]) -> None:
    """Save a `DatasetDict` with no progress bars; `datasets` writes no timestamps, and
    each split carries the fingerprint it was given, so the files are reproducible."""
    from datasets import DatasetDict
    from datasets.utils import logging as datasets_logging

    was_enabled = datasets_logging.is_progress_bar_enabled()
    datasets_logging.disable_progress_bar()
    try:
        DatasetDict({split: datasets_by_split[split] for split in SPLITS}).save_to_disk(str(path))
    finally:
        if was_enabled:
            datasets_logging.enable_progress_bar()


def split_fingerprint(version_hash: str, split: str) -> str:
    """A deterministic fingerprint (datasets would otherwise pick a random one)."""
    return hashlib.sha256(f"{version_hash}:{split}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ExportedFile:
    path: str
    sha256: str
    size_bytes: int


def folder_files(folder: Path) -> list[ExportedFile]:
    """Every file under ``folder`` with its checksum, sorted by relative path."""
    files = [p for p in folder.rglob("*") if p.is_file()]
    return sorted(
        (
            ExportedFile(p.relative_to(folder).as_posix(), file_sha256(p), p.stat().st_size)
            for p in files
        ),
        key=lambda f: f.path,
    )


def write_checksums(folder: Path) -> list[ExportedFile]:
    """Write SHA256SUMS (``sha256sum -c`` format) for every other file in ``folder``;
    returns every file, the checksum list included."""
    listed = [f for f in folder_files(folder) if f.path != CHECKSUM_FILE]
    (folder / CHECKSUM_FILE).write_text(
        "".join(f"{f.sha256}  {f.path}\n" for f in listed), encoding="utf-8", newline="\n"
    )
    return folder_files(folder)


def read_checksums(folder: Path) -> dict[str, str]:
    """The ``{relative path: sha256}`` that ``folder``'s SHA256SUMS lists ({} if none)."""
    checksums = folder / CHECKSUM_FILE
    if not checksums.is_file():
        return {}
    listed = {}
    for line in checksums.read_text(encoding="utf-8").splitlines():
        digest, _, path = line.partition("  ")
        if path:
            listed[path] = digest
    return listed


def card_version_hash(card: str) -> str | None:
    """The version hash a dataset card (`render_dataset_card`) was written with."""
    found = re.search(r"^- Version hash \([a-z0-9]+\): `([0-9a-f]+)`$", card, re.MULTILINE)
    return found.group(1) if found else None


@dataclass(frozen=True)
class CardInfo:
    """Everything the dataset card says. Nothing time-dependent, so the card is
    reproducible."""

    title: str
    version_number: int
    status: str
    task_type: str
    content_hash: str
    hash_algorithm: str
    seed: int
    ratios: Mapping[str, float]
    parent_number: int | None
    split_counts: Mapping[str, int]
    label_distribution: Mapping[str, Mapping[str, int]]
    sources: Mapping[str, int]
    fields: Sequence[str]
    labels: Sequence[str]
    formats: Sequence[str]
    reviewed_by: str = ""
    note: str = ""


STATUS_BANNERS = {
    "approved": "Approved",
    "draft": "DRAFT — not approved",
    "in_review": "IN REVIEW — not approved",
    "rejected": "REJECTED — not approved",
}


def render_dataset_card(info: CardInfo) -> str:
    """The README.md of an export, in Markdown."""
    status = STATUS_BANNERS.get(info.status, info.status)
    if info.status == "approved" and info.reviewed_by:
        status += f" (reviewed by {info.reviewed_by})"
    parent = f"v{info.parent_number}" if info.parent_number is not None else "none"
    ratios = " / ".join(f"{split} {info.ratios[split]:g}" for split in SPLITS)
    lines = [
        f"# {info.title} — dataset version {info.version_number}",
        "",
        f"**Status: {status}**",
        "",
        f"- Task: {info.task_type}",
        f"- Content fields: {', '.join(info.fields)}",
        f"- Version hash ({info.hash_algorithm}): `{info.content_hash}`",
        f"- Parent version: {parent}",
        f"- Split seed: {info.seed}; ratios: {ratios}",
        f"- Formats: {', '.join(info.formats)}",
    ]
    if info.labels:
        lines.append(f"- Labels: {', '.join(info.labels)}")
    if info.note:
        lines += ["", "## Note", "", info.note.strip()]
    lines += ["", *_counts_section(info), "", *_sources_section(info), "", *_files_section(info)]
    return "\n".join(lines) + "\n"


def _counts_section(info: CardInfo) -> list[str]:
    total = sum(info.split_counts.values())
    lines = ["## Splits", "", "| split | examples |", "|---|---|"]
    lines += [f"| {split} | {info.split_counts.get(split, 0)} |" for split in SPLITS]
    lines.append(f"| total | {total} |")
    labels = sorted({label for counts in info.label_distribution.values() for label in counts})
    if not labels:
        return lines
    lines += ["", "## Labels per split", "", f"| label | {' | '.join(SPLITS)} |"]
    lines.append("|---" * (len(SPLITS) + 1) + "|")
    for label in labels:
        cells = [str(info.label_distribution.get(split, {}).get(label, 0)) for split in SPLITS]
        lines.append(f"| {label or '(none)'} | {' | '.join(cells)} |")
    return lines


def _sources_section(info: CardInfo) -> list[str]:
    lines = ["## Sources", "", "| source | examples |", "|---|---|"]
    return lines + [f"| {name} | {count} |" for name, count in sorted(info.sources.items())]


def _files_section(info: CardInfo) -> list[str]:
    lines = ["## Files", ""]
    classification = info.task_type == "classification"
    if "hf_dataset" in info.formats:
        columns = "label (a `ClassLabel`)" if classification else "label and chat `messages`"
        lines.append(
            "- `hf_dataset/`: `datasets.load_from_disk(...)` gives a `DatasetDict` "
            f"(train/validation/test) with id, the content fields, {columns}."
        )
    if "parquet" in info.formats:
        lines.append(
            "- `parquet/<split>.parquet`: every frozen column (id, fields, label, "
            "label_origin, source, content_hash), rows ordered by id."
        )
    if "jsonl" in info.formats:
        shape = '{"id", fields…, "label"}' if classification else '{"id", "messages": [...]}'
        lines.append(f"- `jsonl/<split>.jsonl`: one `{shape}` object per line.")
    lines.append(f"- `{CHECKSUM_FILE}`: SHA-256 of every file (`sha256sum -c {CHECKSUM_FILE}`).")
    return lines
