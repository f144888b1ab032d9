import importlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from curation.exceptions import AssayError
from curation.models import DatasetVersionMember
from curation.services.versions import (
    dataset_version_approve,
    dataset_version_build,
    dataset_version_submit,
    dataset_version_verify,
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
