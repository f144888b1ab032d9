"""Compressed text inputs: gzip and Zstandard, told by their first bytes, not their name.

Users compress large exports and do not always rename them, so a gzip file called
``data.csv`` is read like ``data.csv.gz``. Zstandard goes through pyarrow's codec (already
installed for Parquet), imported only when such a file is opened.
"""

import gzip
import io
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

GZIP = "gzip"
ZSTD = "zstd"
MAGIC_BYTES = {GZIP: b"\x1f\x8b", ZSTD: b"\x28\xb5\x2f\xfd"}
# Archives hold several files; Assay reads one, so these are refused with a hint.
ARCHIVE_MAGIC_BYTES = {"zip": b"PK\x03\x04", "7z": b"7z\xbc\xaf\x27\x1c"}
COMPRESSION_SUFFIXES = {".gz": GZIP, ".gzip": GZIP, ".zst": ZSTD, ".zstd": ZSTD}
COMPRESSION_LABELS = {GZIP: "gzip", ZSTD: "Zstandard"}
# What a truncated or corrupt stream raises while it is read: gzip's BadGzipFile and
# pyarrow's decompression errors are OSErrors, a cut-off gzip is an EOFError.
DAMAGED_STREAM_ERRORS = (OSError, EOFError, zlib.error)
READ_BUFFER_BYTES = 1 << 16


def sniff_compression(path: Path) -> str | None:
    """``gzip``, ``zstd`` or None, from the file's first bytes."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    for compression, magic in MAGIC_BYTES.items():
        if head.startswith(magic):
            return compression
    return None


def sniff_archive(path: Path) -> str | None:
    """``zip`` or ``7z`` when the file is such an archive, else None."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    return next(
        (kind for kind, magic in ARCHIVE_MAGIC_BYTES.items() if head.startswith(magic)), None
    )


def strip_compression_suffix(path: Path) -> Path:
    """``data.csv.gz`` -> ``data.csv``: the name whose extension tells the format."""
    if path.suffix.lower() in COMPRESSION_SUFFIXES:
        return path.with_suffix("")
    return path


@contextmanager
def open_binary(
    path: Path, compression: str | None
) -> Iterator[tuple[BinaryIO, Callable[[], int]]]:
    """The file's (decompressed) bytes, and a function telling how many bytes of the file
    on disk have been consumed so far, for progress."""
    with open(path, "rb") as raw:
        if compression is None:
            yield raw, raw.tell
        elif compression == GZIP:
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                yield stream, raw.tell  # type: ignore[misc]  # GzipFile is a binary stream
        else:
            import pyarrow as pa

            stream = pa.CompressedInputStream(pa.PythonFile(raw, mode="r"), ZSTD)
            # pyarrow's stream has no readline; a buffer over it gives lines and peek().
            with io.BufferedReader(stream, READ_BUFFER_BYTES) as buffered:  # type: ignore[arg-type]
                yield buffered, raw.tell
