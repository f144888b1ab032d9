import pytest
from django.db import IntegrityError, connection, transaction

from curation.exceptions import VersionImmutable
from curation.models import DatasetVersion, DatasetVersionMember
from curation.services.versions import (
    dataset_version_approve,
    dataset_version_build,
    dataset_version_reject,
    dataset_version_submit,
)
from tests.factories import ExampleFactory


@pytest.fixture
def draft(classification_project):
    for label in ("ham", "spam"):
        ExampleFactory.create_batch(
            20, project=classification_project, resolved_label=label, resolved_label_origin="import"
        )
    return dataset_version_build(project=classification_project)


@pytest.fixture
def approved(draft, user):
    return dataset_version_approve(
        version=dataset_version_submit(version=draft, user=user), user=user
    )


def refused_by_the_database(action) -> None:
    # The savepoint keeps PostgreSQL's test transaction usable after the error.
    with pytest.raises(IntegrityError, match="approved and immutable"), transaction.atomic():
        action()


@pytest.mark.parametrize(
    "action",
    [
        lambda v, user: dataset_version_submit(version=v, user=user),
        lambda v, user: dataset_version_approve(version=v, user=user),
        lambda v, user: dataset_version_reject(version=v, user=user, comment="too late"),
    ],
    ids=["submit", "approve", "reject"],
)
def test_services_refuse_to_change_an_approved_version(approved, user, action):
    with pytest.raises(VersionImmutable, match="approved and immutable"):
        action(approved, user)
    approved.refresh_from_db()
    assert approved.status == "approved"


def test_database_refuses_updating_members_of_an_approved_version(approved):
    member = approved.members.first()

    refused_by_the_database(
        lambda: DatasetVersionMember.objects.filter(pk=member.pk).update(label="spam")
    )
    member.fields = {"text": "changed"}
    refused_by_the_database(member.save)

    member.refresh_from_db()
    assert member.fields != {"text": "changed"}


def test_database_refuses_deleting_or_adding_members_of_an_approved_version(approved):
    member = approved.members.first()

    refused_by_the_database(member.delete)
    refused_by_the_database(lambda: approved.members.all().delete())
    other = ExampleFactory(project=approved.project)
    refused_by_the_database(
        lambda: DatasetVersionMember.objects.create(
            version=approved,
            example=other,
            external_id=other.external_id,
            fields=other.fields,
            split="train",
            source="imported",
            content_hash=other.content_hash,
            row_hash="0" * 64,
        )
    )
    assert approved.members.count() == 40


def test_database_refuses_changing_or_deleting_an_approved_version_row(approved):
    refused_by_the_database(
        lambda: DatasetVersion.objects.filter(pk=approved.pk).update(status="draft")
    )
    approved.note = "rewritten"
    refused_by_the_database(approved.save)
    refused_by_the_database(approved.delete)

    approved.refresh_from_db()
    assert (approved.status, approved.note) == ("approved", "")


def test_a_draft_can_still_be_changed_in_the_database(draft):
    # The triggers are aimed at approved versions only.
    updated = DatasetVersionMember.objects.filter(version=draft).update(label="spam")
    assert updated == 40
    draft.note = "fine while a draft"
    draft.save()


def test_database_refuses_moving_a_draft_member_into_an_approved_version(approved):
    # The member triggers used to look only at the row's old version, so a raw UPDATE
    # could re-point a draft's member at an approved version and add a row to it.
    newcomer = ExampleFactory(
        project=approved.project, resolved_label="spam", resolved_label_origin="import"
    )
    draft = dataset_version_build(project=approved.project, seed=9)
    member = draft.members.get(example=newcomer)

    def move_by_raw_sql():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE curation_datasetversionmember SET version_id = %s WHERE id = %s",
                [approved.pk, member.pk],
            )

    refused_by_the_database(move_by_raw_sql)
    assert approved.members.count() == 40
    assert draft.members.filter(pk=member.pk).exists()
