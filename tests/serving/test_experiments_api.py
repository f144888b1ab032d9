"""Experiments through the HTTP API, with a fake engine (the engines have their own tests,
and the end-to-end test runs the real one): sticky assignment, the sample-ratio check,
a challenger that wins ships step by step, a null experiment does not, a breached
guardrail rolls back by itself, and bad input changes nothing."""

import random

import pytest
from django.test import Client

from curation.models import AuditEvent
from serving.core.engine import EngineError
from serving.models import Experiment, ExperimentPhase, FeedbackEvent, RequestLog
from serving.services import engines
from tests.factories import ProjectFactory, UserFactory
from tests.serving.helpers import FakeEngine, active_deployment, app_key, finished_training_run

pytestmark = pytest.mark.django_db

PINNED_SALT = "0123456789abcdef"


@pytest.fixture
def fake_engine(monkeypatch) -> FakeEngine:
    fake = FakeEngine()
    monkeypatch.setattr(engines, "_builtin", fake)
    return fake


@pytest.fixture
def served(fake_engine, tmp_path):
    """A generation project with a champion and a challenger deployment and an app key."""
    project = ProjectFactory(
        task_type="generation", label_set=[], field_schema=["prompt", "response"]
    )
    runs = [finished_training_run(project, base=str(tmp_path), adapter=None) for _ in range(2)]
    champion = active_deployment(runs[0], "bot-v1")
    challenger = active_deployment(runs[1], "bot-v2")
    _app, key = app_key(project)
    admin = UserFactory(is_superuser=True)
    api = Client()
    api.force_login(admin)
    return {
        "project": project,
        "champion": champion,
        "challenger": challenger,
        "key": key,
        "api": api,
    }


def _app_client(key: str) -> Client:
    return Client(headers={"authorization": f"Bearer {key}"})


def _create(served, **overrides) -> dict:
    body = {
        "name": "bot",
        "variants": [
            {"deployment": "bot-v1", "weight": 0.5},
            {"deployment": "bot-v2", "weight": 0.5},
        ],
        "primary_metric": "thumbs",
        "min_units": 30,
        **overrides,
    }
    response = served["api"].post(
        f"/api/projects/{served['project'].pk}/experiments", body, content_type="application/json"
    )
    assert response.status_code == 201, response.json()
    # A fixed salt makes the assignment, and so each simulated outcome, the same on every
    # run: with a fresh random salt the 10% arm of the shipping test falls short of
    # significance about once in a hundred runs (and the null test rejects at up to alpha).
    Experiment.objects.filter(pk=response.json()["id"]).update(salt=PINNED_SALT)
    return response.json()


def _ask(client: Client, unit: str, model: str = "bot") -> dict:
    response = client.post(
        "/v1/chat/completions",
        {"model": model, "messages": [{"role": "user", "content": "hi"}], "user": unit},
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    return response.json()


def _thumbs(client: Client, request_id: str, up: bool) -> None:
    response = client.post(
        "/v1/feedback",
        {"request_id": request_id, "event": "thumbs", "value": 1 if up else 0},
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()


def test_each_unit_always_gets_the_same_variant_and_the_split_passes_srm(served):
    experiment = _create(served)
    client = _app_client(served["key"])
    units = [f"user-{n}" for n in range(200)]
    visits = units * 5
    random.Random(3).shuffle(visits)

    seen: dict[str, set[str]] = {}
    for unit in visits:
        answer = _ask(client, unit)
        seen.setdefault(unit, set()).add(answer["assay"]["deployment"])

    assert len(visits) == 1000
    assert all(len(deployments) == 1 for deployments in seen.values())
    logged = RequestLog.objects.filter(experiment_id=experiment["id"])
    assert logged.count() == 1000
    per_unit = {}
    for unit, deployment in logged.values_list("unit_key", "deployment__name"):
        assert per_unit.setdefault(unit, deployment) == deployment
    analysis = served["api"].get(f"/api/experiments/{experiment['id']}").json()["analysis"]
    assert analysis["srm"]["mismatch"] is False
    assert sum(analysis["srm"]["observed"].values()) == 200
    champion_units = sum(1 for d in per_unit.values() if d == "bot-v1")
    assert 70 <= champion_units <= 130  # 50/50 of 200 units, well inside 4 sd


def _simulate(served, experiment_id: int, units: range, rates: dict[str, float], seed: int) -> None:
    """Each unit asks once and gives thumbs up with its variant's rate."""
    client = _app_client(served["key"])
    rng = random.Random(seed)
    for n in units:
        answer = _ask(client, f"unit-{n}")
        _thumbs(client, answer["id"], rng.random() < rates[answer["assay"]["deployment"]])


def _evaluate(served, experiment_id: int) -> dict:
    response = served["api"].post(f"/api/experiments/{experiment_id}/evaluate")
    assert response.status_code == 200, response.json()
    return response.json()


def test_a_better_challenger_ships_and_rolls_out_10_50_100(served, settings):
    settings.SERVING_EVALUATE_SECONDS = 3600  # evaluate at the checkpoints below only
    experiment = _create(
        served,
        variants=[{"deployment": "bot-v1", "weight": 0.9}, {"deployment": "bot-v2", "weight": 0.1}],
        rollout_steps=[50, 100],
        guardrails=[{"metric": "error_rate", "tolerance": 0.05}],
    )
    rates = {"bot-v1": 0.3, "bot-v2": 0.8}

    _simulate(served, experiment["id"], range(0, 500), rates, seed=1)
    after_first = _evaluate(served, experiment["id"])

    assert after_first["analysis"]["verdict"]["action"] == "ship"
    assert after_first["phase"] == 1
    weights = {v["deployment"]: v["weight"] for v in after_first["variants"]}
    assert weights == {"bot-v1": pytest.approx(0.5), "bot-v2": pytest.approx(0.5)}

    _simulate(served, experiment["id"], range(500, 640), rates, seed=2)
    final = _evaluate(served, experiment["id"])

    assert final["status"] == "shipped"
    assert {v["deployment"]: v["weight"] for v in final["variants"]}["bot-v2"] == 1.0
    assert list(
        ExperimentPhase.objects.filter(experiment_id=experiment["id"]).values_list(
            "number", flat=True
        )
    ) == [0, 1, 2]
    actions = list(
        AuditEvent.objects.filter(action__startswith="experiment.").values_list("action", flat=True)
    )
    assert actions.count("experiment.rollout") == 1 and "experiment.ship" in actions
    lineage = AuditEvent.objects.get(action="experiment.ship").after["lineage"]
    assert {row["deployment"] for row in lineage} == {"bot-v1", "bot-v2"}
    assert all(row["version_hash"] for row in lineage)
    # Shipped: everyone gets the challenger, and new requests are outside the analysis.
    answer = _ask(_app_client(served["key"]), "a-new-user")
    assert answer["assay"]["deployment"] == "bot-v2" and answer["assay"]["experiment"] is None


def test_a_null_experiment_does_not_ship(served, settings):
    settings.SERVING_EVALUATE_SECONDS = 3600
    experiment = _create(served, rollout_steps=[100])
    _simulate(served, experiment["id"], range(0, 400), {"bot-v1": 0.5, "bot-v2": 0.5}, seed=4)

    result = _evaluate(served, experiment["id"])

    assert result["analysis"]["verdict"]["action"] == "keep running"
    assert result["status"] == "running" and result["phase"] == 0


def test_a_breached_guardrail_rolls_back_by_itself(served, fake_engine, monkeypatch):
    original = fake_engine.chat

    def failing_challenger(name, messages, decoding):
        if name == "bot-v2":
            raise EngineError("out of memory")
        return original(name, messages, decoding)

    monkeypatch.setattr(fake_engine, "chat", failing_challenger)
    experiment = _create(
        served,
        guardrails=[{"metric": "error_rate", "tolerance": 0.01}],
        rollout_steps=[100],
    )
    client = _app_client(served["key"])
    for n in range(120):
        response = client.post(
            "/v1/chat/completions",
            {"model": "bot", "messages": [{"role": "user", "content": "hi"}], "user": f"u{n}"},
            content_type="application/json",
        )
        assert response.status_code in (200, 503)

    result = _evaluate(served, experiment["id"])

    assert result["status"] == "rolled_back"
    assert "error_rate" in result["ended_reason"]
    assert {v["deployment"]: v["weight"] for v in result["variants"]} == {
        "bot-v1": 1.0,
        "bot-v2": 0.0,
    }
    assert AuditEvent.objects.filter(action="experiment.rollback").exists()
    assert _ask(client, "u1")["assay"]["deployment"] == "bot-v1"


def test_feedback_with_a_repeated_event_id_counts_once(served):
    client = _app_client(served["key"])
    answer = _ask(client, "u1", model="bot-v1")
    body = {"request_id": answer["id"], "event": "resolved", "event_id": "evt-1"}

    first = client.post("/v1/feedback", body, content_type="application/json").json()
    second = client.post("/v1/feedback", body, content_type="application/json").json()

    assert (first["duplicate"], second["duplicate"]) == (False, True)
    assert FeedbackEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {
                "variants": [
                    {"deployment": "bot-v1", "weight": 0.6},
                    {"deployment": "bot-v2", "weight": 0.6},
                ]
            },
            "sum to 1",
        ),
        (
            {
                "variants": [
                    {"deployment": "bot-v1", "weight": 0.5},
                    {"deployment": "nope", "weight": 0.5},
                ]
            },
            "no deployment 'nope'",
        ),
        ({"primary_metric": "happiness"}, "Unknown metric 'happiness'"),
        ({"rollout_steps": [60, 40]}, "Rollout steps must grow"),
        ({"guardrails": [{"metric": "error_rate", "tolerance": -1}]}, "tolerance"),
    ],
)
def test_a_bad_experiment_is_refused_and_nothing_is_created(served, overrides, message):
    body = {
        "name": "bot",
        "variants": [
            {"deployment": "bot-v1", "weight": 0.5},
            {"deployment": "bot-v2", "weight": 0.5},
        ],
        "primary_metric": "thumbs",
        **overrides,
    }
    response = served["api"].post(
        f"/api/projects/{served['project'].pk}/experiments", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert not Experiment.objects.exists()


def test_a_rollout_step_without_enough_data_is_refused(served):
    experiment = _create(served, rollout_steps=[100], min_units=50)
    _simulate(served, experiment["id"], range(0, 10), {"bot-v1": 0.5, "bot-v2": 0.5}, seed=5)

    response = served["api"].post(f"/api/experiments/{experiment['id']}/advance")

    assert response.status_code == 400
    assert "not enough data" in response.json()["detail"]
    assert Experiment.objects.get(pk=experiment["id"]).phase == 0


def test_the_kill_switch_sends_everyone_to_the_champion(served):
    experiment = _create(served)
    response = served["api"].post(f"/api/experiments/{experiment['id']}/stop?reason=bad+answers")
    assert response.status_code == 200 and response.json()["status"] == "stopped"
    assert response.json()["ended_reason"] == "bad answers"
    client = _app_client(served["key"])
    assert {_ask(client, f"u{n}")["assay"]["deployment"] for n in range(20)} == {"bot-v1"}
