"""Uploaded import files (`curation.services.imports.runs`): the size limit, names the
file system cannot hold, and removing copies no run will clean up."""

import os
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from curation.models import Run, RunStatus
from curation.services.api_tokens import api_token_create
from curation.services.imports import import_upload_store
from tests.factories import MembershipFactory, ProjectFactory

CSV = b"text,label\nhello,ham\nworld,spam\n"


@pytest.fixture
def project(user):
    project = ProjectFactory(label_set=["ham", "spam"])
    MembershipFactory(project=project, user=user, role="data_lead")
    return project


@pytest.fixture
def api(client, user):
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {api_token_create(user=user, name='t')[1]}"
    return client


def upload_folder_contents(settings) -> list[Path]:
    root = Path(settings.UPLOAD_DIR)
    return sorted(root.rglob("*")) if root.exists() else []


def test_an_upload_over_the_limit_is_refused_naming_the_limit(api, project, settings):
    settings.UPLOAD_MAX_BYTES = 2_048

    response = api.post(
        f"/api/projects/{project.pk}/imports",
        {"file": SimpleUploadedFile("big.csv", b"text\n" + b"x" * 4_000 + b"\n")},
    )

    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "big.csv" in detail and "2.0 KB" in detail and "ASSAY_UPLOAD_MAX_BYTES" in detail
    assert upload_folder_contents(settings) == []
    assert not Run.objects.exists()


def test_an_upload_with_a_name_too_long_for_the_disk_is_imported(
    api, project, settings, django_capture_on_commit_callbacks
):
    name = "字" * 100 + ".csv"  # 303 bytes in UTF-8; file systems allow 255

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"/api/projects/{project.pk}/imports", {"file": SimpleUploadedFile(name, CSV)}
        )

    assert response.status_code == 202
    run = Run.objects.get(pk=response.json()["id"])
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.result["file"] == name
    assert upload_folder_contents(settings) == []


def test_a_stored_name_keeps_its_extension_within_255_bytes(settings):
    path = import_upload_store(uploaded_file=SimpleUploadedFile("é" * 300 + ".jsonl", CSV))

    assert path.suffix == ".jsonl"
    assert len(path.name.encode()) <= 255


def test_an_upload_no_run_will_clean_up_is_removed_after_the_retention(settings, project):
    settings.UPLOAD_RETENTION_SECONDS = 3600
    orphan = import_upload_store(uploaded_file=SimpleUploadedFile("orphan.csv", CSV))
    in_use = import_upload_store(uploaded_file=SimpleUploadedFile("in-use.csv", CSV))
    Run.objects.create(
        kind="import", target=project, project=project, params={"path": str(in_use)},
        status=RunStatus.RUNNING,
    )  # fmt: skip
    two_hours_ago = time.time() - 7200
    for path in (orphan, in_use):
        os.utime(path.parent, (two_hours_ago, two_hours_ago))

    fresh = import_upload_store(uploaded_file=SimpleUploadedFile("fresh.csv", CSV))

    assert not orphan.parent.exists()
    assert in_use.exists() and fresh.exists()
