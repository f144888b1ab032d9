"""The serving commands: deploy with a progress bar, application keys, experiments."""

import pytest
from django.core.management import CommandError, call_command

from serving.models import Application, Deployment, Experiment
from serving.services import engines
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.serving.helpers import FakeEngine, active_deployment, finished_training_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def setting(monkeypatch, tmp_path):
    monkeypatch.setattr(engines, "_builtin", FakeEngine())
    project = ProjectFactory(
        name="Bot", task_type="generation", label_set=[], field_schema=["prompt", "response"]
    )
    engineer, lead = UserFactory(username="ada"), UserFactory(username="dana")
    MembershipFactory(project=project, user=engineer, role="ml_engineer")
    MembershipFactory(project=project, user=lead, role="data_lead")
    run = finished_training_run(project, base=str(tmp_path), adapter=None)
    return project, run


def _call(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_deploy_create_a_key_and_run_an_experiment_from_the_command_line(setting):
    project, run = setting

    output = _call("serving_deploy", str(run.pk), "bot-v1", "--user", "ada", "--verbosity", "0")
    assert "Deployed run" in output and Deployment.objects.get(name="bot-v1").is_active
    active_deployment(run, "bot-v2")

    output = _call("serving_app", "create", "Bot", "widget", "--user", "ada")
    assert "Key (shown once" in output and "assay_app_" in output
    assert Application.objects.get().name == "widget"

    _call(
        "serving_experiment", "create", "Bot", "--name", "bot", "--variant", "bot-v1:0.9",
        "--variant", "bot-v2:0.1", "--primary", "thumbs", "--rollout", "50,100",
        "--guardrail", "error_rate:0.02", "--user", "ada",
    )  # fmt: skip
    experiment = Experiment.objects.get(name="bot")
    assert experiment.rollout_steps == [50.0, 100.0]
    assert experiment.guardrails == [
        {"metric": "error_rate", "tolerance": 0.02, "higher_is_better": False}
    ]
    assert "verdict: keep running" in _call("serving_experiment", "show", "bot", "--user", "dana")
    assert "not enough data" in _refusal("serving_experiment", "advance", "bot", "--user", "ada")
    assert "stopped" in _call("serving_experiment", "stop", "bot", "--user", "ada")
    assert "bot: " not in _call("serving_experiment", "evaluate", "--all")  # none running


def _refusal(*args) -> str:
    with pytest.raises(CommandError) as refused:
        _call(*args)
    return str(refused.value)


def test_commands_check_the_role_and_the_input(setting):
    _project, run = setting
    assert "does not allow 'serve'" in _refusal(
        "serving_deploy", str(run.pk), "bot", "--user", "dana"
    )
    assert "expected DEPLOYMENT:WEIGHT" in _refusal(
        "serving_experiment", "create", "Bot", "--name", "x", "--variant", "bot-v1",
        "--primary", "thumbs", "--user", "ada",
    )  # fmt: skip
    assert "No experiment named 'nope'" in _refusal(
        "serving_experiment", "show", "nope", "--user", "ada"
    )
    assert "No training run 999" in _refusal("serving_deploy", "999", "bot", "--user", "ada")
    assert not Deployment.objects.exists() and not Experiment.objects.exists()
