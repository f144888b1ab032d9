"""Versions that store what changed: a child of an approved version stores only the rows
its parent lacks, plus a removal for each parent row it drops, and reads exactly as a
full copy would."""

import pytest
from django.db import IntegrityError, transaction

from curation.models import DatasetVersionMember, DatasetVersionRemoval, Example
from curation.selectors.examples import examples_filter
from curation.services.exports import dataset_version_export
from curation.services.versions import build as version_build
from curation.services.versions import (
    dataset_version_approve,
    dataset_version_build,
    dataset_version_submit,
    dataset_version_verify,
)
from tests.factories import ExampleFactory

FROZEN = ("external_id", "fields", "label", "label_origin", "source", "split", "row_hash")


def approve(version, user):
    return dataset_version_approve(
        version=dataset_version_submit(version=version, user=user), user=user
    )


def frozen(version) -> set[tuple]:
    return {
        (row[0], str(row[1]), *row[2:]) for row in version.members.values_list(*FROZEN).iterator()
    }


def stored(version) -> int:
    return DatasetVersionMember.objects.filter(version=version).count()


@pytest.fixture
def approved(classification_project, user):
    for label, count in (("ham", 160), ("spam", 40)):
        ExampleFactory.create_batch(
            count,
            project=classification_project,
            resolved_label=label,
            resolved_label_origin="annotator",
        )
    return approve(dataset_version_build(project=classification_project, seed=1), user)


def change_a_few(project) -> dict[str, list[str]]:
    """Relabel two examples, edit one's text, drop one (relabelled to outside the label
    set) and add three: what a week of annotation does to a project."""
    examples = list(Example.objects.filter(project=project).order_by("id"))
    relabelled, edited, dropped = examples[:2], examples[2], examples[3]
    for example in relabelled:
        example.resolved_label = "spam" if example.resolved_label == "ham" else "ham"
        example.save(update_fields=["resolved_label"])
    edited.fields = {"text": edited.fields["text"] + " (corrected)"}
    edited.save(update_fields=["fields"])
    dropped.resolved_label = ""
    dropped.save(update_fields=["resolved_label"])
    added = ExampleFactory.create_batch(
        3, project=project, resolved_label="spam", resolved_label_origin="annotator"
    )
    return {
        "changed": [e.external_id for e in [*relabelled, edited]],
        "dropped": [dropped.external_id],
        "added": [e.external_id for e in added],
    }


def test_a_child_stores_only_what_changed_and_reads_like_a_full_copy(
    approved, classification_project, monkeypatch
):
    changes = change_a_few(classification_project)

    child = dataset_version_build(project=classification_project, seed=1)

    assert child.stores_delta and child.parent == approved
    assert stored(child) == 6  # 3 changed + 3 added; the other 196 are shared
    assert DatasetVersionRemoval.objects.filter(version=child).count() == 4  # 3 changed + 1
    assert child.manifest["storage"] == {"delta_of": 1, "stored_rows": 6, "removed_rows": 4}
    assert child.members.count() == child.manifest["member_count"] == 202
    ids = set(child.members.values_list("external_id", flat=True))
    assert set(changes["added"]) <= ids and not set(changes["dropped"]) & ids
    # The same project built as a full copy: the same rows, labels, splits and hash.
    monkeypatch.setattr(version_build, "MAX_DELTA_CHAIN", 0)
    full = dataset_version_build(project=classification_project, seed=1)
    assert not full.stores_delta and stored(full) == 202
    assert frozen(child) == frozen(full)
    assert child.content_hash == full.content_hash
    assert dataset_version_verify(version=child).ok


def test_the_parent_is_untouched_by_its_delta_children(approved, classification_project, user):
    before, hash_before = frozen(approved), approved.content_hash
    change_a_few(classification_project)
    child = approve(dataset_version_build(project=classification_project, seed=1), user)
    change_a_few(classification_project)
    grandchild = dataset_version_build(project=classification_project, seed=1)

    assert grandchild.parent == child and grandchild.storage_chain == [
        grandchild.pk,
        child.pk,
        approved.pk,
    ]
    assert frozen(approved) == before
    assert dataset_version_verify(version=approved).ok
    assert approved.content_hash == hash_before
    for version in (child, grandchild):
        check = dataset_version_verify(version=version)
        assert check.ok, check.problems
    assert grandchild.members.count() == 205  # 3 more added; the 4th example stays dropped
    # A relabelled example appears once, with its newest label.
    relabelled = Example.objects.filter(project=classification_project).order_by("id")[0]
    rows = grandchild.members.filter(example=relabelled)
    assert list(rows.values_list("label", flat=True)) == [relabelled.resolved_label]


def test_pages_filters_and_exports_read_a_delta_version_whole(
    approved, classification_project, tmp_path, settings
):
    change_a_few(classification_project)
    child = dataset_version_build(project=classification_project, seed=1)

    in_test = examples_filter(project=classification_project, version=child, split="test")
    assert set(in_test.values_list("external_id", flat=True)) == set(
        child.members.filter(split="test").values_list("external_id", flat=True)
    )
    assert examples_filter(project=classification_project, version=child).count() == 202
    settings.EXPORT_DIR = tmp_path
    dataset_version_export(version=child, formats=["jsonl"])
    lines = sum(len(path.read_text().splitlines()) for path in tmp_path.rglob("*.jsonl"))
    assert lines == 202


def test_removals_of_an_approved_version_are_as_immutable_as_its_rows(
    approved, classification_project, user
):
    change_a_few(classification_project)
    child = approve(dataset_version_build(project=classification_project, seed=1), user)
    removal = DatasetVersionRemoval.objects.filter(version=child).first()
    other = approved.members.exclude(
        pk__in=DatasetVersionRemoval.objects.values("member_id")
    ).first()

    for action in (
        removal.delete,
        lambda: DatasetVersionRemoval.objects.create(version=child, member=other),
        lambda: DatasetVersionRemoval.objects.filter(pk=removal.pk).update(member=other),
    ):
        with pytest.raises(IntegrityError, match="approved and immutable"), transaction.atomic():
            action()
    assert child.members.count() == 202


def test_a_removal_deleted_behind_the_triggers_fails_verification(approved, classification_project):
    change_a_few(classification_project)
    child = dataset_version_build(project=classification_project, seed=1)  # a draft
    DatasetVersionRemoval.objects.filter(version=child).first().delete()

    check = dataset_version_verify(version=child)

    assert not check.ok
    assert any("lists 202 members; 203 are stored" in p for p in check.problems)


def test_a_long_chain_starts_again_from_a_full_copy(
    approved, classification_project, user, monkeypatch
):
    monkeypatch.setattr(version_build, "MAX_DELTA_CHAIN", 2)
    versions = [approved]
    for _ in range(3):
        ExampleFactory(project=classification_project, resolved_label="ham")
        versions.append(approve(dataset_version_build(project=classification_project), user))

    assert [v.stores_delta for v in versions[1:]] == [True, False, True]
    assert [stored(v) for v in versions[1:]] == [1, 202, 1]
    assert [len(v.storage_chain) for v in versions] == [1, 2, 1, 2]
    assert versions[-1].members.count() == 203


def test_storage_of_ten_versions_each_one_percent_apart(classification_project, user):
    """The issue's measure, at a size the suite can afford: ten versions of 1,000 examples,
    each differing from its parent by 1%, store under 1.2x one version's rows."""
    for label, count in (("ham", 800), ("spam", 200)):
        ExampleFactory.create_batch(
            count,
            project=classification_project,
            resolved_label=label,
            resolved_label_origin="import",
        )
    version = approve(dataset_version_build(project=classification_project), user)
    for _ in range(9):
        examples = Example.objects.filter(project=classification_project).order_by("?")[:5]
        for example in examples:
            example.resolved_label = "spam" if example.resolved_label == "ham" else "ham"
            example.save(update_fields=["resolved_label"])
        ExampleFactory.create_batch(
            5, project=classification_project, resolved_label="spam", resolved_label_origin="import"
        )
        version = approve(dataset_version_build(project=classification_project), user)
        assert dataset_version_verify(version=version).ok

    rows = DatasetVersionMember.objects.filter(version__project=classification_project).count()
    assert version.members.count() == 1045
    assert rows < 1.2 * 1000, rows


@pytest.mark.slow
def test_the_storage_benchmark_runs_and_reports_its_ratios(tmp_path):
    """benchmarks/version_storage.py at a size the suite affords, in its own process (it
    sets up Django itself), so the committed figures' script cannot rot."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    output = tmp_path / "storage.json"
    subprocess.run(
        [sys.executable, "benchmarks/version_storage.py", "--rows", "3000", "--versions", "3",
         "--output", str(output)],
        cwd=root, check=True, capture_output=True, timeout=300,
    )  # fmt: skip

    result = json.loads(output.read_text())
    assert [row["stored_rows"] for row in result["per_version"]] == [3000, 30, 30]
    assert [row["removal_rows"] for row in result["per_version"]] == [0, 15, 15]
    assert result["anchor_full_copy"]["stored_rows"] == 3030
    assert result["ratio_bytes_to_one_full_copy"] < 1.2
