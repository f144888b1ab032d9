import importlib
from collections import Counter
from contextlib import contextmanager
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from curation.core.hashing import content_hash
from curation.exceptions import AssayError
from curation.models import AuditEvent, DatasetVersion, DatasetVersionMember
from curation.services.exports import dataset_version_export
from curation.services.versions import (
    FROZEN_COLUMNS,
    dataset_version_approve,
    dataset_version_build,
    dataset_version_submit,
    dataset_version_verify,
    member_row_hash,
    version_hash,
)
from tests.factories import ExampleFactory, UserFactory


@pytest.fixture(autouse=True)
def operator(db):
    """The one superuser, whom commands act as when no --user is given (as after
    `make run`'s bootstrap)."""
    return UserFactory(username="operator", is_superuser=True)


triggers = importlib.import_module("curation.migrations.0007_member_triggers_check_new_version")


@pytest.fixture
def version(classification_project):
    ExampleFactory.create_batch(
        30, project=classification_project, resolved_label="ham", resolved_label_origin="import"
    )
    ExampleFactory.create_batch(
        10, project=classification_project, resolved_label="spam", resolved_label_origin="import"
    )
    return dataset_version_build(project=classification_project, seed=2)


def update_bypassing_the_triggers(member_id: int, **changes) -> None:
    """Tamper with an approved member as stray SQL would, with the guard switched off."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER assay_member_approved_no_update")
        else:
            # ALTER TABLE refuses while deferred foreign-key checks of this (test)
            # transaction are pending: run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                "ALTER TABLE curation_datasetversionmember "
                "DISABLE TRIGGER assay_member_approved_immutable"
            )
    try:
        DatasetVersionMember.objects.filter(pk=member_id).update(**changes)
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(triggers.SQLITE_OLD_OR_NEW)
            else:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(
                    "ALTER TABLE curation_datasetversionmember "
                    "ENABLE TRIGGER assay_member_approved_immutable"
                )
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def run_verify(*args) -> str:
    out = StringIO()
    call_command("assay_verify", *args, stdout=out)
    return out.getvalue()


def test_an_untouched_version_verifies(version):
    check = dataset_version_verify(version=version)

    assert check.ok
    assert check.actual_hash == check.expected_hash == version.content_hash
    assert (check.tampered_rows, check.problems) == ([], [])


def test_tampering_with_an_approved_version_is_reported_by_row(version, user):
    dataset_version_approve(version=dataset_version_submit(version=version, user=user), user=user)
    member = version.members.order_by("external_id")[7]

    update_bypassing_the_triggers(member.pk, fields={"text": "quietly rewritten"})

    check = dataset_version_verify(version=version)
    assert not check.ok
    assert check.tampered_rows == [member.external_id]
    assert check.actual_hash != check.expected_hash
    assert any(member.external_id in problem for problem in check.problems)
    out = StringIO()
    with pytest.raises(CommandError, match="1 of 1 version"):
        call_command("assay_verify", version.project.name, stdout=out)
    assert "v1 FAILED" in out.getvalue()
    assert member.external_id in out.getvalue()


def test_the_triggers_are_back_after_tampering(version, user):
    dataset_version_approve(version=dataset_version_submit(version=version, user=user), user=user)
    member = version.members.first()
    update_bypassing_the_triggers(member.pk, label="spam")

    with pytest.raises(IntegrityError), transaction.atomic():
        DatasetVersionMember.objects.filter(pk=member.pk).update(label="ham")


def test_a_changed_label_or_split_is_caught_even_when_fields_are_intact(version):
    ham, spam = version.members.filter(label="ham").first(), version.members.filter(label="spam")[0]
    DatasetVersionMember.objects.filter(pk=ham.pk).update(label="spam")
    moved = "test" if spam.split != "test" else "train"
    DatasetVersionMember.objects.filter(pk=spam.pk).update(split=moved)

    check = dataset_version_verify(version=version)

    assert check.tampered_rows == sorted([ham.external_id, spam.external_id])
    assert any("manifest lists" in problem for problem in check.problems)


def test_a_deleted_member_shows_as_a_count_mismatch(version):
    version.members.filter(split="validation").first().delete()

    check = dataset_version_verify(version=version)

    assert not check.ok
    assert check.tampered_rows == []
    assert any("lists 40 members; 39 are stored" in problem for problem in check.problems)


def test_assay_verify_checks_every_version_or_one(version, classification_project):
    second = dataset_version_build(project=classification_project, seed=3)

    out = run_verify(classification_project.name)
    assert out.splitlines() == [
        f"v1 ok  {version.content_hash}",
        f"v2 ok  {second.content_hash}",
    ]
    assert run_verify(str(classification_project.pk), "2").splitlines() == [
        f"v2 ok  {second.content_hash}"
    ]
    with pytest.raises(CommandError, match="has no version 3"):
        run_verify(classification_project.name, "3")


def test_a_version_that_fails_verification_cannot_be_approved(version, user):
    in_review = dataset_version_submit(version=version, user=user)
    member = in_review.members.first()
    DatasetVersionMember.objects.filter(pk=member.pk).update(fields={"text": "swapped"})

    with pytest.raises(AssayError, match=f"cannot be approved: 1 member row.*{member.external_id}"):
        dataset_version_approve(version=in_review, user=user)
    in_review.refresh_from_db()
    assert (in_review.status, in_review.reviewed_by) == ("in_review", None)


@contextmanager
def all_triggers_off():
    """What an attacker with database rights does first: switch every guard off."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("INSERT INTO assay_maintenance_unlock (reason) VALUES ('attack')")
        else:
            cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("DELETE FROM assay_maintenance_unlock")
            else:
                cursor.execute("SET session_replication_role = origin")


def rewrite_consistently(version) -> str:
    """Flip every label, edit every text, and recompute the content, row and version
    hashes so the rows agree with each other again. Returns the forged version hash."""
    rows = []
    with all_triggers_off():
        for member in version.members.order_by("id"):
            member.label = "spam" if member.label == "ham" else "ham"
            member.fields = {"text": member.fields["text"] + " (edited)"}
            member.content_hash = content_hash(member.fields)
            member.row_hash = member_row_hash(
                {column: getattr(member, column) for column in FROZEN_COLUMNS}
            )
            member.save()
            rows.append((member.split, member.external_id, member.row_hash))
        forged = version_hash(rows)
        DatasetVersion.objects.filter(pk=version.pk).update(content_hash=forged)
    return forged


@pytest.fixture
def approved(version, user):
    return dataset_version_approve(
        version=dataset_version_submit(version=version, user=user), user=user
    )


def test_a_consistent_rewrite_of_an_approved_version_is_reported_as_tampered(approved):
    original = approved.content_hash
    forged = rewrite_consistently(approved)
    approved.refresh_from_db()

    check = dataset_version_verify(version=approved)

    assert not check.ok
    assert check.tampered_rows == []  # every row agrees with its own (recomputed) hashes
    assert any(original in p and forged in p and "audit log" in p for p in check.problems)
    assert any("manifest lists" in p and "'spam'" in p for p in check.problems)
    out = StringIO()
    with pytest.raises(CommandError, match="1 of 1 version"):
        call_command("assay_verify", approved.project.name, stdout=out)
    assert "v1 FAILED" in out.getvalue()


def test_a_rewrite_that_also_forges_the_manifest_and_audit_log_fails_the_signature(approved):
    forged = rewrite_consistently(approved)
    with all_triggers_off():
        rebuilt = Counter((m.split, m.label) for m in approved.members.all())
        manifest = approved.manifest
        manifest["label_distribution"] = {
            split: {label: n for (s, label), n in sorted(rebuilt.items()) if s == split}
            for split in manifest["split_counts"]
        }
        DatasetVersion.objects.filter(pk=approved.pk).update(manifest=manifest)
        for event in AuditEvent.objects.filter(version=approved):
            after = event.after or {}
            for key in ("hash", "content_hash"):
                if key in after:
                    after[key] = forged
            if "attestation" in after:
                after["attestation"]["hash"] = forged
                after["attestation"]["label_distribution"] = manifest["label_distribution"]
            AuditEvent.objects.filter(pk=event.pk).update(after=after)
    approved.refresh_from_db()

    check = dataset_version_verify(version=approved)

    assert not check.ok
    assert any("signature" in p for p in check.problems)


def test_a_rewrite_is_caught_by_the_exported_files(approved, user):
    dataset_version_export(version=approved, formats=["jsonl"], created_by=user)
    forged = rewrite_consistently(approved)
    approved.refresh_from_db()

    problems = dataset_version_verify(version=approved).problems

    assert any(p.startswith("Export") and forged in p for p in problems)


def test_an_edited_export_file_is_reported(approved, user):
    export = dataset_version_export(version=approved, formats=["jsonl"], created_by=user)
    train = Path(export.path) / "jsonl" / "train.jsonl"
    train.write_text(train.read_text().replace("ham", "spam"))

    check = dataset_version_verify(version=approved)

    assert not check.ok
    assert any("jsonl/train.jsonl" in p and "SHA256SUMS" in p for p in check.problems)


def test_an_approved_version_without_its_approval_record_is_reported(approved):
    with all_triggers_off():
        AuditEvent.objects.filter(version=approved, action="version.approve").delete()

    check = dataset_version_verify(version=approved)

    assert any("no approval record" in p for p in check.problems)
