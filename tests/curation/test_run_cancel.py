"""Cancelling a run from its page, the API and the command line: who may, and what the
user sees. The worker side (stop at the next progress point, roll back) is in
test_runs.py; a real killed import in tests/test_import_killed.py."""

from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from curation.models import AuditEvent, Run, RunStatus
from curation.services.api_tokens import api_token_create
from curation.services.runs import cancel_cache_key, run_create
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    return ProjectFactory(name="Reviews")


def member(project, role: str, username: str):
    user = UserFactory(username=username)
    MembershipFactory(project=project, user=user, role=role)
    return user


def queued(project, kind: str = "import") -> Run:
    return run_create(kind=kind, target=project, project=project)


def test_the_run_page_offers_cancel_to_whoever_may_start_the_run(client, project):
    run = queued(project)
    client.force_login(member(project, "data_lead", "dana"))
    assert b"Cancel run" in client.get(reverse("run-detail", args=[run.pk])).content

    client.force_login(member(project, "annotator", "ann"))
    assert b"Cancel run" not in client.get(reverse("run-detail", args=[run.pk])).content


def test_cancel_from_the_page_ends_a_queued_run(client, project):
    run = queued(project)
    client.force_login(member(project, "data_lead", "dana"))

    response = client.post(reverse("run-cancel", args=[run.pk]), follow=True)

    run.refresh_from_db()
    assert (run.status, run.error) == (RunStatus.CANCELLED, "Cancelled by dana.")
    assert b"was cancelled" in response.content
    assert b"Cancel run" not in response.content
    assert b"Cancelled by dana." in response.content
    event = AuditEvent.objects.get(project=project, action="run.cancel")
    assert (event.actor.username, event.target_id) == ("dana", str(run.pk))
    assert event.before == {"kind": "import", "status": "queued"}
    assert event.message == f"Cancelled import run #{run.pk}"


def test_cancel_from_the_page_asks_a_running_run_to_stop(client, project):
    run = queued(project)
    Run.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, heartbeat_at=timezone.now())
    client.force_login(member(project, "data_lead", "dana"))

    response = client.post(reverse("run-cancel", args=[run.pk]), follow=True)

    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING  # the worker ends it at its next progress point
    assert cache.get(cancel_cache_key(run.pk)) == "dana"
    assert b"Cancel requested by dana" in response.content
    assert b"Cancel run" not in response.content  # asked once is enough
    # Recorded when the worker has stopped it, not while it may still finish.
    assert not AuditEvent.objects.filter(action="run.cancel").exists()


def test_a_training_run_is_cancelled_by_whoever_may_train(client, project):
    run = queued(project, kind="training")
    client.force_login(member(project, "data_lead", "dana"))
    assert client.post(reverse("run-cancel", args=[run.pk])).status_code == 403

    client.force_login(member(project, "ml_engineer", "mel"))
    client.post(reverse("run-cancel", args=[run.pk]))

    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED


def test_cancel_through_the_api(client, project):
    run = queued(project)
    raw = api_token_create(user=member(project, "data_lead", "dana"), name="t")[1]
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"

    response = client.post(f"/api/runs/{run.pk}/cancel")
    again = client.post(f"/api/runs/{run.pk}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["error"] == "Cancelled by dana."
    assert again.status_code == 400
    assert "already ended" in again.json()["detail"]


def test_cancel_through_the_api_reports_a_running_run_as_asked_to_stop(client, project):
    run = queued(project)
    Run.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, heartbeat_at=timezone.now())
    raw = api_token_create(user=member(project, "data_lead", "dana"), name="t")[1]
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"

    body = client.post(f"/api/runs/{run.pk}/cancel").json()

    assert (body["status"], body["cancel_requested"]) == ("running", True)
    assert client.get(f"/api/runs/{run.pk}").json()["cancel_requested"] is True


def test_cancel_from_the_command_line(project):
    run = queued(project)
    member(project, "data_lead", "dana")
    out = StringIO()

    call_command("assay_run_cancel", str(run.pk), "--user", "dana", stdout=out)

    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert f"Run #{run.pk} was cancelled." in out.getvalue()
    with pytest.raises(CommandError, match="already ended"):
        call_command("assay_run_cancel", str(run.pk), "--user", "dana")
    member(project, "annotator", "ann")
    with pytest.raises(CommandError, match="does not allow 'export'"):
        call_command("assay_run_cancel", str(queued(project, "export").pk), "--user", "ann")
    with pytest.raises(CommandError, match="No run #999999"):
        call_command("assay_run_cancel", "999999", "--user", "dana")
