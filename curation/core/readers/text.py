"""Line-oriented formats: CSV/TSV through the csv module, and JSON Lines.

Both read the file as bytes and decode one line at a time, so memory stays flat however
big the file is, and a byte sequence the encoding rejects is reported with its line.
Lines end in LF, CRLF, or, in files from old Macs, a lone CR; gzip and Zstandard files
are decompressed on the fly (see `compression`).
"""

import codecs
import csv
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, BinaryIO

from .compression import COMPRESSION_LABELS, DAMAGED_STREAM_ERRORS, open_binary
from .errors import error_factory
from .mapping import check_columns_present, json_type_name
from .options import ImportOptions

# Long texts (articles, transcripts) exceed the csv module's 128 KiB default field limit.
CSV_FIELD_SIZE_LIMIT = 64 * 1024 * 1024
# How much of a file is looked at to tell CR-only line endings from LF and CRLF.
LINE_ENDING_SNIFF_BYTES = 64 * 1024
CR_CHUNK_BYTES = 1 << 16


class LineReader:
    """Common ground of the text readers: decompression, decoding, line numbers, bytes read.

    ``compression`` is None, "gzip" or "zstd" (`open_reader` tells it from the first bytes).
    """

    unit = "line"
    columns_are_fixed = True

    def __init__(
        self, path: Path, options: ImportOptions, *, name: str, compression: str | None = None
    ) -> None:
        self.path = path
        self.options = options
        self.name = name
        self.compression = compression
        self.error = error_factory(name, self.unit)
        self.line_number = 0
        self._bytes_read = 0
        self._consumed: Callable[[], int] | None = None
        self._size = max(path.stat().st_size, 1)
        if "\n".encode(options.encoding, errors="ignore") != b"\n":
            raise self.error(
                f"the encoding '{options.encoding}' cannot be read line by line; "
                "convert the file to UTF-8"
            )

    @property
    def fraction_read(self) -> float:
        """Bytes of the file on disk consumed (compressed bytes for a compressed file)."""
        consumed = self._consumed() if self._consumed is not None else self._bytes_read
        return min(consumed / self._size, 1.0)

    def check_mapping(self, mapping: dict[str, str]) -> None:
        if self.columns_are_fixed:
            check_columns_present(mapping, self.columns(), self.error)

    @contextmanager
    def _open(self) -> Iterator[BinaryIO]:
        with open_binary(self.path, self.compression) as (handle, consumed):
            self._consumed = consumed
            try:
                yield handle
            finally:
                self._consumed = None
                # A generator abandoned on an error may be finalised after its file.
                with suppress(ValueError):
                    self._bytes_read = consumed()

    def _decoded_lines(self, handle: BinaryIO) -> Iterator[str]:
        self.line_number = 0
        try:
            for raw in self._raw_lines(handle):
                self.line_number += 1
                try:
                    line = raw.decode(self.options.encoding)
                except UnicodeDecodeError as exc:
                    raise self.error(
                        self._decode_problem(raw, exc), self.line_number, option="encoding"
                    ) from exc
                if self.line_number == 1:
                    line = line.removeprefix("\ufeff")  # a BOM is not part of the first name
                yield line
        except DAMAGED_STREAM_ERRORS as exc:
            if self.compression is None:
                raise
            label = COMPRESSION_LABELS[self.compression]
            raise self.error(
                f"the {label} data is damaged or cut off after line {self.line_number} "
                f"({exc}); compress the file again",
                self.line_number + 1,
            ) from exc

    def _raw_lines(self, handle: BinaryIO) -> Iterator[bytes]:
        """The file's lines as bytes, each with its line ending. Files that end lines with a
        lone CR (classic Mac OS, some spreadsheet exports) are split on CR; the rest on LF."""
        head = handle.peek(LINE_ENDING_SNIFF_BYTES)[:LINE_ENDING_SNIFF_BYTES]  # type: ignore[attr-defined]
        if b"\r" in head and b"\n" not in head:
            return _lines_ending_in_cr(handle)
        return iter(handle)

    def _decode_problem(self, raw: bytes, exc: UnicodeDecodeError) -> str:
        label = codecs.lookup(self.options.encoding).name
        label = "UTF-8" if label == "utf-8" else label
        return (
            f"not valid {label} (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
            "set the encoding option to the file's encoding"
        )


def _lines_ending_in_cr(handle: BinaryIO) -> Iterator[bytes]:
    pending = bytearray()
    while chunk := handle.read(CR_CHUNK_BYTES):
        *complete, rest = chunk.split(b"\r")
        for part in complete:
            pending += part
            pending += b"\r"
            yield bytes(pending)
            pending.clear()
        pending += rest
    if pending:
        yield bytes(pending)


class DelimitedReader(LineReader):
    """CSV and TSV. Names come from the header line or ``options.columns``; every record
    must have exactly as many fields as there are names."""

    def __init__(
        self,
        path: Path,
        options: ImportOptions,
        *,
        name: str,
        format: str,
        compression: str | None = None,
    ) -> None:
        super().__init__(path, options, name=name, compression=compression)
        delimiter = options.delimiter or ("\t" if format == "tsv" else ",")
        self.dialect: dict[str, Any] = {"delimiter": delimiter, "strict": True}
        if not options.quoting:
            # Files such as the SMS spam collection have bare quote characters in texts.
            self.dialect.update(quoting=csv.QUOTE_NONE, escapechar=None, quotechar=None)
        csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_SIZE_LIMIT))
        self._columns: list[str] | None = None

    def columns(self) -> list[str]:
        if self._columns is None:
            with self._open() as handle:
                header = self._header(csv.reader(self._decoded_lines(handle), **self.dialect))
            self._columns = self._names(header)
        return self._columns

    def _header(self, reader) -> list[str] | None:
        if not self.options.has_header:
            return None
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise self.error(f"malformed header: {_csv_problem(exc)}", 1) from exc
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
        with self._open() as handle:
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
                    problem = _csv_problem(exc)
                    raise self.error(f"malformed {self._kind()}: {problem}", start) from exc
                last_line = reader.line_num
                if not row or (len(row) == 1 and not row[0].strip() and len(names) > 1):
                    continue  # blank line
                if len(row) != len(names):
                    raise self.error(f"expected {len(names)} fields, found {len(row)}", start)
                yield start, dict(zip(names, row, strict=True))

    def _kind(self) -> str:
        return "TSV" if self.dialect["delimiter"] == "\t" else "CSV"


def _csv_problem(exc: csv.Error) -> str:
    """The csv module's message, except where it gives advice about Python's open()."""
    if "new-line character seen in unquoted field" in str(exc):
        return (
            "a carriage return (CR) inside an unquoted field: the file mixes line endings; "
            "save it with LF or CRLF line endings, or quote that field"
        )
    return str(exc)


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
        with self._open() as handle:
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
        except RecursionError:
            # json's C scanner recurses once per level; a hostile or broken line of
            # thousands of brackets must not end the run as an "unexpected error".
            raise self.error(
                "JSON nested too deeply to read; a record is one object of fields per line",
                self.line_number,
            ) from None
        if not isinstance(value, dict):
            raise self.error(
                f"expected a JSON object, found {json_type_name(value)}", self.line_number
            )
        return value
