import hashlib
import json
import os
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from curation.core import export_writers
from curation.exceptions import AssayError
from curation.models import DatasetExport, RunStatus
from curation.services.exports import dataset_version_export, export_start
from curation.services.versions import (
    dataset_version_approve,
    dataset_version_build,
    dataset_version_reject,
    dataset_version_submit,
)
from tests.factories import ExampleFactory, GenerationExampleFactory, ProjectFactory


@pytest.fixture
def version(classification_project, user):
    for label, count in (("ham", 40), ("spam", 12)):
        ExampleFactory.create_batch(
            count,
            project=classification_project,
            resolved_label=label,
            resolved_label_origin="annotator",
        )
    draft = dataset_version_build(project=classification_project, seed=1)
    return dataset_version_approve(
        version=dataset_version_submit(version=draft, user=user), user=user
    )


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_export_writes_every_format_and_records_each_file(version, settings):
    export = dataset_version_export(version=version)

    folder = Path(export.path)
    assert (
        folder == Path(settings.EXPORT_DIR) / str(version.project_id) / "v1" / f"export-{export.pk}"
    )
    files = folder_bytes(folder)
    assert export.formats == ["hf_dataset", "parquet", "jsonl"]
    for split in ("train", "validation", "test"):
        assert f"parquet/{split}.parquet" in files
        assert f"jsonl/{split}.jsonl" in files
        assert f"hf_dataset/{split}/state.json" in files
    assert {"README.md", "SHA256SUMS", "hf_dataset/dataset_dict.json"} <= set(files)
    recorded = {f.path: (f.sha256, f.size_bytes) for f in export.files.all()}
    assert recorded == {
        path: (hashlib.sha256(data).hexdigest(), len(data)) for path, data in files.items()
    }
    sums = dict(reversed(line.split("  ", 1)) for line in files["SHA256SUMS"].decode().splitlines())
    assert sums == {path: sha for path, (sha, _) in recorded.items() if path != "SHA256SUMS"}
    assert [p.name for p in Path(settings.EXPORT_DIR).iterdir()] == [str(version.project_id)]


def test_exported_splits_match_the_version(version):
    from datasets import load_from_disk

    export = dataset_version_export(version=version)
    folder = Path(export.path)
    members = {
        split: sorted(version.members.filter(split=split).values_list("external_id", "label"))
        for split in ("train", "validation", "test")
    }

    dataset = load_from_disk(str(folder / "hf_dataset"))
    assert dataset["train"].features["label"].names == ["ham", "spam"]
    for split, expected in members.items():
        rows = dataset[split]
        names = rows.features["label"].names
        assert list(zip(rows["id"], [names[i] for i in rows["label"]], strict=True)) == expected
        table = pq.read_table(folder / "parquet" / f"{split}.parquet")
        assert b"pandas" not in (table.schema.metadata or {})
        assert list(zip(table["id"].to_pylist(), table["label"].to_pylist(), strict=True)) == (
            expected
        )
        lines = (folder / "jsonl" / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
        records = [json.loads(line) for line in lines]
        assert [(r["id"], r["label"]) for r in records] == expected
        assert all(set(r) == {"id", "text", "label"} for r in records)


def test_exporting_twice_gives_byte_identical_files(version):
    first = dataset_version_export(version=version)
    second = dataset_version_export(version=version)

    assert first.path != second.path
    assert folder_bytes(Path(first.path)) == folder_bytes(Path(second.path))
    assert list(first.files.values_list("path", "sha256")) == list(
        second.files.values_list("path", "sha256")
    )


def test_the_card_describes_the_version_without_timestamps(version, user):
    card = (Path(dataset_version_export(version=version).path) / "README.md").read_text()

    assert f"**Status: Approved (reviewed by {user.username})**" in card
    assert version.content_hash in card
    assert "Parent version: none" in card
    counts = version.manifest["split_counts"]
    assert f"| train | {counts['train']} |" in card
    ham = version.manifest["label_distribution"]
    assert f"| ham | {ham['train']['ham']} | {ham['validation']['ham']} | " in card
    assert "| imported | 52 |" in card
    assert str(version.created_at.year) not in card


def test_drafts_export_with_a_warning_and_rejected_versions_do_not(classification_project, user):
    ExampleFactory.create_batch(
        10, project=classification_project, resolved_label="ham", resolved_label_origin="import"
    )
    draft = dataset_version_build(project=classification_project)

    card = (Path(dataset_version_export(version=draft).path) / "README.md").read_text()
    assert "DRAFT — not approved" in card

    dataset_version_reject(version=draft, user=user, comment="wrong labels")
    draft.refresh_from_db()
    with pytest.raises(AssayError, match="was rejected"):
        dataset_version_export(version=draft)


def test_generation_exports_chat_jsonl_with_the_system_prompt(db):
    project = ProjectFactory(
        task_type="generation", label_set=[], field_schema=["system", "prompt", "response"]
    )
    for n in range(20):
        fields = {"system": "Be brief." if n % 2 else "", "prompt": f"Q{n}", "response": f"A{n}"}
        GenerationExampleFactory(project=project, fields=fields, external_id=f"g{n:02d}")
    version = dataset_version_build(project=project)

    export = dataset_version_export(version=version, formats=["jsonl"])

    folder = Path(export.path)
    assert sorted(folder_bytes(folder)) == [
        "README.md",
        "SHA256SUMS",
        "jsonl/test.jsonl",
        "jsonl/train.jsonl",
        "jsonl/validation.jsonl",
    ]
    records = {
        record["id"]: record
        for split in ("train", "validation", "test")
        for record in map(json.loads, (folder / "jsonl" / f"{split}.jsonl").open())
    }
    assert len(records) == 20
    assert records["g03"] == {
        "id": "g03",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Q3"},
            {"role": "assistant", "content": "A3"},
        ],
    }
    assert [m["role"] for m in records["g04"]["messages"]] == ["user", "assistant"]


def test_generation_hf_dataset_carries_chat_messages(generation_project):
    from datasets import load_from_disk

    GenerationExampleFactory.create_batch(10, project=generation_project)
    version = dataset_version_build(project=generation_project)

    folder = Path(dataset_version_export(version=version, formats=["hf_dataset"]).path)

    train = load_from_disk(str(folder / "hf_dataset"))["train"]
    assert set(train.column_names) == {"id", "prompt", "response", "label", "messages"}
    row = train[0]
    assert row["messages"] == [
        {"role": "user", "content": row["prompt"]},
        {"role": "assistant", "content": row["response"]},
    ]


@pytest.mark.parametrize("writer", ["write_jsonl", "write_hf_dataset", "write_checksums"])
def test_a_failure_mid_export_leaves_no_folder_and_no_record(
    version, settings, monkeypatch, writer
):
    def broken_writer(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(export_writers, writer, broken_writer)

    with pytest.raises(OSError, match="disk full"):
        dataset_version_export(version=version)

    assert list(Path(settings.EXPORT_DIR).rglob("*")) == []
    assert not DatasetExport.objects.exists()


def test_unknown_formats_are_refused(version):
    with pytest.raises(AssayError, match="Unknown export format.*csv"):
        dataset_version_export(version=version, formats=["csv", "jsonl"])
    assert not DatasetExport.objects.exists()


def test_export_run_returns_the_export(version, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = export_start(version=version, formats=["parquet"], created_by=user)
    run.refresh_from_db()

    assert run.status == RunStatus.SUCCEEDED, run.error
    export = DatasetExport.objects.get()
    assert (run.result["export_id"], run.result["path"]) == (export.pk, export.path)
    assert [f["path"] for f in run.result["files"]] == [
        "README.md",
        "SHA256SUMS",
        "parquet/test.parquet",
        "parquet/train.parquet",
        "parquet/validation.parquet",
    ]
    assert (export.formats, export.created_by) == (["parquet"], user)


def test_leftovers_of_killed_exports_are_cleared_later(version, settings):
    root = Path(settings.EXPORT_DIR)
    old, recent = root / ".tmp-killed-yesterday", root / ".tmp-still-writing"
    for folder in (old, recent):
        (folder / "jsonl").mkdir(parents=True)
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (two_days_ago, two_days_ago))

    dataset_version_export(version=version, formats=["jsonl"])

    assert not old.exists()
    assert recent.exists()


# The pure writers, called directly.


def test_classification_jsonl_records_carry_every_content_field():
    schema = export_writers.ExportSchema("classification", ("title", "body"), ("a", "b"))
    row = export_writers.ExportRow("x1", {"body": "B", "title": "T"}, "b", "import", "human", "h")

    assert list(export_writers.jsonl_record(row, schema).items()) == [
        ("id", "x1"),
        ("title", "T"),
        ("body", "B"),
        ("label", "b"),
    ]


def test_checksums_list_every_other_file_in_sha256sum_format(tmp_path):
    card, train = b"# card\n", b'{"id": "1"}\n'
    (tmp_path / "jsonl").mkdir()
    (tmp_path / "jsonl" / "train.jsonl").write_bytes(train)
    (tmp_path / "README.md").write_bytes(card)

    files = export_writers.write_checksums(tmp_path)

    assert [f.path for f in files] == ["README.md", "SHA256SUMS", "jsonl/train.jsonl"]
    assert (tmp_path / "SHA256SUMS").read_text() == (
        f"{hashlib.sha256(card).hexdigest()}  README.md\n"
        f"{hashlib.sha256(train).hexdigest()}  jsonl/train.jsonl\n"
    )


def test_cards_of_unapproved_generation_versions_say_so():
    info = export_writers.CardInfo(
        title="Support bot",
        version_number=3,
        status="in_review",
        task_type="generation",
        content_hash="ab" * 32,
        hash_algorithm="sha256",
        seed=0,
        ratios={"train": 0.8, "validation": 0.1, "test": 0.1},
        parent_number=2,
        split_counts={"train": 8, "validation": 1, "test": 1},
        label_distribution={"train": {"": 8}, "validation": {"": 1}, "test": {"": 1}},
        sources={"human": 10},
        fields=("prompt", "response"),
        labels=(),
        formats=("jsonl",),
    )

    card = export_writers.render_dataset_card(info)

    assert "**Status: IN REVIEW — not approved**" in card
    assert "Parent version: v2" in card
    assert "| (none) | 8 | 1 | 1 |" in card
    assert '`{"id", "messages": [...]}`' in card
    assert "hf_dataset" not in card
