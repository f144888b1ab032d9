"""Property-based fuzzing of the import readers (CSV, TSV, JSON Lines, Parquet).

Whatever bytes a file holds, importing it either succeeds or fails with an `ImportFileError`
that names the file (and its line or row when the fault is in one), and a refused file
leaves the project exactly as it was. Hypothesis builds files that are almost right (real
headers, quoting, compression, row groups) and then damages some of them (cut short, bytes
inserted or flipped), which is where readers break.

The runs are seeded (``derandomize``) and bounded, so the suite is reproducible; raise
``FUZZ_EXAMPLES`` locally to search longer.
"""

import csv
import gzip
import io
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curation.exceptions import ImportFileError
from curation.models import Example, Label
from curation.services.imports import ImportOptions, examples_import
from tests.factories import ExampleFactory, ProjectFactory

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
LABELS = ["ham", "spam"]
# Errors about the file as a whole, where no line or row is to blame.
WHOLE_FILE_REASONS = (
    "the file is empty",
    "the file has no records",
    "not a readable Parquet file",
    "is gzip-compressed; Parquet",
    "is Zstandard-compressed; Parquet",
)

# Characters that matter to the readers: delimiters, quotes, line endings, NUL, a BOM.
SPECIAL = st.sampled_from([",", "\t", '"', "'", "\n", "\r", "\x00", "\ufeff", " ", "\\"])
CELL = st.text(st.one_of(SPECIAL, st.characters(codec="utf-8")), max_size=12)
LABEL = st.one_of(st.sampled_from([*LABELS, "", " ham "]), CELL)
HEADERS = st.sampled_from(
    [["text", "label"], ["label", "text"], ["id", "text", "label"], ["text"], ["label"]]
)


def snapshot(project) -> list:
    """The project's examples and labels as a user would see them."""
    examples = Example.objects.filter(project=project).order_by("pk")
    labels = Label.objects.filter(example__project=project).order_by("pk")
    return [
        list(examples.values_list("pk", "external_id", "fields", "content_hash")),
        list(labels.values_list("pk", "value")),
    ]


def assert_imports_or_refuses_with_its_place(tmp_path, name: str, data: bytes) -> None:
    project = ProjectFactory(label_set=LABELS)
    ExampleFactory(project=project)
    before = snapshot(project)
    path = tmp_path / name
    path.write_bytes(data)

    try:
        examples_import(project=project, path=path, options=ImportOptions())
    except ImportFileError as refused:
        assert refused.file == name, refused
        located = refused.line is not None or refused.option is not None or refused.field
        assert located or refused.reason.startswith(WHOLE_FILE_REASONS), refused
        assert snapshot(project) == before, f"a refused file changed the project: {refused}"


@st.composite
def damaged(draw, data: bytes) -> bytes:
    """``data`` as it is, compressed, cut short, or with bytes inserted or changed."""
    how = draw(st.sampled_from(["as is", "gzip", "cut", "insert", "flip"]))
    if how == "gzip":
        data = gzip.compress(data, mtime=0)
        how = draw(st.sampled_from(["as is", "cut"]))
    if how == "as is" or not data:
        return data
    at = draw(st.integers(0, len(data) - 1))
    if how == "cut":
        return data[:at]
    if how == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
    return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]


@st.composite
def delimited_files(draw, delimiter: str) -> bytes:
    header = draw(HEADERS)
    rows = draw(st.lists(st.lists(CELL, min_size=len(header), max_size=len(header)), max_size=6))
    for row in rows:
        if "label" in header:
            row[header.index("label")] = draw(LABEL)
    buffer = io.StringIO()
    if draw(st.booleans()):  # written properly, quoting whatever needs it
        ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
        writer = csv.writer(buffer, delimiter=delimiter, lineterminator=ending)
        writer.writerows([header, *rows])
    else:  # joined by hand, as broken exports are
        buffer.write("\n".join(delimiter.join(row) for row in [header, *rows]))
    return draw(damaged(buffer.getvalue().encode("utf-8")))


JSON_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), CELL)
JSON_VALUE = st.recursive(
    JSON_SCALAR,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(CELL, inner, max_size=3),
    max_leaves=6,
)
JSON_RECORD = st.dictionaries(
    st.one_of(st.sampled_from(["text", "label", "id"]), CELL), JSON_VALUE, max_size=4
)


@st.composite
def json_lines_files(draw) -> bytes:
    line = st.one_of(
        JSON_RECORD.map(json.dumps),
        st.fixed_dictionaries({"text": CELL, "label": LABEL}).map(json.dumps),
        JSON_VALUE.map(json.dumps),
        CELL,
    )
    lines = draw(st.lists(line, max_size=6))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return draw(damaged(ending.join(lines).encode("utf-8")))


ARROW_COLUMNS = {
    "string": (pa.string(), CELL.map(lambda s: s.replace("\x00", ""))),
    "large_string": (pa.large_string(), CELL),
    "dictionary": (pa.dictionary(pa.int8(), pa.string()), st.sampled_from(LABELS)),
    "int64": (pa.int64(), st.integers(-(2**63), 2**63 - 1)),
    "float": (pa.float64(), st.floats()),
    "bool": (pa.bool_(), st.booleans()),
    "binary": (pa.binary(), st.binary(max_size=8)),
    "list": (pa.list_(pa.string()), st.lists(CELL, max_size=2)),
}


@st.composite
def parquet_files(draw) -> bytes:
    column_names = st.sampled_from(["text", "label", "id", "other"])
    names = draw(st.lists(column_names, min_size=1, max_size=3, unique=True))
    rows = draw(st.integers(0, 6))
    columns = {}
    for name in names:
        arrow_type, values = ARROW_COLUMNS[draw(st.sampled_from(sorted(ARROW_COLUMNS)))]
        cells = draw(st.lists(st.one_of(st.none(), values), min_size=rows, max_size=rows))
        columns[name] = pa.array(cells, type=arrow_type)
    buffer = io.BytesIO()
    pq.write_table(
        pa.table(columns),
        buffer,
        row_group_size=draw(st.integers(1, 4)),
        compression=draw(st.sampled_from(["none", "snappy", "zstd"])),
    )
    return draw(damaged(buffer.getvalue()))


@FUZZ
@given(data=delimited_files(","))
def test_any_csv_file_imports_or_is_refused_with_its_place(tmp_path, data):
    assert_imports_or_refuses_with_its_place(tmp_path, "fuzz.csv", data)


@FUZZ
@given(data=delimited_files("\t"))
def test_any_tsv_file_imports_or_is_refused_with_its_place(tmp_path, data):
    assert_imports_or_refuses_with_its_place(tmp_path, "fuzz.tsv", data)


@FUZZ
@given(data=json_lines_files())
def test_any_json_lines_file_imports_or_is_refused_with_its_place(tmp_path, data):
    assert_imports_or_refuses_with_its_place(tmp_path, "fuzz.jsonl", data)


@FUZZ
@given(data=parquet_files())
def test_any_parquet_file_imports_or_is_refused_with_its_place(tmp_path, data):
    assert_imports_or_refuses_with_its_place(tmp_path, "fuzz.parquet", data)
