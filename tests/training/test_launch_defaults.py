"""The defaults a launch starts from: the bundled small generation model gets the settings
that won the E2E ablation, on the page, the API and the CLI alike; a user's own values and
other models keep theirs."""

from django.urls import reverse

from tests.factories import ExampleFactory, ProjectFactory
from tests.training.conftest import approved_version
from tests.training.test_pages import member
from training.core.config import SMALL_GENERATION_DEFAULTS, TrainingConfig
from training.services.launch import launch_values, training_config_for


def _generation_version():
    project = ProjectFactory(
        task_type="generation", label_set=[], field_schema=["prompt", "response"]
    )
    for n in range(12):
        ExampleFactory(project=project, fields={"prompt": f"name[{n}]", "response": f"It {n}."})
    return approved_version(project)


def test_the_bundled_generation_model_starts_from_the_ablation_winner(db):
    version = _generation_version()
    config = training_config_for(version=version, values={})
    assert config.method == "full" and config.lr_schedule == "cosine"
    assert config.warmup_ratio == 0.05 and config.learning_rate == 1e-4
    assert config.best_metric == "loss"  # not 48 generations' noisy ROUGE-L
    offered = launch_values(version=version)
    assert offered["method"] == SMALL_GENERATION_DEFAULTS["method"]
    assert offered["task_type"] == "generation"  # what the run records, not the general default


def test_a_users_values_and_another_base_model_keep_their_own_settings(db, tiny_llama):
    version = _generation_version()
    assert training_config_for(version=version, values={"method": "lora"}).method == "lora"
    other = training_config_for(version=version, values={"base_model": tiny_llama})
    assert other.method == TrainingConfig().method == "lora"
    assert other.lr_schedule == "linear" and other.batching == "random"


def test_classification_keeps_the_general_defaults(spam_project):
    config = training_config_for(version=approved_version(spam_project), values={})
    assert config.method == "lora" and config.batching == "random"


def test_the_launch_page_offers_the_small_generation_defaults(client, db):
    version = _generation_version()
    client.force_login(member(version.project, "ml_engineer"))
    html = client.get(
        reverse("training-launch", args=[version.project.pk, version.number])
    ).content.decode()
    assert 'name="method" value="full"' in html
    assert 'name="lr_schedule" value="cosine"' in html
    assert 'name="warmup_ratio" value="0.05"' in html


def test_the_estimate_counts_a_mixed_bf16_step_as_the_measured_share_of_float32(db):
    from training.services.launch import MIXED_BFLOAT16_STEP_SHARE, training_estimate

    version = _generation_version()
    seconds = {
        precision: training_estimate(
            version=version,
            config=training_config_for(version=version, values={"precision": precision}),
        ).seconds_per_step
        for precision in ("float32", "mixed_bfloat16")
    }
    assert seconds["mixed_bfloat16"] == MIXED_BFLOAT16_STEP_SHARE * seconds["float32"]
    assert seconds["mixed_bfloat16"] < seconds["float32"]
