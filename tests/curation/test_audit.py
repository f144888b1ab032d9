"""The audit log: services record who changed what, before and after; the database
refuses to change or delete a record; the pages filter by action, person and version."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from curation.exceptions import AssayError
from curation.models import AuditEvent, Run
from curation.services.audit import audit_record
from curation.services.exports import export_run_handler
from curation.services.imports import ImportOptions, import_run_handler, import_run_params
from curation.services.labels import label_add, label_remove, label_update
from curation.services.projects import project_create, project_member_remove, project_member_set
from curation.services.runs import SilentProgress
from curation.services.versions import (
    dataset_version_approve,
    dataset_version_build,
    dataset_version_submit,
)
from tests.factories import ExampleFactory, MembershipFactory, UserFactory


def actions(project) -> list[str]:
    return list(
        AuditEvent.objects.filter(project=project).order_by("id").values_list("action", flat=True)
    )


def test_label_changes_record_the_resolved_label_before_and_after(classification_project, user):
    example = ExampleFactory(project=classification_project)

    label = label_add(example=example, value="ham", origin="annotator", annotator=user)
    label_update(label=label, value="spam", actor=user)
    label_remove(label=label, actor=user)

    events = AuditEvent.objects.filter(target_id=str(example.pk)).order_by("id")
    assert [e.action for e in events] == ["label.add", "label.update", "label.remove"]
    assert (events[0].before["resolved"], events[0].after["resolved"]) == ("", "ham")
    assert (events[1].before["resolved"], events[1].after["resolved"]) == ("ham", "spam")
    assert (events[2].before["resolved"], events[2].after["resolved"]) == ("spam", "")
    assert {e.actor for e in events} == {user}


def test_bulk_label_writers_can_record_one_event_of_their_own(classification_project):
    example = ExampleFactory(project=classification_project)
    label_add(example=example, value="ham", origin="labeling_function", audit=False)
    audit_record(project=classification_project, actor="lf run", action="lf.apply",
                 after={"labels": 1}, message="applied 1 LF")  # fmt: skip
    assert actions(classification_project) == ["lf.apply"]
    assert AuditEvent.objects.get().actor_name == "lf run"


def test_import_build_review_and_export_are_each_recorded(classification_project, user, tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text(
        "text,label\n" + "".join(f"row {n},{('ham', 'spam')[n % 2]}\n" for n in range(40))
    )
    params = import_run_params(path=path, options=ImportOptions())
    project = classification_project
    run = Run.objects.create(
        kind="import", project=project, target=project, params=params, created_by=user
    )
    import_run_handler(run, SilentProgress())
    version = dataset_version_build(project=classification_project, created_by=user)
    dataset_version_approve(
        version=dataset_version_submit(version=version, user=user), user=user, comment="fine"
    )
    export = Run.objects.create(kind="export", project=classification_project, target=version,
                                params={"formats": ["jsonl"]}, created_by=user)  # fmt: skip
    export_run_handler(export, SilentProgress())

    assert actions(classification_project) == [
        "import", "version.build", "version.submit", "version.approve", "version.export",
    ]  # fmt: skip
    imported = AuditEvent.objects.get(action="import")
    assert imported.after["created"] == 40 and imported.actor == user
    approved = AuditEvent.objects.get(action="version.approve")
    assert approved.before == {"status": "in_review"}
    assert approved.after["status"] == "approved" and approved.version == version


def test_the_database_refuses_to_change_or_delete_a_record(classification_project):
    event = audit_record(project=classification_project, action="test.event", message="kept")

    for attempt in (
        lambda: AuditEvent.objects.filter(pk=event.pk).update(message="rewritten"),
        lambda: AuditEvent.objects.filter(pk=event.pk).delete(),
    ):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            attempt()
    event.refresh_from_db()
    assert event.message == "kept"


def test_membership_changes_are_recorded_and_the_last_admin_stays(user):
    project = project_create(name="Team", task_type="classification", created_by=user)
    other = UserFactory()

    project_member_set(project=project, user=other, role="annotator", actor=user)
    project_member_set(project=project, user=other, role="data_lead", actor=user)
    project_member_remove(project=project, user=other, actor=user)
    with pytest.raises(AssayError, match="only admin"):
        project_member_remove(project=project, user=user, actor=user)

    assert actions(project) == ["project.create", "member.set", "member.set", "member.remove"]
    changed = AuditEvent.objects.filter(action="member.set").order_by("id")[1]
    assert (changed.before, changed.after["role"]) == ({"role": "annotator"}, "data_lead")


@pytest.fixture
def logged_events(classification_project, user):
    someone = MembershipFactory(project=classification_project, role="annotator").user
    for n in range(3):
        audit_record(project=classification_project, actor=user, action="label.add",
                     message=f"by lead {n}")  # fmt: skip
    audit_record(project=classification_project, actor=someone, action="synthetic.accept",
                 message="by annotator")  # fmt: skip
    return someone


def test_the_project_log_filters_by_action_and_person(
    client, user, classification_project, logged_events
):
    client.force_login(user)
    url = reverse("project-audit", args=[classification_project.pk])

    everything = client.get(url).context["page"]
    labels = client.get(url, {"action": "label"}).context["page"]
    theirs = client.get(url, {"actor": logged_events.username}).content.decode()

    assert everything.paginator.count == 4 and labels.paginator.count == 3
    assert "by annotator" in theirs and "by lead" not in theirs


def test_the_version_log_shows_that_versions_events_only(client, user, classification_project):
    for n in range(20):
        ExampleFactory(project=classification_project, resolved_label=("ham", "spam")[n % 2],
                       resolved_label_origin="annotator")  # fmt: skip
    first = dataset_version_build(project=classification_project, created_by=user)
    dataset_version_build(project=classification_project, created_by=user)
    dataset_version_submit(version=first, user=user)
    client.force_login(user)

    page = client.get(reverse("version-audit", args=[classification_project.pk, 1]))

    shown = [event.action for event in page.context["page"]]
    assert shown == ["version.submit", "version.build"]
    api = client.get(f"/api/versions/{first.pk}/audit").json()
    assert [item["action"] for item in api["items"]] == shown
