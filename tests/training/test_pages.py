"""Training pages and API: the launch form, the run page with curves, the model list, and
permissions (non-members 404, members without the right 403)."""

import pytest
from django.urls import reverse

from curation.models import ProjectMembership
from curation.services.versions import dataset_version_build
from tests.factories import UserFactory
from tests.training.conftest import approved_version, tiny_values
from training.models import TrainingRun


def member(project, role):
    user = UserFactory()
    ProjectMembership.objects.create(project=project, user=user, role=role)
    return user


@pytest.fixture
def engineer_client(client, spam_project):
    client.force_login(member(spam_project, "ml_engineer"))
    return client


def test_version_page_offers_train_only_when_approved(engineer_client, spam_project):
    draft = dataset_version_build(project=spam_project, seed=0)
    url = reverse("version-detail", args=[spam_project.pk, draft.number])
    launch = reverse("training-launch", args=[spam_project.pk, draft.number])
    assert launch not in engineer_client.get(url).content.decode()

    version = approved_version(spam_project)
    page = engineer_client.get(reverse("version-detail", args=[spam_project.pk, version.number]))
    assert (
        reverse("training-launch", args=[spam_project.pk, version.number]) in page.content.decode()
    )


def test_launch_page_shows_defaults_help_and_estimate(engineer_client, spam_project):
    version = approved_version(spam_project)
    response = engineer_client.get(
        reverse("training-launch", args=[spam_project.pk, version.number])
    )

    html = response.content.decode()
    assert 'name="lora_r" value="8"' in html and "LoRA rank" in html
    assert 'name="early_stopping_patience" value="3"' in html
    assert response.context["estimate"].parameters > 0
    assert "Estimate with the defaults" in html


def test_launch_refuses_unapproved_version_with_a_message(engineer_client, spam_project):
    draft = dataset_version_build(project=spam_project, seed=0)
    response = engineer_client.post(
        reverse("training-launch", args=[spam_project.pk, draft.number]), {"max_steps": "2"}
    )
    assert response.status_code == 400
    assert "only approved versions" in response.content.decode()
    assert not TrainingRun.objects.exists()


@pytest.mark.slow
def test_one_click_trains_and_the_run_page_shows_curves_and_comparison(
    engineer_client, spam_project, tiny_bert, django_capture_on_commit_callbacks
):
    version = approved_version(spam_project)
    values = {k: str(v) for k, v in tiny_values(tiny_bert).items()}
    with django_capture_on_commit_callbacks(execute=True):
        response = engineer_client.post(
            reverse("training-launch", args=[spam_project.pk, version.number]), values
        )

    training_run = TrainingRun.objects.get()
    assert response["Location"] == reverse("training-run-detail", args=[training_run.pk])
    page = engineer_client.get(response["Location"])
    html = page.content.decode()
    assert "<polyline" in html and "Validation metrics" in html
    assert "fine tuned" in html and "majority class" in html
    assert training_run.verdict and training_run.verdict in html
    listing = engineer_client.get(reverse("model-list", args=[spam_project.pk])).content.decode()
    assert f"#{training_run.pk}" in listing and "macro_f1" in listing


def test_non_members_get_404_and_annotators_403(client, spam_project):
    version = approved_version(spam_project)
    launch = reverse("training-launch", args=[spam_project.pk, version.number])
    models = reverse("model-list", args=[spam_project.pk])

    client.force_login(UserFactory())
    assert client.get(launch).status_code == 404
    assert client.get(models).status_code == 404

    client.force_login(member(spam_project, "annotator"))
    assert client.get(launch).status_code == 403
    assert client.post(launch, {}).status_code == 403
    assert client.get(models).status_code == 200


def test_api_refuses_unapproved_and_respects_roles(client, spam_project):
    draft = dataset_version_build(project=spam_project, seed=0)
    url = f"/api/versions/{draft.pk}/training-runs"

    client.force_login(member(spam_project, "annotator"))
    assert client.post(url, {}, content_type="application/json").status_code == 403
    client.force_login(UserFactory())
    assert client.post(url, {}, content_type="application/json").status_code == 404
    client.force_login(member(spam_project, "ml_engineer"))
    response = client.post(url, {"config": {}}, content_type="application/json")
    assert response.status_code == 400
    assert "only approved versions" in response.json()["detail"]


@pytest.mark.slow
def test_api_launches_and_reads_a_training_run(
    client, spam_project, tiny_bert, django_capture_on_commit_callbacks
):
    version = approved_version(spam_project)
    client.force_login(member(spam_project, "ml_engineer"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/versions/{version.pk}/training-runs",
            {"config": tiny_values(tiny_bert)},
            content_type="application/json",
        )
    assert response.status_code == 202, response.content
    run_id = response.json()["id"]

    detail = client.get(f"/api/training-runs/{run_id}").json()
    assert detail["status"] == "succeeded"
    assert detail["version_hash"] == version.content_hash
    assert detail["comparison"]["primary_metric"] == "macro_f1"
    listed = client.get(f"/api/projects/{spam_project.pk}/training-runs").json()
    assert [r["id"] for r in listed] == [run_id]


def test_estimate_button_says_what_fits_in_the_time_budget(engineer_client, spam_project):
    version = approved_version(spam_project)
    url = reverse("training-launch", args=[spam_project.pk, version.number])
    response = engineer_client.post(
        url, {"max_minutes": "0.5", "epochs": "50", "batch_size": "8", "estimate": "1"}
    )

    html = response.content.decode()
    assert response.status_code == 200 and not TrainingRun.objects.exists()
    assert "Estimate with these values" in html
    estimate = response.context["estimate"]
    assert estimate.budget_limits and estimate.steps_in_budget < estimate.steps
    assert f"fits about {estimate.steps_in_budget} of the {estimate.steps} planned" in html
    assert 'name="max_minutes" value="0.5"' in html


@pytest.mark.slow
def test_run_page_says_the_run_stopped_at_its_budget(
    engineer_client, spam_project, tiny_bert, django_capture_on_commit_callbacks
):
    version = approved_version(spam_project)
    values = tiny_values(tiny_bert, max_steps=100_000, max_minutes=0.05)
    with django_capture_on_commit_callbacks(execute=True):
        response = engineer_client.post(
            reverse("training-launch", args=[spam_project.pk, version.number]),
            {k: str(v) for k, v in values.items()},
        )

    training_run = TrainingRun.objects.get()
    assert training_run.stopped_at_budget and training_run.global_step < 100_000
    html = engineer_client.get(response["Location"]).content.decode()
    assert "stopped at the budget" in html and "0.05 min" in html
