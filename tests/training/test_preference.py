"""Blind human preference through the real Label Studio: a finished generation run sends
anonymous A/B pairs, annotators vote in LS, Assay pulls the votes and shows the rate on
the run page, the API and the command. Plus the refusals (classification runs, runs
evaluated before prompts were stored) and the permissions."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from curation.models import AuditEvent, ProjectMembership, Run
from curation.services.api_tokens import api_token_create
from curation.services.versions import dataset_version_build
from tests.factories import ExampleFactory, GenerationExampleFactory, ProjectFactory, UserFactory
from tests.labeling import conftest as labeling_fixtures
from training.core import preference as core
from training.core.config import TrainingConfig
from training.core.data import PromptGroup
from training.core.evaluation import generation_comparison
from training.models import PreferenceStudy, PreferenceVote, TrainingRun

PROMPTS = 12
# The real Label Studio of the labeling tests (started once per session, reused if up).
label_studio_server = labeling_fixtures.label_studio_server
ls_client = labeling_fixtures.ls_client


def member(project, role):
    user = UserFactory()
    ProjectMembership.objects.create(project=project, user=user, role=role)
    return user


def finished_run(project, comparison) -> TrainingRun:
    """A training run as the worker leaves it, made directly: no training needed."""
    if project.task_type == "generation":
        GenerationExampleFactory.create_batch(12, project=project)
    else:
        ExampleFactory.create_batch(12, project=project, resolved_label="ham")
    version = dataset_version_build(project=project, seed=0)
    training_run = TrainingRun.objects.create(
        project=project, version=version, version_hash=version.content_hash,
        task_type=project.task_type, method="lora", base_model="tiny", config={},
        output_dir="/nonexistent", comparison=comparison,
    )  # fmt: skip
    training_run.run = Run.objects.create(
        kind="training", project=project, target=training_run, status="succeeded"
    )
    training_run.save(update_fields=["run"])
    return training_run


def generation_result(n: int = PROMPTS, *, identical: int = 1) -> dict:
    """The comparison the real evaluation stores, from made-up outputs."""
    groups = [PromptGroup({"prompt": f"name[Cafe {i}], food[Thai]"}, [f"Cafe {i} serves Thai."])
              for i in range(n)]  # fmt: skip
    tuned = [f"Cafe {i} serves Thai food." for i in range(n)]
    base = [f"I am not sure about cafe {i}." for i in range(n)]
    for i in range(identical):
        base[i] = tuned[i]
    config = TrainingConfig(task_type="generation", bootstrap_samples=10)
    return generation_comparison(groups, tuned_outputs=tuned, base_outputs=base, config=config)


@pytest.fixture
def generation_run(db):
    project = ProjectFactory(
        task_type="generation", label_set=[], field_schema=["prompt", "response"]
    )
    return finished_run(project, generation_result())


@pytest.fixture
def classification_run(db):
    project = ProjectFactory(label_set=["ham", "spam"])
    comparison = {"systems": {"fine_tuned": {"metrics": {}, "predictions": [0]}}, "verdict": "x"}
    return finished_run(project, comparison)


@pytest.fixture
def ls_settings(settings, label_studio_server):
    settings.LABEL_STUDIO_URL = label_studio_server.url
    settings.LABEL_STUDIO_TOKEN = label_studio_server.token
    return settings


@pytest.fixture
def studies(ls_client):
    """Delete every LS project a test's studies made, so runs stay independent."""
    yield
    for study in PreferenceStudy.objects.all():
        ls_client.project_delete(study.ls_project_id)


def vote_result(choice: str) -> list[dict]:
    """An annotation result as Label Studio makes it when an annotator picks ``choice``."""
    return [{"from_name": "preference", "to_name": "prompt", "type": "choices",
             "value": {"choices": [core.CHOICE_LABELS[choice]]}}]  # fmt: skip


def vote(ls_client, task_id: int, choice: str, user_id: int | None = None):
    return ls_client.annotation_create(task_id, result=vote_result(choice), user_id=user_id)


def test_blind_study_from_send_to_preference_rate_on_the_page_and_the_api(
    client,
    generation_run,
    ls_client,
    ls_settings,
    studies,
):
    engineer = member(generation_run.project, "ml_engineer")
    client.force_login(engineer)
    page_url = reverse("training-run-detail", args=[generation_run.pk])
    page = client.get(page_url).content.decode()
    assert "Blind preference" in page and 'name="sample_size" value="11"' in page

    response = client.post(
        reverse("training-preference-create", args=[generation_run.pk]), {"sample_size": "10"}
    )
    assert response["Location"].endswith("#preference")
    study = PreferenceStudy.objects.get()
    assert (study.sample_size, study.identical_skipped, study.created_by) == (10, 1, engineer)
    items = {item.ls_task_id: item for item in study.items.all()}

    # What annotators get names no system and puts the fine-tuned response on either side.
    tasks = list(ls_client.tasks_iter(study.ls_project_id))
    assert sorted(task.id for task in tasks) == sorted(items)
    for task in tasks:
        item = items[task.id]
        assert set(task.data) == {"prompt", "response_a", "response_b", core.ITEM_KEY}
        assert (task.data["response_a"], task.data["response_b"]) == (item.output_a, item.output_b)
    assert {item.tuned_side for item in items.values()} == {"a", "b"}
    assert ls_client.project_get(study.ls_project_id).label_config == core.preference_label_config()

    # Annotators prefer the fine-tuned response on 8 prompts, the base on 1, tie on 1.
    ordered = sorted(items.values(), key=lambda item: item.sample_index)
    wanted = ["tuned"] * 8 + ["base", "tie"]
    for item, outcome in zip(ordered, wanted, strict=True):
        base_side = "b" if item.tuned_side == "a" else "a"
        vote(
            ls_client,
            item.ls_task_id,
            {"tuned": item.tuned_side, "base": base_side}.get(outcome, "tie"),
        )

    client.post(reverse("training-preference-pull", args=[generation_run.pk]))
    html = client.get(page_url).content.decode()
    # 8 of 9 decided: 89%; Wilson 95% CI 56.5%–98.0%; p = 2 × 10/512 = 0.039
    assert "89%" in html and "(95% CI 57–98%)" in html
    assert '<span class="value">8</span><span class="label">fine-tuned better' in html
    assert '<span class="value">1</span><span class="label">base better' in html
    assert '<span class="value">1</span><span class="label">ties' in html
    assert "0.039" in html and "Annotators prefer the fine-tuned model" in html
    assert study.ls_project_url in html

    token = api_token_create(user=engineer, name="preference")[1]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    api_url = f"/api/training-runs/{generation_run.pk}/preference"
    stats = client.get(api_url, **auth).json()["stats"]
    assert (stats["votes"]["tuned"], stats["votes"]["base"], stats["votes"]["ties"]) == (8, 1, 1)
    assert stats["votes"]["rate"] == pytest.approx(8 / 9)
    assert stats["votes"]["p_value"] == pytest.approx(20 / 512)

    again = client.post(f"{api_url}/pull", **auth).json()
    assert again["report"]["votes_created"] == 0 and again["report"]["votes_updated"] == 0
    assert again["study"]["stats"]["votes"]["total"] == 10
    assert PreferenceVote.objects.count() == 10
    assert AuditEvent.objects.filter(action="preference.create").count() == 1


def test_pull_mirrors_second_annotators_changes_and_deletions(
    generation_run,
    ls_client,
    ls_settings,
    studies,
):
    from training.services.preference import preference_study_create, preference_study_pull

    engineer = member(generation_run.project, "ml_engineer")
    study = preference_study_create(
        training_run=generation_run, user=engineer, sample_size=3, annotators_per_item=2,
        seed=5, client=ls_client,
    )  # fmt: skip
    assert ls_client.project_get(study.ls_project_id).maximum_annotations == 2
    first, second, third = study.items.order_by("sample_index")
    other = ls_client.user_ensure(email=f"preference-{generation_run.pk}-{study.pk}@assay.local")
    tuned = {item.pk: item.tuned_side for item in (first, second, third)}
    base = {pk: "b" if side == "a" else "a" for pk, side in tuned.items()}
    changed = vote(ls_client, first.ls_task_id, base[first.pk])
    vote(ls_client, first.ls_task_id, tuned[first.pk], user_id=other)
    deleted = vote(ls_client, second.ls_task_id, base[second.pk])
    vote(ls_client, second.ls_task_id, "tie", user_id=other)
    vote(ls_client, third.ls_task_id, tuned[third.pk])

    stats = preference_study_pull(study=study, client=ls_client)["stats"]
    assert (stats["votes"]["tuned"], stats["votes"]["base"], stats["votes"]["ties"]) == (2, 2, 1)
    # per item: first tied 1–1, second base (the tie abstains), third tuned
    assert (stats["items"]["tuned"], stats["items"]["base"], stats["items"]["ties"]) == (1, 1, 1)
    assert stats["basis"] == "items"
    assert PreferenceVote.objects.filter(annotator_email__startswith="preference-").count() == 2

    ls_client.annotation_update(changed.id, result=vote_result(tuned[first.pk]))
    ls_client.annotation_delete(deleted.id)
    outcome = preference_study_pull(study=study, client=ls_client)
    assert outcome["report"]["votes_updated"] == 1 and outcome["report"]["votes_removed"] == 1
    stats = outcome["stats"]
    assert (stats["votes"]["tuned"], stats["votes"]["base"], stats["votes"]["ties"]) == (3, 0, 1)
    assert (stats["items"]["tuned"], stats["items"]["ties"]) == (2, 1)


def test_command_creates_pulls_and_shows(generation_run, ls_client, ls_settings, studies):
    engineer = member(generation_run.project, "ml_engineer")
    call_command("train_preference", "create", str(generation_run.pk), "--size", "4",
                 "--seed", "1", "--user", engineer.username)  # fmt: skip
    study = PreferenceStudy.objects.get()
    for item in study.items.all():
        vote(ls_client, item.ls_task_id, item.tuned_side)

    call_command("train_preference", "pull", str(generation_run.pk), "--user", engineer.username)
    out = StringIO()
    call_command("train_preference", "show", str(generation_run.pk), "--user", engineer.username,
                 stdout=out)  # fmt: skip
    assert "Votes: 4 fine-tuned better, 0 base better, 0 ties." in out.getvalue()
    assert "won 4 of 4 decided votes (100%" in out.getvalue()


# -- refusals and permissions (no Label Studio needed: they stop before calling it) --------


def test_classification_run_is_refused_everywhere(client, classification_run):
    engineer = member(classification_run.project, "ml_engineer")
    client.force_login(engineer)
    response = client.post(
        reverse("training-preference-create", args=[classification_run.pk]), follow=True
    )
    assert "a classification run&#x27;s outputs are labels" in response.content.decode()
    token = api_token_create(user=engineer, name="t")[1]
    api = client.post(
        f"/api/training-runs/{classification_run.pk}/preference",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        content_type="application/json",
    )
    assert api.status_code == 400 and "outputs are labels" in api.json()["detail"]
    with pytest.raises(CommandError, match="outputs are labels"):
        call_command("train_preference", "create", str(classification_run.pk),
                     "--user", engineer.username)  # fmt: skip
    assert not PreferenceStudy.objects.exists()
    assert (
        "Blind preference"
        not in client.get(
            reverse("training-run-detail", args=[classification_run.pk])
        ).content.decode()
    )


def test_a_run_evaluated_before_prompts_were_kept_says_to_re_run(client, generation_run):
    old = dict(generation_run.comparison)
    del old["sample_prompts"], old["sample_references"]
    TrainingRun.objects.filter(pk=generation_run.pk).update(comparison=old)
    engineer = member(generation_run.project, "ml_engineer")
    client.force_login(engineer)
    page = client.get(reverse("training-run-detail", args=[generation_run.pk])).content.decode()
    assert "not available: re-run the training" in page
    assert 'name="sample_size"' not in page
    token = api_token_create(user=engineer, name="t")[1]
    api = client.post(f"/api/training-runs/{generation_run.pk}/preference",
                      {"sample_size": 5}, HTTP_AUTHORIZATION=f"Bearer {token}",
                      content_type="application/json")  # fmt: skip
    assert api.status_code == 400 and "re-run the training" in api.json()["detail"]


def test_too_large_a_sample_is_refused_with_the_limit(client, generation_run):
    client.force_login(member(generation_run.project, "ml_engineer"))
    response = client.post(
        reverse("training-preference-create", args=[generation_run.pk]),
        {"sample_size": "50"},
        follow=True,
    )
    assert "ask for at most 11, not 50" in response.content.decode()
    response = client.post(
        reverse("training-preference-create", args=[generation_run.pk]),
        {"sample_size": "ten"},
        follow=True,
    )
    assert "Sample size must be a whole number" in response.content.decode()


def test_non_members_get_404_and_annotators_403(client, generation_run):
    outsider, annotator = UserFactory(), member(generation_run.project, "annotator")
    create = reverse("training-preference-create", args=[generation_run.pk])
    pull = reverse("training-preference-pull", args=[generation_run.pk])
    api = f"/api/training-runs/{generation_run.pk}/preference"
    for user, status in ((outsider, 404), (annotator, 403)):
        client.force_login(user)
        assert client.post(create, {"sample_size": "3"}).status_code == status
        assert client.post(pull).status_code == status
        token = api_token_create(user=user, name="t")[1]
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}", "content_type": "application/json"}
        assert client.post(api, {"sample_size": 3}, **headers).status_code == status
        assert client.post(f"{api}/pull", **headers).status_code == status
    client.force_login(annotator)
    page = client.get(reverse("training-run-detail", args=[generation_run.pk])).content.decode()
    assert "Blind preference" in page and 'name="sample_size"' not in page
    assert not PreferenceStudy.objects.exists()
