"""Importing files into projects: all or nothing, labels, duplicates, runs."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from curation.core.hashing import content_hash
from curation.exceptions import ImportFileError, RunAlreadyActive
from curation.models import Example, Label, LabelOrigin, RunStatus
from curation.services.imports import (
    ImportOptions,
    examples_import,
    import_start,
    import_upload_store,
)
from curation.services.imports import files as import_files
from curation.services.runs import run_create
from tests.factories import ExampleFactory, ProjectFactory

pytestmark = pytest.mark.django_db

SMS_OPTIONS = ImportOptions(has_header=False, columns=["label", "text"], quoting=False)


@pytest.fixture
def sms_file(shared_data):
    return shared_data / "sms_spam" / "SMSSpamCollection.tsv"


def sms_lines(sms_file) -> list[str]:
    return sms_file.read_text(encoding="utf-8").splitlines(keepends=True)


def snapshot(project) -> dict:
    """What a user would see of a project: its examples, labels and label set."""
    project.refresh_from_db()
    return {
        "examples": list(Example.objects.filter(project=project).values_list("external_id", "pk")),
        "labels": Label.objects.filter(example__project=project).count(),
        "label_set": list(project.label_set),
    }


def test_sms_spam_imports_every_message_with_its_label(sms_file):
    project = ProjectFactory(label_set=[])
    lines = sms_lines(sms_file)
    distinct = {content_hash({"text": line.split("\t", 1)[1]}) for line in lines}

    report = examples_import(project=project, path=sms_file, options=SMS_OPTIONS)

    project.refresh_from_db()
    assert report.created == len(lines) == 5574
    assert project.label_set == ["ham", "spam"]
    assert report.label_set_added == ["ham", "spam"]
    assert report.duplicates_in_file == len(lines) - len(distinct) > 0
    assert report.duplicates_of_existing == 0
    assert len(report.duplicate_samples) == import_files.DUPLICATE_SAMPLES
    spam = Example.objects.filter(project=project, resolved_label="spam")
    assert spam.count() == sum(line.startswith("spam\t") for line in lines)
    third = Example.objects.get(project=project, external_id="SMSSpamCollection.tsv:3")
    assert third.fields == {"text": lines[2].split("\t", 1)[1].rstrip("\n")}
    assert third.resolved_label_origin == LabelOrigin.IMPORT
    assert third.provenance == {"file": "SMSSpamCollection.tsv", "line": 3, "format": "tsv"}
    label = third.labels.get()
    assert (label.value, label.origin, label.author) == (
        lines[2].split("\t")[0],
        LabelOrigin.IMPORT,
        "SMSSpamCollection.tsv",
    )


@pytest.mark.parametrize("damage", ["tab_removed", "invalid_utf8"])
def test_corrupted_sms_copy_is_refused_and_changes_nothing(sms_file, tmp_path, damage):
    project = ProjectFactory(label_set=["ham", "spam"])
    ExampleFactory.create_batch(3, project=project, resolved_label="ham")
    before = snapshot(project)
    lines = sms_lines(sms_file)
    bad_line = 4321
    raw = [line.encode("utf-8") for line in lines]
    if damage == "tab_removed":
        raw[bad_line - 1] = raw[bad_line - 1].replace(b"\t", b" ", 1)
        expected = "SMSSpamCollection.tsv, line 4321: expected 2 fields, found 1"
    else:
        raw[bad_line - 1] = raw[bad_line - 1][:10] + b"\xff" + raw[bad_line - 1][10:]
        expected = (
            "SMSSpamCollection.tsv, line 4321: not valid UTF-8 (byte 0xff at column 11); "
            "set the encoding option to the file's encoding"
        )
    broken = tmp_path / "SMSSpamCollection.tsv"
    broken.write_bytes(b"".join(raw))

    with pytest.raises(ImportFileError) as caught:
        examples_import(project=project, path=broken, options=SMS_OPTIONS)

    assert str(caught.value) == expected
    assert snapshot(project) == before


def test_failure_after_labels_were_adopted_restores_the_empty_label_set(tmp_path):
    project = ProjectFactory(label_set=[])
    path = tmp_path / "data.jsonl"
    path.write_text('{"text": "a", "label": "x"}\n{"text": "b", "label": "y"}\n{"text": 5}\n')
    before = snapshot(project)

    with pytest.raises(ImportFileError, match="line 3, field 'text': wrong type"):
        examples_import(project=project, path=path, options=ImportOptions())

    assert snapshot(project) == before


def test_label_outside_the_label_set_is_refused(tmp_path):
    project = ProjectFactory(label_set=["ham", "spam"])
    path = tmp_path / "data.csv"
    path.write_text("text,label\nhello,ham\nbuy now,eggs\n")

    with pytest.raises(ImportFileError) as caught:
        examples_import(project=project, path=path, options=ImportOptions())

    assert str(caught.value) == (
        "data.csv, line 3, field 'label': label 'eggs' is not in the project's label set "
        "(allowed: ham, spam)"
    )
    assert not Example.objects.filter(project=project).exists()


def test_rows_without_label_stay_unlabelled(tmp_path):
    project = ProjectFactory(label_set=["ham", "spam"])
    path = tmp_path / "data.csv"
    path.write_text("text,label\nhello,ham\nunknown,\n")

    report = examples_import(project=project, path=path, options=ImportOptions())

    assert (report.created, report.labelled) == (2, 1)
    unlabelled = Example.objects.get(project=project, external_id="data.csv:3")
    assert (unlabelled.resolved_label, unlabelled.labels.count()) == ("", 0)


def test_mapping_picks_columns_and_ids(tmp_path):
    project = ProjectFactory(label_set=["ham", "spam"])
    path = tmp_path / "data.csv"
    path.write_text("key,v1,v2\nm-1,ham,hello\nm-2,spam,win\n")
    options = ImportOptions(mapping={"text": "v2", "label": "v1", "id": "key"})

    examples_import(project=project, path=path, options=options)

    stored = Example.objects.filter(project=project).values_list(
        "external_id", "fields", "resolved_label"
    )
    assert list(stored) == [("m-1", {"text": "hello"}, "ham"), ("m-2", {"text": "win"}, "spam")]


def test_file_with_a_header_only_is_refused(tmp_path):
    project = ProjectFactory()
    path = tmp_path / "empty.csv"
    path.write_text("text,label\n")

    with pytest.raises(ImportFileError, match="empty.csv: the file has no records to import"):
        examples_import(project=project, path=path, options=ImportOptions())


def test_missing_mapped_column_is_named(tmp_path):
    project = ProjectFactory()
    path = tmp_path / "data.csv"
    path.write_text("body\nhello\n")

    with pytest.raises(
        ImportFileError, match="column 'v2' for field 'text' not found; columns found: body"
    ):
        examples_import(project=project, path=path, options=ImportOptions(mapping={"text": "v2"}))


def test_duplicate_id_in_the_file_names_both_lines(tmp_path, monkeypatch):
    monkeypatch.setattr(import_files, "BATCH_SIZE", 2)  # the two lines land in different batches
    project = ProjectFactory()
    path = tmp_path / "data.csv"
    path.write_text("id,text\na,one\nb,two\nc,three\na,four\n")

    with pytest.raises(ImportFileError) as caught:
        examples_import(project=project, path=path, options=ImportOptions())

    assert str(caught.value) == "data.csv, line 5, field 'id': duplicate id 'a': also on line 2"
    assert not Example.objects.filter(project=project).exists()


def test_id_of_an_existing_example_is_refused(tmp_path):
    project = ProjectFactory()
    ExampleFactory(project=project, external_id="b")
    path = tmp_path / "data.csv"
    path.write_text("id,text\na,one\nb,two\n")

    with pytest.raises(ImportFileError, match="line 3, field 'id': an example with id 'b' already"):
        examples_import(project=project, path=path, options=ImportOptions())

    assert Example.objects.filter(project=project).count() == 1


def test_reimporting_the_same_file_is_refused_and_changes_nothing(tmp_path):
    project = ProjectFactory(label_set=[])
    path = tmp_path / "data.csv"
    path.write_text("text,label\nhello,ham\nwin,spam\n")
    examples_import(project=project, path=path, options=ImportOptions())
    before = snapshot(project)

    with pytest.raises(ImportFileError) as caught:
        examples_import(project=project, path=path, options=ImportOptions())

    assert "id 'data.csv:2' already exists in the project" in str(caught.value)
    assert "imported before" in str(caught.value)
    assert snapshot(project) == before


def test_duplicates_are_kept_and_counted_across_batches_and_against_the_project(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(import_files, "BATCH_SIZE", 3)
    project = ProjectFactory(label_set=[])
    ExampleFactory(project=project, external_id="old", fields={"text": "already here"})
    path = tmp_path / "data.jsonl"
    texts = ["a", "b", "a", "c", " a ", "already here", "b"]
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))

    report = examples_import(project=project, path=path, options=ImportOptions())

    assert report.created == len(texts)
    assert report.duplicates_in_file == 3  # lines 3 and 5 repeat line 1, line 7 repeats 2
    assert report.duplicates_of_existing == 1
    assert report.duplicate_samples == [
        {"line": 3, "duplicate_of": "line 1"},
        {"line": 5, "duplicate_of": "line 1"},
        {"line": 6, "duplicate_of": "example 'old'"},
        {"line": 7, "duplicate_of": "line 2"},
    ]


def test_generation_project_imports_prompt_response_jsonl(tmp_path):
    project = ProjectFactory(task_type="generation", label_set=[])
    path = tmp_path / "pairs.jsonl"
    rows = [
        {"prompt": "Say hi", "response": "Hi!", "label": "accept"},
        {"prompt": "Say bye", "response": "Bye.", "label": None},
    ]
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n")

    report = examples_import(project=project, path=path, options=ImportOptions())

    project.refresh_from_db()
    assert report.created == 2
    assert project.label_set == []  # generation projects take no label set
    stored = Example.objects.filter(project=project)
    assert [e.fields for e in stored] == [
        {"prompt": "Say hi", "response": "Hi!"},
        {"prompt": "Say bye", "response": "Bye."},
    ]
    assert [e.resolved_label for e in stored] == ["accept", ""]


def test_generation_project_without_a_response_column_is_refused(tmp_path):
    project = ProjectFactory(task_type="generation", label_set=[])
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"prompt": "Say hi", "answer": "Hi!"}\n')

    with pytest.raises(ImportFileError, match="no column for the field response"):
        examples_import(project=project, path=path, options=ImportOptions())


def test_parquet_import_and_wrong_type(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    project = ProjectFactory(label_set=["negative", "positive"])
    good, bad = tmp_path / "good.parquet", tmp_path / "bad.parquet"
    pq.write_table(pa.table({"text": ["fine", "awful"], "label": ["positive", "negative"]}), good)
    pq.write_table(pa.table({"review": [1.5, 2.0]}), bad)

    report = examples_import(project=project, path=good, options=ImportOptions())
    with pytest.raises(ImportFileError) as caught:
        examples_import(
            project=project, path=bad, options=ImportOptions(mapping={"text": "review"})
        )

    assert report.created == 2
    assert Example.objects.get(external_id="good.parquet:2").resolved_label == "negative"
    assert caught.value.field == "review"
    assert "has type double; the content field 'text' needs text" in str(caught.value)
    assert Example.objects.filter(project=project).count() == 2


def test_saved_hugging_face_dataset_import(tmp_path):
    from datasets import Dataset, DatasetDict

    project = ProjectFactory(label_set=[])
    DatasetDict(
        train=Dataset.from_dict({"text": ["a", "b"], "label": ["x", "y"]}),
        test=Dataset.from_dict({"text": ["c"], "label": ["x"]}),
    ).save_to_disk(tmp_path / "saved")

    report = examples_import(
        project=project, path=tmp_path / "saved", options=ImportOptions(split="test")
    )

    assert report.format == "hf_dataset"
    assert list(Example.objects.filter(project=project).values_list("external_id", "fields")) == [
        ("saved:1", {"text": "c"})
    ]


def test_upload_is_stored_under_upload_dir_and_removed_after_its_run(
    settings, django_capture_on_commit_callbacks
):
    project = ProjectFactory(label_set=[])
    upload = SimpleUploadedFile("my data.csv", b"text,label\nhello,ham\n")
    path = import_upload_store(uploaded_file=upload)
    assert path.parent.parent == settings.UPLOAD_DIR
    assert path.read_bytes() == b"text,label\nhello,ham\n"

    with django_capture_on_commit_callbacks(execute=True):
        run = import_start(
            project=project, path=path, options=ImportOptions(), display_name="my data.csv"
        )

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.result["created"] == 1
    assert Example.objects.get(project=project).external_id == "my data.csv:2"
    assert not path.parent.exists()


def test_failed_upload_run_reports_the_line_and_removes_the_upload(
    django_capture_on_commit_callbacks,
):
    project = ProjectFactory()
    path = import_upload_store(uploaded_file=SimpleUploadedFile("bad.csv", b'text\nok\n"\n'))

    with django_capture_on_commit_callbacks(execute=True):
        run = import_start(project=project, path=path, options=ImportOptions())

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.error.startswith("bad.csv, line 3: malformed CSV")
    assert run.result["error"]["line"] == 3
    assert not path.parent.exists()
    assert not Example.objects.filter(project=project).exists()


def test_second_import_into_a_project_is_refused_while_one_is_queued(tmp_path):
    project = ProjectFactory()
    queued = run_create(kind="import", target=project, project=project, params={})
    path = import_upload_store(uploaded_file=SimpleUploadedFile("data.csv", b"text\nhello\n"))

    with pytest.raises(RunAlreadyActive, match=f"#{queued.pk}"):
        import_start(project=project, path=path, options=ImportOptions())

    assert project.runs.count() == 1
    assert not path.parent.exists()


def test_users_own_file_is_not_deleted_by_a_run(tmp_path, django_capture_on_commit_callbacks):
    project = ProjectFactory(label_set=[])
    path = tmp_path / "mine.csv"
    path.write_text("text\nhello\n")

    with django_capture_on_commit_callbacks(execute=True):
        run = import_start(project=project, path=path, options=ImportOptions())

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert path.exists()


def test_id_lookups_probe_the_id_index_instead_of_walking_the_project(tmp_path):
    # Each batch looks up its ids among the project's examples. Sorted by id, SQLite answers
    # from the project_id index and reads every example imported so far, batch after batch:
    # a million-row import slowed to a third of its speed. The lookups must not sort.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    project = ProjectFactory(label_set=["ham", "spam"])
    ExampleFactory(project=project, external_id="old")
    path = tmp_path / "rows.csv"
    path.write_text("id,text,label\n" + "".join(f"r{i},text {i},ham\n" for i in range(50)))
    options = ImportOptions(mapping={"id": "id", "text": "text", "label": "label"})
    with CaptureQueriesContext(connection) as queries:
        examples_import(project=project, path=path, options=options)
    lookups = [q["sql"] for q in queries if '"external_id" IN' in q["sql"]]
    assert lookups, "the import no longer looks ids up; update this test"
    assert not [sql for sql in lookups if "ORDER BY" in sql]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + lookups[0].replace("%s", "'x'"))
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        assert "external_id=?" in plan, plan
