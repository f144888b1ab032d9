"""The pure readers and the mapping step, called directly on small files."""

import json

import pytest

from curation.core.readers import (
    ImportOptions,
    RecordMapper,
    detect_format,
    error_factory,
    open_reader,
    resolve_mapping,
)
from curation.exceptions import AssayError, ImportFileError


def read_all(path, *, format, read_columns=None, **options):
    reader = open_reader(path, ImportOptions(**options), name=path.name, format=format)
    return list(reader.records(columns=read_columns)), reader


def test_csv_with_header_reads_records_numbered_by_starting_line(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text('text,label\n"good, really",positive\n"two\nlines",negative\n\nbad,negative\n')

    records, reader = read_all(path, format="csv")

    assert records == [
        (2, {"text": "good, really", "label": "positive"}),
        (3, {"text": "two\nlines", "label": "negative"}),
        (6, {"text": "bad", "label": "negative"}),
    ]
    assert reader.columns() == ["text", "label"]
    assert reader.fraction_read == 1.0


def test_csv_strips_a_byte_order_mark_from_the_first_column_name(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("text,label\nhello,positive\n".encode("utf-8-sig"))

    records, _ = read_all(path, format="csv")

    assert records == [(2, {"text": "hello", "label": "positive"})]


def test_tsv_without_header_or_quoting_keeps_quote_characters(tmp_path):
    path = tmp_path / "sms.tsv"
    path.write_text('ham\tHe said "hi\nspam\t"WIN" now\n')

    records, _ = read_all(
        path, format="tsv", has_header=False, columns=["label", "text"], quoting=False
    )

    assert records == [
        (1, {"label": "ham", "text": 'He said "hi'}),
        (2, {"label": "spam", "text": '"WIN" now'}),
    ]


def test_wrong_field_count_names_the_line(tmp_path):
    path = tmp_path / "sms.tsv"
    path.write_text("ham\tone\nham\ttwo\tthree\n")

    with pytest.raises(ImportFileError) as caught:
        read_all(path, format="tsv", has_header=False, columns=["label", "text"], quoting=False)

    assert caught.value.line == 2
    assert str(caught.value) == "sms.tsv, line 2: expected 2 fields, found 3"


def test_invalid_utf8_names_line_column_and_byte(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"text\nfine\nbroken \xff here\n")

    with pytest.raises(ImportFileError) as caught:
        read_all(path, format="csv")

    assert str(caught.value) == (
        "data.csv, line 3: not valid UTF-8 (byte 0xff at column 8); "
        "set the encoding option to the file's encoding"
    )


def test_another_encoding_reads_what_utf8_refuses(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("text\ncafé\n".encode("latin-1"))

    records, _ = read_all(path, format="csv", encoding="latin-1")

    assert records == [(2, {"text": "café"})]


def test_header_less_file_without_column_names_is_refused(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("a,b\n")

    with pytest.raises(ImportFileError, match="no header line; name its columns"):
        read_all(path, format="csv", has_header=False)


def test_repeated_header_name_is_refused(tmp_path):
    path = tmp_path / "twice.csv"
    path.write_text("text,text\na,b\n")

    with pytest.raises(ImportFileError, match="line 1: the header names text more than once"):
        read_all(path, format="csv")


def test_unterminated_quote_is_reported_at_its_record(tmp_path):
    path = tmp_path / "quote.csv"
    path.write_text('text\nfine\n"never closed\nmore\n')

    with pytest.raises(ImportFileError) as caught:
        read_all(path, format="csv")

    assert caught.value.line == 3
    assert "malformed CSV" in str(caught.value)


def test_jsonl_skips_blank_lines_and_reports_broken_json_by_line(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text('{"text": "a"}\n\n{"text": "b", oops}\n')

    reader = open_reader(path, ImportOptions(), name=path.name, format="jsonl")
    records = reader.records()
    assert next(records) == (1, {"text": "a"})
    with pytest.raises(ImportFileError) as caught:
        next(records)

    assert caught.value.line == 3
    assert str(caught.value).startswith("data.jsonl, line 3: broken JSON: ")


def test_jsonl_line_that_is_not_an_object_is_refused(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text('{"text": "a"}\n["text"]\n')

    with pytest.raises(ImportFileError, match="line 2: expected a JSON object, found list"):
        read_all(path, format="jsonl")


def test_json_array_file_gets_a_hint(tmp_path):
    path = tmp_path / "array.json"
    path.write_text('[\n{"text": "a"}\n]\n')

    with pytest.raises(ImportFileError, match="looks like a JSON array"):
        read_all(path, format="jsonl")


def write_parquet(path, columns: dict):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table(columns), path, row_group_size=2)


def test_parquet_reads_requested_columns_by_row(tmp_path):
    path = tmp_path / "data.parquet"
    write_parquet(path, {"text": ["a", "b", "c"], "label": ["x", "y", None], "other": [1, 2, 3]})

    records, reader = read_all(path, format="parquet", read_columns=["text", "label"])

    assert records == [
        (1, {"text": "a", "label": "x"}),
        (2, {"text": "b", "label": "y"}),
        (3, {"text": "c", "label": None}),
    ]
    assert reader.fraction_read == 1.0


def test_parquet_content_column_of_another_type_is_refused_before_reading(tmp_path):
    path = tmp_path / "data.parquet"
    write_parquet(path, {"text": [1, 2], "label": ["x", "y"]})
    reader = open_reader(path, ImportOptions(), name=path.name, format="parquet")

    with pytest.raises(ImportFileError) as caught:
        reader.check_mapping({"text": "text", "label": "label"})

    assert caught.value.field == "text"
    assert "column 'text' has type int64" in str(caught.value)
    assert "content field 'text' needs text" in str(caught.value)


def test_parquet_errors_name_rows(tmp_path):
    path = tmp_path / "data.parquet"
    write_parquet(path, {"text": ["a", None]})
    reader = open_reader(path, ImportOptions(), name=path.name, format="parquet")
    mapper = RecordMapper(
        {"text": "text"}, content_fields=["text"], allowed_labels=None, error=reader.error
    )

    with pytest.raises(ImportFileError) as caught:
        [mapper(*item) for item in reader.records(columns=["text"])]

    assert (
        str(caught.value)
        == "data.parquet, row 2, field 'text': wrong type: expected text, got null"
    )


def test_missing_column_is_named_with_the_columns_found(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("body,label\nhello,x\n")
    reader = open_reader(path, ImportOptions(), name=path.name, format="csv")

    with pytest.raises(ImportFileError) as caught:
        reader.check_mapping({"text": "v2"})

    assert "column 'v2' for field 'text' not found; columns found: body, label" in str(caught.value)


def test_saved_dataset_dict_split_with_class_labels(tmp_path):
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

    features = Features({"text": Value("string"), "label": ClassLabel(names=["neg", "pos"])})
    DatasetDict(
        train=Dataset.from_dict({"text": ["a", "b"], "label": [1, 0]}, features=features),
        test=Dataset.from_dict({"text": ["c"], "label": [-1]}, features=features),
    ).save_to_disk(tmp_path / "saved")

    records, _ = read_all(
        tmp_path / "saved", format="hf_dataset", read_columns=["text", "label"], split="train"
    )
    test_records, _ = read_all(
        tmp_path / "saved", format="hf_dataset", read_columns=["text", "label"], split="test"
    )

    assert records == [(1, {"text": "a", "label": "pos"}), (2, {"text": "b", "label": "neg"})]
    assert test_records == [(1, {"text": "c", "label": None})]


def test_saved_dataset_dict_without_split_lists_the_splits(tmp_path):
    from datasets import Dataset, DatasetDict

    DatasetDict(
        train=Dataset.from_dict({"text": ["a"]}), test=Dataset.from_dict({"text": ["b"]})
    ).save_to_disk(tmp_path / "saved")

    with pytest.raises(ImportFileError, match=r"with the split option \(splits: train, test\)"):
        open_reader(tmp_path / "saved", ImportOptions(), name="saved", format="hf_dataset")


def test_folder_that_is_not_a_saved_dataset_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()

    with pytest.raises(ImportFileError, match="not a saved Hugging Face dataset"):
        open_reader(tmp_path / "empty", ImportOptions(), name="empty", format="hf_dataset")


def test_resolve_mapping_fills_same_named_columns():
    error = error_factory("f.csv", "line")

    mapping = resolve_mapping(
        {"text": "v2"}, content_fields=["text"], columns=["v1", "v2", "label", "id"], error=error
    )

    assert mapping == {"text": "v2", "label": "label", "id": "id"}


def test_resolve_mapping_refuses_unmapped_content_fields_and_unknown_fields():
    error = error_factory("f.csv", "line")

    with pytest.raises(ImportFileError, match=r"no column for the field prompt.*columns found: q"):
        resolve_mapping({}, content_fields=["prompt"], columns=["q"], error=error)
    with pytest.raises(ImportFileError, match="unknown fields: txt"):
        resolve_mapping({"txt": "a"}, content_fields=["text"], columns=["a"], error=error)


@pytest.fixture
def mapper():
    return RecordMapper(
        {"text": "body", "label": "tag", "id": "key"},
        content_fields=["text"],
        allowed_labels=["ham", "spam"],
        error=error_factory("f.jsonl", "line"),
    )


def test_mapper_produces_typed_fields_label_and_id(mapper):
    mapped = mapper(4, {"body": "hello", "tag": " spam ", "key": 17})

    assert (mapped.fields, mapped.label, mapped.external_id) == ({"text": "hello"}, "spam", "17")
    assert mapper(5, {"body": "hello", "tag": "", "key": "k"}).label == ""


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"body": 3, "key": "k"}, "line 7, field 'body': wrong type: expected text, got int"),
        ({"body": ["a"], "key": "k"}, "line 7, field 'body': wrong type: expected text, got list"),
        ({"body": "   ", "key": "k"}, "line 7, field 'body': empty text for text"),
        ({"body": "x", "tag": "eggs", "key": "k"}, "label 'eggs' is not in the project's label"),
        ({"body": "x", "key": " "}, "line 7, field 'key': empty id"),
        ({"key": "k"}, "column 'body' for field 'text' not found; columns found: key"),
    ],
)
def test_mapper_refuses_bad_values_naming_line_and_field(mapper, record, expected):
    with pytest.raises(ImportFileError) as caught:
        mapper(7, record)

    assert expected in str(caught.value)


def test_label_outside_the_set_lists_the_allowed_labels(mapper):
    with pytest.raises(ImportFileError) as caught:
        mapper(2, {"body": "x", "tag": "eggs", "key": "k"})

    assert str(caught.value) == (
        "f.jsonl, line 2, field 'tag': label 'eggs' is not in the project's label set "
        "(allowed: ham, spam)"
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.csv", "csv"),
        ("a.TSV", "tsv"),
        ("a.jsonl", "jsonl"),
        ("a.json", "jsonl"),
        ("a.parquet", "parquet"),
    ],
)
def test_format_follows_the_extension(tmp_path, name, expected):
    assert detect_format(tmp_path / name) == expected


def test_format_of_a_folder_is_a_saved_dataset_and_unknown_extensions_are_refused(tmp_path):
    assert detect_format(tmp_path) == "hf_dataset"
    with pytest.raises(AssayError, match="Cannot tell the format of 'a.xlsx'"):
        detect_format(tmp_path / "a.xlsx")


def test_options_survive_a_round_trip_through_json():
    options = ImportOptions(
        format="tsv", mapping={"text": "v2"}, has_header=False, columns=["v1", "v2"], quoting=False
    )

    assert ImportOptions.from_dict(json.loads(json.dumps(options.to_dict()))) == options


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"format": "xlsx"}, "Unknown format"),
        ({"delimiter": "::"}, "one character"),
        ({"encoding": "no-such-codec"}, "Unknown text encoding"),
    ],
)
def test_options_refuse_nonsense(kwargs, message):
    with pytest.raises(AssayError, match=message):
        ImportOptions(**kwargs)


def corrupt_parquet(path, *, rows: int = 3_000) -> None:
    """A snappy Parquet file of two row groups whose second data page is garbage."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    texts = [f"message {n} " + "words " * (n % 7) for n in range(rows)]
    pq.write_table(pa.table({"text": texts}), path, row_group_size=rows // 2, compression="snappy")
    second = pq.ParquetFile(path).metadata.row_group(1).column(0)
    start = second.data_page_offset + 40
    data = bytearray(path.read_bytes())
    data[start : start + 200] = bytes(range(200))
    path.write_bytes(bytes(data))


def test_a_corrupt_parquet_page_names_the_file_and_row(tmp_path):
    path = tmp_path / "data.parquet"
    corrupt_parquet(path)

    with pytest.raises(ImportFileError) as caught:
        read_all(path, format="parquet", read_columns=["text"])

    assert str(caught.value).startswith("data.parquet, row 1501: ")
    assert "cannot be read" in str(caught.value)


# Found by tests/curation/test_readers_fuzz.py: bytes that are not UTF-8 where Parquet keeps
# text raised a bare UnicodeDecodeError, which a run reported as "Unexpected error".


def parquet_with_a_byte_changed(path, *, find: bytes, occurrence: int) -> None:
    """Plain (unencoded, uncompressed) Parquet whose ``occurrence``-th copy of ``find`` starts
    with 0xff instead, so that spot is no longer UTF-8."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"text": ["first", "second", "third"], "label": ["ham", "spam", "ham"]})
    pq.write_table(table, path, compression="none", use_dictionary=False, write_statistics=False)
    data = path.read_bytes()
    at = -1
    for _ in range(occurrence):
        at = data.index(find, at + 1)
    path.write_bytes(data[:at] + b"\xff" + data[at + 1 :])


def test_parquet_text_that_is_not_utf8_names_its_row_and_column(tmp_path):
    path = tmp_path / "data.parquet"
    parquet_with_a_byte_changed(path, find=b"second", occurrence=1)

    with pytest.raises(ImportFileError) as caught:
        read_all(path, format="parquet", read_columns=["text", "label"])

    assert (caught.value.line, caught.value.field) == (2, "text")
    assert str(caught.value).startswith(
        "data.parquet, row 2, field 'text': the value cannot be read; the file is damaged ("
    )
    assert "UTF8" in str(caught.value)


def test_parquet_footer_with_a_column_name_that_is_not_utf8_is_not_a_readable_file(tmp_path):
    path = tmp_path / "data.parquet"
    parquet_with_a_byte_changed(path, find=b"label", occurrence=1)

    with pytest.raises(ImportFileError) as caught:
        open_reader(path, ImportOptions(), name=path.name, format="parquet")

    assert str(caught.value).startswith("data.parquet: not a readable Parquet file (")
