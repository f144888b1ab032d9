"""The assay_project_create and assay_import management commands."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from curation.models import Example, Label, Project, Run, RunStatus
from tests.factories import ExampleFactory, ProjectFactory, UserFactory


@pytest.fixture(autouse=True)
def operator(db):
    """The one superuser, whom commands act as when no --user is given (as after
    `make run`'s bootstrap)."""
    return UserFactory(username="operator", is_superuser=True)


pytestmark = pytest.mark.django_db

SMS_FLAGS = ["--no-header", "--columns", "label,text", "--no-quoting", "--verbosity", "0"]


def run_command(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_project_create_makes_a_classification_project():
    output = run_command(
        "assay_project_create", "--name", "SMS spam", "--task-type", "classification",
        "--labels", "ham,spam",
    )  # fmt: skip

    project = Project.objects.get(name="SMS spam")
    assert (project.task_type, project.label_set, project.field_schema) == (
        "classification",
        ["ham", "spam"],
        ["text"],
    )
    assert f"id {project.pk}" in output


def test_project_create_takes_generation_fields():
    run_command(
        "assay_project_create", "--name", "E2E", "--task-type", "generation",
        "--fields", "mr,ref",
    )  # fmt: skip

    assert Project.objects.get(name="E2E").field_schema == ["mr", "ref"]


def test_project_create_refuses_a_taken_name():
    ProjectFactory(name="Taken")

    with pytest.raises(CommandError, match="A project named 'Taken' already exists"):
        run_command("assay_project_create", "--name", "Taken", "--task-type", "classification")


def test_import_sms_spam_by_command(shared_data):
    sms_file = shared_data / "sms_spam" / "SMSSpamCollection.tsv"
    project = ProjectFactory(name="SMS", label_set=[])

    output = run_command("assay_import", "SMS", str(sms_file), *SMS_FLAGS)

    project.refresh_from_db()
    assert Example.objects.filter(project=project).count() == 5574
    assert project.label_set == ["ham", "spam"]
    assert "Imported 5,574 examples from SMSSpamCollection.tsv" in output
    run = Run.objects.get(project=project, kind="import")
    assert run.status == RunStatus.SUCCEEDED
    assert run.result["duplicates_in_file"] > 0
    assert f"{run.result['duplicates_in_file']:,} within the file" in output
    assert sms_file.exists()  # the user's own file is never deleted


def test_import_of_a_corrupted_file_fails_naming_the_line(shared_data, tmp_path):
    lines = (shared_data / "sms_spam" / "SMSSpamCollection.tsv").read_bytes().splitlines(True)
    lines[99] = lines[99].replace(b"\t", b"", 1)
    broken = tmp_path / "sms.tsv"
    broken.write_bytes(b"".join(lines))
    project = ProjectFactory(label_set=["ham", "spam"])
    ExampleFactory(project=project)

    with pytest.raises(CommandError) as caught:
        run_command("assay_import", str(project.pk), str(broken), *SMS_FLAGS)

    assert "sms.tsv, line 100: expected 2 fields, found 1" in str(caught.value)
    assert Example.objects.filter(project=project).count() == 1
    assert not Label.objects.exists()


def test_import_maps_columns_from_flags(tmp_path):
    path = tmp_path / "comments.csv"
    path.write_text("COMMENT_ID,CONTENT,CLASS\nc1,Great song,0\nc2,Visit my channel,1\n")
    project = ProjectFactory(label_set=["0", "1"])

    run_command(
        "assay_import", str(project.pk), str(path), "--map", "text=CONTENT",
        "--map", "label=CLASS", "--map", "id=COMMENT_ID", "--verbosity", "0",
    )  # fmt: skip

    stored = Example.objects.filter(project=project).values_list(
        "external_id", "fields", "resolved_label"
    )
    assert list(stored) == [
        ("c1", {"text": "Great song"}, "0"),
        ("c2", {"text": "Visit my channel"}, "1"),
    ]


def test_import_with_an_explicit_format_and_delimiter(tmp_path):
    path = tmp_path / "export.txt"
    path.write_text("text|label\nhello|a\n")
    project = ProjectFactory(label_set=[])

    run_command(
        "assay_import", str(project.pk), str(path), "--format", "csv", "--delimiter", "|",
        "--verbosity", "0",
    )  # fmt: skip

    assert Example.objects.get(project=project).fields == {"text": "hello"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--map", "text"], "--map expects FIELD=COLUMN, got 'text'"),
        (["--delimiter", ";;"], "one character"),
    ],
)
def test_import_refuses_bad_flags(tmp_path, args, message):
    path = tmp_path / "data.csv"
    path.write_text("text\nhello\n")
    project = ProjectFactory()

    with pytest.raises(CommandError, match=message):
        run_command("assay_import", str(project.pk), str(path), *args)

    assert not Run.objects.exists()


def test_import_of_a_missing_file_or_unknown_extension_is_refused(tmp_path):
    project = ProjectFactory()
    (tmp_path / "data.xlsx").write_bytes(b"")

    with pytest.raises(CommandError, match="nope.csv: file not found"):
        run_command("assay_import", str(project.pk), str(tmp_path / "nope.csv"))
    with pytest.raises(CommandError, match="Cannot tell the format of 'data.xlsx'"):
        run_command("assay_import", str(project.pk), str(tmp_path / "data.xlsx"))


def test_import_into_an_unknown_project_is_refused(tmp_path):
    with pytest.raises(CommandError, match="No project with id or name 'ghost'"):
        run_command("assay_import", "ghost", str(tmp_path / "data.csv"))


def test_an_import_error_gives_the_command_line_flag_that_fixes_it(tmp_path):
    # The message speaks in option names (as the API and the form do); the command adds
    # its own flag for the option named.
    ProjectFactory(name="Spam", label_set=["ham", "spam"])
    data = tmp_path / "data.csv"
    data.write_text("body,tag\nhello,ham\n")

    with pytest.raises(CommandError, match=r"mapping option.*\(on the command line: --map"):
        run_command("assay_import", "Spam", str(data), "--verbosity", "0")
