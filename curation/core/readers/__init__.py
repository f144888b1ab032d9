"""Pure readers for import files: CSV, TSV, JSON Lines, Parquet and saved HF datasets.

Text files may be gzip or Zstandard compressed (told by their first bytes, whatever their
name says); Parquet compresses inside, so a compressed Parquet file is refused.

Every reader streams ``(position, record)`` pairs (position = 1-based line, or row for
columnar files) without loading the file whole, reports how much it has read as a
fraction, and raises `ImportFileError` naming the file, line/row and column on bad
input. `RecordMapper` then turns records into typed content fields, label and id.
No Django here: tests and scripts call these directly.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from curation.exceptions import ImportFileError

from .errors import ErrorFactory, ImportRowError, error_factory
from .mapping import (
    MappedRecord,
    RecordMapper,
    check_columns_present,
    missing_column_message,
    resolve_mapping,
)
from .options import FORMATS, ID_KEY, LABEL_KEY, ImportOptions, detect_format


class RecordReader(Protocol):
    unit: str  # "line" or "row"
    columns_are_fixed: bool  # False when records may differ in their keys (JSON Lines)
    error: ErrorFactory

    @property
    def fraction_read(self) -> float: ...

    def columns(self) -> list[str]: ...

    def check_mapping(self, mapping: dict[str, str]) -> None: ...

    def records(self, columns: list[str] | None = None) -> Iterator[tuple[int, dict[str, Any]]]: ...


def open_reader(path: Path, options: ImportOptions, *, name: str, format: str) -> RecordReader:
    """The reader for ``format`` (already resolved from "auto") over ``path``."""
    from .columnar import HuggingFaceDatasetReader, ParquetReader
    from .compression import COMPRESSION_LABELS, sniff_archive, sniff_compression
    from .text import DelimitedReader, JsonLinesReader

    if not path.exists():
        raise ImportFileError("file not found", file=name)
    if format == "hf_dataset":
        if not path.is_dir():
            raise ImportFileError("a saved Hugging Face dataset is a folder", file=name)
        return HuggingFaceDatasetReader(path, options, name=name)
    if path.is_dir():
        raise ImportFileError(f"is a folder, not a {format} file", file=name)
    archive = sniff_archive(path)
    if archive is not None:
        raise ImportFileError(
            f"is a {archive} archive; extract the file to import from it", file=name
        )
    compression = sniff_compression(path)
    if compression is not None and format == "parquet":
        raise ImportFileError(
            f"is {COMPRESSION_LABELS[compression]}-compressed; Parquet compresses inside, "
            "so decompress the file first",
            file=name,
        )
    if format in ("csv", "tsv"):
        return DelimitedReader(path, options, name=name, format=format, compression=compression)
    if format == "jsonl":
        return JsonLinesReader(path, options, name=name, compression=compression)
    if format == "parquet":
        return ParquetReader(path, options, name=name)
    raise ImportFileError(f"unknown format '{format}'", file=name)


__all__ = [
    "FORMATS",
    "ID_KEY",
    "LABEL_KEY",
    "ImportOptions",
    "ImportRowError",
    "MappedRecord",
    "RecordMapper",
    "RecordReader",
    "check_columns_present",
    "detect_format",
    "error_factory",
    "missing_column_message",
    "open_reader",
    "resolve_mapping",
]
