"""Launching training: approved versions only, validated configs, estimates, and a whole
run through the worker path recorded in the registry."""

from pathlib import Path

import pytest

from curation.exceptions import AssayError
from curation.models import AuditEvent, DatasetVersion, Run
from curation.services.versions import dataset_version_build
from tests.training.conftest import approved_version, tiny_values
from training.models import TrainingRun
from training.services import training_run_resume, training_run_start


def test_unapproved_versions_are_refused_and_nothing_is_created(spam_project, tiny_bert):
    version = dataset_version_build(project=spam_project, seed=0)
    for status in ("draft", "in_review", "rejected"):
        DatasetVersion.objects.filter(pk=version.pk).update(status=status)
        version.refresh_from_db()
        with pytest.raises(AssayError, match="only approved versions"):
            training_run_start(version=version, values=tiny_values(tiny_bert))
    assert not TrainingRun.objects.exists()
    assert not Run.objects.filter(kind="training").exists()


def test_bad_configuration_is_refused_naming_the_field(spam_project, tiny_bert):
    version = approved_version(spam_project)
    with pytest.raises(AssayError, match="'batch_size' must be positive"):
        training_run_start(version=version, values=tiny_values(tiny_bert, batch_size=0))
    with pytest.raises(AssayError, match="Unknown training option.*colour"):
        training_run_start(version=version, values={"colour": "red"})
    with pytest.raises(AssayError, match="metric_for_best_model"):
        training_run_start(version=version, values={"metric_for_best_model": "rouge_l"})
    assert not TrainingRun.objects.exists()


def test_a_run_that_cannot_fit_is_refused_with_the_numbers(spam_project, settings):
    settings.TRAINING_MEMORY_BYTES = 10 * 2**20  # 10 MiB
    version = approved_version(spam_project)
    with pytest.raises(AssayError, match=r"cannot fit.*GiB.*of 0\.01 GiB available"):
        training_run_start(version=version, values={"method": "full"})
    assert not TrainingRun.objects.exists()


def test_qlora_is_refused_without_cuda_and_bitsandbytes(spam_project):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(AssayError, match="QLoRA needs a CUDA GPU"):
        training_run_start(version=approved_version(spam_project), values={"method": "qlora"})


@pytest.mark.slow
def test_training_on_an_approved_version_records_lineage_results_and_card(
    spam_project, tiny_bert, user, django_capture_on_commit_callbacks
):
    version = approved_version(spam_project)
    with django_capture_on_commit_callbacks(execute=True):
        training_run = training_run_start(
            version=version, values=tiny_values(tiny_bert), created_by=user
        )

    training_run.refresh_from_db()
    assert training_run.run.status == "succeeded", training_run.run.error
    assert training_run.version_hash == version.content_hash
    assert training_run.config["labels"] == ["ham", "spam"]
    assert len(training_run.code_version) in (40, 7) or training_run.code_version == "unknown"
    assert [p["step"] for p in training_run.history["validation"]] == [2, 4]
    assert set(training_run.comparison["systems"]) == {"fine_tuned", "base", "baseline"}
    assert training_run.global_step == 4
    assert Path(training_run.artifact_path, "adapter_config.json").exists()
    assert version.content_hash in training_run.model_card
    assert Path(training_run.artifact_path, "MODEL_CARD.md").read_text() == training_run.model_card
    data = Path(training_run.output_dir, "data", "train.jsonl").read_text().splitlines()
    assert len(data) == version.members.filter(split="train").count()
    launch = AuditEvent.objects.get(project=spam_project, action="training.launch")
    assert (launch.actor, launch.version) == (user, version)

    with pytest.raises(AssayError, match="already finished"):
        training_run_resume(training_run=training_run)


def test_with_mlflow_on_the_run_page_names_the_mlflow_run_that_holds_the_card(
    spam_project, tiny_bert, user, settings, tmp_path, client, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from tests.factories import MembershipFactory
    from training.core.tracking import client_for

    settings.MLFLOW_TRACKING_URI = f"file:{tmp_path / 'mlruns'}"
    version = approved_version(spam_project)
    with django_capture_on_commit_callbacks(execute=True):
        training_run = training_run_start(
            version=version, values=tiny_values(tiny_bert), created_by=user
        )

    training_run.refresh_from_db()
    mlflow_run_id = training_run.run.result["mlflow_run_id"]
    mlflow = client_for(settings.MLFLOW_TRACKING_URI)
    card = mlflow.download_artifacts(mlflow_run_id, "MODEL_CARD.md", str(tmp_path))
    assert Path(card).read_text() == training_run.model_card
    MembershipFactory(project=spam_project, user=user, role="ml_engineer")
    client.force_login(user)
    page = client.get(reverse("training-run-detail", args=[training_run.pk]))
    assert f'<code id="mlflow-run-id">{mlflow_run_id}</code>' in page.content.decode()
