"""Columnar formats: Parquet files and saved Hugging Face datasets.

Both are read in Arrow record batches, so memory stays bounded; pyarrow and datasets are
imported inside the functions that need them, never when Django starts. Column types are
checked before the first row is read: a content field must be a text column.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import error_factory
from .mapping import check_columns_present
from .options import ID_KEY, LABEL_KEY, ImportOptions

BATCH_ROWS = 2_000


class ColumnarReader:
    """Common ground of the columnar readers: rows numbered from 1, type checks."""

    unit = "row"
    columns_are_fixed = True

    def __init__(self, path: Path, options: ImportOptions, *, name: str) -> None:
        self.path = path
        self.options = options
        self.name = name
        self.error = error_factory(name, self.unit)
        self._rows_read = 0
        self._class_names: dict[str, list[str]] = {}

    @property
    def fraction_read(self) -> float:
        return min(self._rows_read / max(self.num_rows(), 1), 1.0)

    def num_rows(self) -> int:
        raise NotImplementedError

    def schema(self):
        raise NotImplementedError

    def columns(self) -> list[str]:
        return list(self.schema().names)

    def check_mapping(self, mapping: dict[str, str]) -> None:
        """Refuse columns whose type cannot hold what the mapping asks of them."""
        schema = self.schema()
        check_columns_present(mapping, schema.names, self.error)
        for field, column in mapping.items():
            kind = arrow_type_kind(schema.field(column).type)
            if column in self._class_names:
                kind = "class_label"
            allowed = {"text"} if field not in (LABEL_KEY, ID_KEY) else {"text", "integer"}
            if field == LABEL_KEY:
                allowed.add("class_label")
            if kind not in allowed:
                raise self.error(
                    f"column '{column}' has type {schema.field(column).type}; "
                    f"{_role(field)} needs {' or '.join(sorted(allowed))}",
                    field=column,
                )

    def _rows(self, batches) -> Iterator[tuple[int, dict[str, Any]]]:
        self._rows_read = 0
        for batch in batches:
            self._check_valid(batch)
            for record in batch.to_pylist():
                self._rows_read += 1
                for column, names in self._class_names.items():
                    value = record.get(column)
                    if isinstance(value, int):
                        # ClassLabel stores -1 for "no label".
                        record[column] = names[value] if 0 <= value < len(names) else None
                yield self._rows_read, record

    def _check_valid(self, batch) -> None:
        """Refuse a batch Arrow itself finds invalid, naming its first bad row and column.

        Arrow trusts a file's string data to be UTF-8; a damaged file breaks that, and
        converting such a value to Python raised a bare UnicodeDecodeError with no place."""
        import pyarrow as pa

        try:
            batch.validate(full=True)
        except pa.ArrowInvalid as exc:
            row, column = _first_invalid_cell(batch)
            reason = " ".join(str(exc).split())
            raise self.error(
                f"the value cannot be read; the file is damaged ({reason})",
                self._rows_read + row,
                column,
            ) from exc


def _first_invalid_cell(batch) -> tuple[int, str | None]:
    """(1-based row within ``batch``, column) of its first invalid value; (1, None) when no
    single value is to blame. Only called on the error path, so one value at a time is fine."""
    import pyarrow as pa

    for row in range(batch.num_rows):
        for name in batch.schema.names:
            try:
                batch.column(name).slice(row, 1).validate(full=True)
            except pa.ArrowInvalid:
                return row + 1, name
    return 1, None


class ParquetReader(ColumnarReader):
    def __init__(self, path: Path, options: ImportOptions, *, name: str) -> None:
        super().__init__(path, options, name=name)
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            self._file = pq.ParquetFile(path)
            self._file.schema_arrow  # noqa: B018 -- decoded here, so a damaged footer fails here
        except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
            # A damaged footer can hold names that are not UTF-8 (UnicodeDecodeError).
            raise self.error(f"not a readable Parquet file ({exc})") from exc

    def num_rows(self) -> int:
        return self._file.metadata.num_rows

    def schema(self):
        return self._file.schema_arrow

    def records(self, columns: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
        return self._rows(self._checked_batches(columns))

    def _checked_batches(self, columns: list[str]):
        """The file's record batches, one row group at a time. A page that cannot be read
        or decompressed (a damaged file) is an error at the first row not yet given: pyarrow
        reads ahead, so without row groups to go by every error would say "row 1"."""
        import pyarrow as pa

        first_row = 1
        for group in range(self._file.metadata.num_row_groups):
            batches = self._file.iter_batches(
                batch_size=BATCH_ROWS, columns=columns, row_groups=[group]
            )
            try:
                yield from batches
            except (pa.ArrowException, OSError) as exc:
                reason = " ".join(str(exc).split())
                raise self.error(
                    f"the data from this row on cannot be read; the file is damaged ({reason})",
                    max(first_row, self._rows_read + 1),
                ) from exc
            first_row += self._file.metadata.row_group(group).num_rows


class HuggingFaceDatasetReader(ColumnarReader):
    """A folder written by ``Dataset.save_to_disk`` or ``DatasetDict.save_to_disk``; a
    DatasetDict needs ``options.split`` unless it holds a single split."""

    def __init__(self, path: Path, options: ImportOptions, *, name: str) -> None:
        super().__init__(path, options, name=name)
        self._dataset = self._load()
        from datasets import ClassLabel

        for column, feature in self._dataset.features.items():
            if isinstance(feature, ClassLabel):
                self._class_names[column] = list(feature.names)

    def _load(self):
        from datasets import DatasetDict, load_from_disk

        try:
            loaded = load_from_disk(str(self.path))
        except (FileNotFoundError, ValueError) as exc:
            raise self.error(
                f"not a saved Hugging Face dataset (Dataset.save_to_disk): {exc}"
            ) from exc
        split = self.options.split
        if not isinstance(loaded, DatasetDict):
            if split:
                raise self.error(
                    f"is a single dataset without splits; drop the split '{split}'",
                    option="split",
                )
            return loaded
        if split is None and len(loaded) == 1:
            split = next(iter(loaded))
        if split not in loaded:
            asked = f"has no split '{split}'" if split else "has several splits; pick one"
            raise self.error(
                f"{asked} with the split option (splits: {', '.join(loaded)})", option="split"
            )
        return loaded[split]

    def num_rows(self) -> int:
        return self._dataset.num_rows

    def schema(self):
        return self._dataset.data.schema

    def records(self, columns: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
        selected = self._dataset.select_columns(columns).with_format("arrow")
        return self._rows(selected.iter(batch_size=BATCH_ROWS))


def arrow_type_kind(arrow_type) -> str:
    """'text', 'integer' or 'other' for an Arrow type."""
    import pyarrow as pa

    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    if (
        pa.types.is_string(arrow_type)
        or pa.types.is_large_string(arrow_type)
        or pa.types.is_string_view(arrow_type)
    ):
        return "text"
    if pa.types.is_integer(arrow_type):
        return "integer"
    return "other"


def _role(field: str) -> str:
    if field == LABEL_KEY:
        return "a label"
    if field == ID_KEY:
        return "an id"
    return f"the content field '{field}'"
