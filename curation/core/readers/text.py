"""Line-oriented formats: CSV/TSV through the csv module, and JSON Lines.

Both read the file as bytes and decode one line at a time, so memory stays flat however
big the file is, and a byte sequence the encoding rejects is reported with its line.
"""

import codecs
import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from .errors import error_factory
from .mapping import check_columns_present, json_type_name
from .options import ImportOptions

# Long texts (articles, transcripts) exceed the csv module's 128 KiB default field limit.
CSV_FIELD_SIZE_LIMIT = 64 * 1024 * 1024


class LineReader:
    """Common ground of the text readers: decoding, line numbers, bytes read."""

    unit = "line"
    columns_are_fixed = True

    def __init__(self, path: Path, options: ImportOptions, *, name: str) -> None:
        self.path = path
        self.options = options
        self.name = name
        self.error = error_factory(name, self.unit)
        self.line_number = 0
        self._bytes_read = 0
        self._size = max(path.stat().st_size, 1)
        if "\n".encode(options.encoding, errors="ignore") != b"\n":
            raise self.error(
                f"the encoding '{options.encoding}' cannot be read line by line; "
                "convert the file to UTF-8"
            )

    @property
    def fraction_read(self) -> float:
        return min(self._bytes_read / self._size, 1.0)

    def check_mapping(self, mapping: dict[str, str]) -> None:
        if self.columns_are_fixed:
            check_columns_present(mapping, self.columns(), self.error)

    def _decoded_lines(self, handle: BinaryIO) -> Iterator[str]:
        self.line_number = 0
        self._bytes_read = 0
        for raw in handle:
            self.line_number += 1
            self._bytes_read += len(raw)
            try:
                line = raw.decode(self.options.encoding)
            except UnicodeDecodeError as exc:
                raise self.error(
                    self._decode_problem(raw, exc), self.line_number, option="encoding"
                ) from exc
            if self.line_number == 1:
                line = line.removeprefix("\ufeff")  # a BOM is not part of the first name
            yield line

    def _decode_problem(self, raw: bytes, exc: UnicodeDecodeError) -> str:
        label = codecs.lookup(self.options.encoding).name
        label = "UTF-8" if label == "utf-8" else label
        return (
            f"not valid {label} (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
            "set the encoding option to the file's encoding"
        )


class DelimitedReader(LineReader):
    """CSV and TSV. Names come from the header line or ``options.columns``; every record
    must have exactly as many fields as there are names."""

    def __init__(self, path: Path, options: ImportOptions, *, name: str, format: str) -> None:
        super().__init__(path, options, name=name)
        delimiter = options.delimiter or ("\t" if format == "tsv" else ",")
        self.dialect: dict[str, Any] = {"delimiter": delimiter, "strict": True}
        if not options.quoting:
            # Files such as the SMS spam collection have bare quote characters in texts.
            self.dialect.update(quoting=csv.QUOTE_NONE, escapechar=None, quotechar=None)
        csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_SIZE_LIMIT))
        self._columns: list[str] | None = None

    def columns(self) -> list[str]:
        if self._columns is None:
            with open(self.path, "rb") as handle:
                header = self._header(csv.reader(self._decoded_lines(handle), **self.dialect))
            self._columns = self._names(header)
        return self._columns

    def _header(self, reader) -> list[str] | None:
        if not self.options.has_header:
            return None
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise self.error(f"malformed header: {exc}", 1) from exc
        if header is None:
            raise self.error("the file is empty")
        return header

    def _names(self, header: list[str] | None) -> list[str]:
        if self.options.columns:
            return list(self.options.columns)
        if header is None:
            raise self.error(
                "the file has no header line; name its columns with the columns option",
                option="columns",
            )
        names = [name.strip() for name in header]
        if any(not name for name in names):
            raise self.error("the header has an empty column name", 1)
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise self.error(f"the header names {', '.join(repeated)} more than once", 1)
        return names

    def records(self, columns: list[str] | None = None) -> Iterator[tuple[int, dict[str, str]]]:
        """Every record; ``columns`` is accepted for symmetry and ignored (a line is read
        whole anyway)."""
        names = self.columns()
        with open(self.path, "rb") as handle:
            reader = csv.reader(self._decoded_lines(handle), **self.dialect)
            self._header(reader)
            last_line = reader.line_num
            while True:
                start = last_line + 1
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise self.error(f"malformed {self._kind()}: {exc}", start) from exc
                last_line = reader.line_num
                if not row or (len(row) == 1 and not row[0].strip() and len(names) > 1):
                    continue  # blank line
                if len(row) != len(names):
                    raise self.error(f"expected {len(names)} fields, found {len(row)}", start)
                yield start, dict(zip(names, row, strict=True))

    def _kind(self) -> str:
        return "TSV" if self.dialect["delimiter"] == "\t" else "CSV"


class JsonLinesReader(LineReader):
    """One JSON object per line; blank lines are skipped. Objects may differ in their keys,
    so columns are checked on each record, not up front."""

    columns_are_fixed = False

    def columns(self) -> list[str]:
        """The keys of the first object (used to pick a default mapping)."""
        for _, record in self.records():
            return list(record)
        raise self.error("the file has no records")

    def records(self, columns: list[str] | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
        with open(self.path, "rb") as handle:
            for line in self._decoded_lines(handle):
                if not line.strip():
                    continue
                yield self.line_number, self._parse(line)

    def _parse(self, line: str) -> dict[str, Any]:
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            hint = ""
            if self.line_number == 1 and line.lstrip().startswith("["):
                hint = " (this looks like a JSON array; give one object per line, JSON Lines)"
            raise self.error(
                f"broken JSON: {exc.msg} (column {exc.colno}){hint}", self.line_number
            ) from exc
        if not isinstance(value, dict):
            raise self.error(
                f"expected a JSON object, found {json_type_name(value)}", self.line_number
            )
        return value
