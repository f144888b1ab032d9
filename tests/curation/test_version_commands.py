from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from curation.models import DatasetExport, DatasetVersion, Run
from tests.factories import ExampleFactory, UserFactory


@pytest.fixture(autouse=True)
def operator(db):
    """The one superuser, whom commands act as when no --user is given (as after
    `make run`'s bootstrap)."""
    return UserFactory(username="operator", is_superuser=True)


@pytest.fixture
def project(classification_project):
    for label, count in (("ham", 30), ("spam", 10)):
        ExampleFactory.create_batch(
            count,
            project=classification_project,
            resolved_label=label,
            resolved_label_origin="annotator",
        )
    return classification_project


def command(name, *args) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out, stderr=StringIO(), verbosity=0)
    return out.getvalue()


def test_build_review_export_verify_from_the_command_line(project, user, settings):
    out = command("assay_version_build", project.name, "--seed", "7", "--note", "baseline")
    version = DatasetVersion.objects.get()
    assert (version.seed, version.note, version.status) == (7, "baseline", "draft")
    assert f"Built {project.name} v1 (draft): 40 examples" in out
    assert f"train      {version.manifest['split_counts']['train']}" in out
    assert version.content_hash in out
    assert Run.objects.get().kind == "version_build"

    assert "is now in review" in command("assay_version_review", str(project.pk), "1", "--submit")
    out = command("assay_version_review", project.name, "1", "--approve", "--user", user.username)
    assert "is now approved" in out
    version.refresh_from_db()
    assert (version.status, version.reviewed_by) == ("approved", user)

    out = command("assay_export", project.name, "1", "--format", "jsonl", "--format", "parquet")
    export = DatasetExport.objects.get()
    assert export.formats == ["parquet", "jsonl"]
    assert export.path in out
    assert "jsonl/train.jsonl" in out
    assert Path(export.path).is_dir()

    assert command("assay_verify", project.name) == f"v1 ok  {version.content_hash}\n"


def test_review_errors_are_reported_without_changing_anything(project, user):
    command("assay_version_build", project.name)

    with pytest.raises(CommandError, match="is draft; only in review versions"):
        command("assay_version_review", project.name, "1", "--approve", "--user", user.username)
    with pytest.raises(CommandError, match="needs a comment"):
        command("assay_version_review", project.name, "1", "--reject", "--user", user.username)
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        command("assay_version_review", project.name, "1", "--reject", "--user", "nobody")
    UserFactory(username="second-operator", is_superuser=True)
    with pytest.raises(CommandError, match="Say who is acting with --user"):
        command("assay_version_review", project.name, "1", "--reject", "--comment", "bad")
    assert DatasetVersion.objects.get().status == "draft"


def test_commands_name_what_they_cannot_find_or_do(classification_project):
    with pytest.raises(CommandError, match="No project with id or name 'Nope'"):
        command("assay_version_build", "Nope")
    with pytest.raises(CommandError, match="no labelled examples to version"):
        command("assay_version_build", classification_project.name)
    with pytest.raises(CommandError, match="has no version 4"):
        command("assay_export", classification_project.name, "4")
    with pytest.raises(CommandError, match="has no versions to verify"):
        command("assay_verify", classification_project.name)
