"""Bad bytes in import files: NUL characters, absurd nesting, old-Mac line endings and
compressed files. Each is read, or refused naming file, line and field, the same way on
SQLite and PostgreSQL (run this file with DATABASE_URL too)."""

import gzip
import json

import pyarrow as pa
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from curation.core.readers import (
    ImportOptions,
    RecordMapper,
    detect_format,
    open_reader,
    resolve_mapping,
)
from curation.exceptions import AssayError, ImportFileError
from curation.models import Example, RunStatus
from curation.services.imports import examples_import, import_start, import_upload_store
from tests.factories import ProjectFactory

CSV_BYTES = b"text,label\nhello,ham\nbuy now,spam\n"
CSV_RECORDS = [(2, {"text": "hello", "label": "ham"}), (3, {"text": "buy now", "label": "spam"})]


def read_all(path, *, format, **options):
    reader = open_reader(path, ImportOptions(**options), name=path.name, format=format)
    return list(reader.records()), reader


def zstd_compress(data: bytes) -> bytes:
    return pa.compress(data, codec="zstd", asbytes=True)


def import_as_run(project, name: str, data: bytes, capture):
    """Upload ``data`` as ``name`` and run its import the way a page or the API does."""
    path = import_upload_store(uploaded_file=SimpleUploadedFile(name, data))
    with capture(execute=True):
        run = import_start(project=project, path=path, options=ImportOptions(), display_name=name)
    run.refresh_from_db()
    return run


# NUL characters -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "line", "field"),
    [
        ("nul.csv", b"text,label\nfine,ham\nhello\x00world,ham\n", 3, "text"),
        ("nul.jsonl", b'{"text": "fine"}\n{"text": "hello\\u0000world"}\n', 2, "text"),
        ("nul-label.csv", b"text,label\nfine,ham\nhello,ha\x00m\n", 3, "label"),
    ],
)
def test_nul_character_is_refused_naming_file_line_and_field(tmp_path, name, data, line, field):
    path = tmp_path / name
    path.write_bytes(data)
    reader = open_reader(path, ImportOptions(), name=name, format=detect_format(path))
    mapping = resolve_mapping({}, content_fields=["text"], columns=["text", "label"], error=None)
    mapper = RecordMapper(mapping, content_fields=["text"], allowed_labels=None, error=reader.error)

    with pytest.raises(ImportFileError) as caught:
        [mapper(position, record) for position, record in reader.records()]

    assert (caught.value.file, caught.value.line, caught.value.field) == (name, line, field)
    assert "NUL character" in caught.value.reason


@pytest.mark.django_db
def test_nul_byte_import_fails_with_the_same_located_error_on_every_database(
    django_capture_on_commit_callbacks,
):
    # PostgreSQL refuses NUL in text and jsonb with a raw DataError; SQLite stored it. Both
    # must refuse it the same way, before any row is written.
    project = ProjectFactory(label_set=["ham"])

    run = import_as_run(
        project,
        "nul.csv",
        b"text,label\nfine,ham\nhello\x00world,ham\n",
        django_capture_on_commit_callbacks,
    )

    assert run.status == RunStatus.FAILED
    assert run.error == (
        "nul.csv, line 3, field 'text': the text contains a NUL character (\\x00) at "
        "character 6; databases cannot store it, remove it from the file"
    )
    assert run.result["error"]["line"] == 3
    assert not Example.objects.filter(project=project).exists()


@pytest.mark.django_db
def test_lone_surrogate_from_a_json_escape_is_refused_on_every_database(tmp_path):
    path = tmp_path / "surrogate.jsonl"
    path.write_text('{"text": "ok"}\n{"text": "broken \\ud800 pair"}\n')
    project = ProjectFactory(label_set=[])

    with pytest.raises(ImportFileError) as caught:
        examples_import(project=project, path=path, options=ImportOptions())

    assert str(caught.value).startswith("surrogate.jsonl, line 2, field 'text': ")
    assert "lone surrogate (\\ud800)" in str(caught.value)
    assert not Example.objects.filter(project=project).exists()


def test_synthetic_provenance_with_a_nul_character_is_refused():
    with pytest.raises(AssayError, match="NUL"):
        ImportOptions(synthetic={"generator": "gen\x00"})


# Deep JSON ----------------------------------------------------------------------------


def test_deeply_nested_json_line_names_file_and_line(tmp_path):
    path = tmp_path / "deep.jsonl"
    path.write_text('{"text": "fine"}\n' + "[" * 100_000 + "]" * 100_000 + "\n")

    with pytest.raises(ImportFileError) as caught:
        read_all(path, format="jsonl")

    assert str(caught.value) == (
        "deep.jsonl, line 2: JSON nested too deeply to read; "
        "a record is one object of fields per line"
    )


@pytest.mark.django_db
def test_deeply_nested_json_run_fails_with_its_place_not_an_unexpected_error(
    django_capture_on_commit_callbacks,
):
    project = ProjectFactory(label_set=[])
    data = b'{"text": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_000 + b"}\n"

    run = import_as_run(project, "deep.jsonl", data, django_capture_on_commit_callbacks)

    assert run.status == RunStatus.FAILED
    assert run.error.startswith("deep.jsonl, line 1: JSON nested too deeply")


# Line endings -------------------------------------------------------------------------


def test_old_mac_cr_line_endings_are_read_like_lf(tmp_path):
    path = tmp_path / "mac.csv"
    path.write_bytes(CSV_BYTES.replace(b"\n", b"\r"))

    records, reader = read_all(path, format="csv")

    assert records == CSV_RECORDS
    assert reader.fraction_read == 1.0


def test_cr_line_endings_keep_quoted_line_breaks_and_work_for_json_lines(tmp_path):
    csv_path = tmp_path / "mac.csv"
    csv_path.write_bytes(b'text,label\r"two\rlines",ham\rlast,spam\r')
    jsonl_path = tmp_path / "mac.jsonl"
    jsonl_path.write_bytes(b'{"text": "a"}\r\r{"text": "b"}')

    assert read_all(csv_path, format="csv")[0] == [
        (2, {"text": "two\rlines", "label": "ham"}),
        (4, {"text": "last", "label": "spam"}),
    ]
    assert read_all(jsonl_path, format="jsonl")[0] == [(1, {"text": "a"}), (3, {"text": "b"})]


def test_cr_inside_an_unquoted_field_of_an_lf_file_says_what_to_do(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"text,label\nfine,ham\nhalf\rline,ham\n")

    with pytest.raises(ImportFileError) as caught:
        read_all(path, format="csv")

    assert caught.value.line == 3
    assert "carriage return (CR) inside an unquoted field" in str(caught.value)
    assert "universal-newline" not in str(caught.value)


# Compressed files ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "compress"),
    [
        ("data.csv.gz", gzip.compress),
        ("data.csv.zst", zstd_compress),
        ("data.csv", gzip.compress),  # compressed without renaming: told by its magic bytes
        ("data.csv", zstd_compress),
    ],
)
def test_gzip_and_zstandard_files_are_read_whatever_their_name(tmp_path, name, compress):
    path = tmp_path / name
    path.write_bytes(compress(CSV_BYTES))

    records, reader = read_all(path, format=detect_format(path))

    assert records == CSV_RECORDS
    assert reader.fraction_read == 1.0


def test_compressed_json_lines_with_cr_endings(tmp_path):
    path = tmp_path / "data.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"text": "a"}\r{"text": "b"}\r'))

    assert read_all(path, format="jsonl")[0] == [(1, {"text": "a"}), (2, {"text": "b"})]


def test_progress_of_a_compressed_file_counts_compressed_bytes(tmp_path):
    path = tmp_path / "big.csv.gz"
    rows = "".join(f"message number {n},ham\n" for n in range(200_000))
    path.write_bytes(gzip.compress(b"text,label\n" + rows.encode()))
    reader = open_reader(path, ImportOptions(), name=path.name, format="csv")

    fractions = [reader.fraction_read for n, _ in reader.records() if n in (50_000, 150_000)]

    assert all(0 < fraction < 1 for fraction in fractions)
    assert fractions == sorted(fractions)
    assert reader.fraction_read == 1.0


@pytest.mark.parametrize("compress", [gzip.compress, zstd_compress])
def test_cut_off_compressed_file_names_the_line_after_the_last_good_one(tmp_path, compress):
    rows = "".join(f"message {n},ham\n" for n in range(20_000)).encode()
    data = compress(b"text,label\n" + rows)
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(data[: len(data) // 2])

    with pytest.raises(ImportFileError) as caught:
        read_all(path, format="csv")

    assert "is damaged or cut off after line" in str(caught.value)
    assert caught.value.line > 2


def test_compressed_parquet_and_archives_are_refused_with_a_hint(tmp_path):
    parquet = tmp_path / "data.parquet.gz"
    parquet.write_bytes(gzip.compress(b"PAR1 not really"))
    archive = tmp_path / "data.csv"
    archive.write_bytes(b"PK\x03\x04 a zip archive")

    with pytest.raises(ImportFileError, match="Parquet compresses inside"):
        open_reader(parquet, ImportOptions(), name=parquet.name, format=detect_format(parquet))
    with pytest.raises(ImportFileError, match="data.csv: is a zip archive; extract the file"):
        open_reader(archive, ImportOptions(), name=archive.name, format="csv")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("a.csv.gz", "csv"), ("a.tsv.GZ", "tsv"), ("a.jsonl.zst", "jsonl"), ("a.json.zstd", "jsonl")],
)
def test_format_looks_through_a_compression_suffix(tmp_path, name, expected):
    assert detect_format(tmp_path / name) == expected


@pytest.mark.django_db
def test_gzip_upload_named_csv_imports(django_capture_on_commit_callbacks):
    project = ProjectFactory(label_set=[])

    run = import_as_run(
        project, "export.csv", gzip.compress(CSV_BYTES), django_capture_on_commit_callbacks
    )

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert sorted(
        Example.objects.filter(project=project).values_list("external_id", flat=True)
    ) == [
        "export.csv:2",
        "export.csv:3",
    ]


def test_json_escaped_nul_round_trips_through_the_reader_unchanged(tmp_path):
    # The reader itself passes text through; refusing NUL is the mapping step's job, so a
    # tool reading records for another purpose sees the file as it is.
    path = tmp_path / "raw.jsonl"
    path.write_text(json.dumps({"text": "a\x00b"}) + "\n")

    assert read_all(path, format="jsonl")[0] == [(1, {"text": "a\x00b"})]
