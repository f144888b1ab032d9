"""An ML engineer runs experiments from the pages in a real browser: creates an
application key, sets an experiment up, and reads verdicts, charts and rollout steps as
traffic and feedback arrive; a breached guardrail shows as a rollback; a data lead reads
the same page without the controls. Traffic goes through the front door (the engine is a
fake here: routing and statistics are under test, not a model)."""

import random

import pytest
from django.test import Client
from django.urls import reverse

from serving.core.engine import EngineError
from serving.models import Experiment
from serving.services import engines
from tests.browser import log_in
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.serving.helpers import FakeEngine, active_deployment, finished_training_run

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def fake_engine(monkeypatch) -> FakeEngine:
    fake = FakeEngine()
    monkeypatch.setattr(engines, "_builtin", fake)
    return fake


@pytest.fixture
def serving_project(transactional_db, fake_engine, tmp_path):
    project = ProjectFactory(
        name="Support bot",
        task_type="generation",
        label_set=[],
        field_schema=["prompt", "response"],
    )
    for role, username in (("ml_engineer", "ada"), ("data_lead", "dana")):
        MembershipFactory(project=project, user=UserFactory(username=username), role=role)
    for name in ("bot-v1", "bot-v2", "bot-v3"):
        active_deployment(finished_training_run(project, base=str(tmp_path), adapter=None), name)
    return project


def traffic(key: str, units: range, rates: dict[str, float], *, seed: int) -> None:
    """Each unit asks once through the front door and sends a thumbs event."""
    client = Client(headers={"authorization": f"Bearer {key}"})
    rng = random.Random(seed)
    for n in units:
        response = client.post(
            "/v1/chat/completions",
            {"model": "bot", "messages": [{"role": "user", "content": "hi"}], "user": f"u{n}"},
            content_type="application/json",
        )
        if response.status_code != 200:
            continue
        answer = response.json()
        up = rng.random() < rates[answer["assay"]["deployment"]]
        client.post(
            "/v1/feedback",
            {"request_id": answer["id"], "event": "thumbs", "value": int(up)},
            content_type="application/json",
        )


def test_an_engineer_runs_an_experiment_to_ship_and_a_rollback_from_the_pages(
    live_server, browser_page, serving_project, fake_engine, tmp_path, settings, monkeypatch
):
    from playwright.sync_api import expect

    settings.SERVING_EVALUATE_SECONDS = 3600  # the engineer evaluates with the button
    page = browser_page
    project = serving_project
    log_in(page, f"{live_server.url}/login/", "ada")

    # An application key, shown once.
    page.goto(live_server.url + reverse("application-list", args=[project.pk]))
    page.fill("input[name=name]", "support-widget")
    page.click("button:has-text('Create application key')")
    key = page.locator("#new-key code").inner_text()
    assert key.startswith("assay_app_")

    # Set up: champion 70%, challenger 30%, then 60% and 100%.
    page.goto(live_server.url + reverse("experiment-list", args=[project.pk]))
    page.fill("input[name=name]", "bot")
    page.select_option("select[name=champion]", "bot-v1")
    page.select_option("select[name=challenger]", "bot-v2")
    page.fill("input[name=challenger_share]", "30")
    page.fill("input[name=rollout_steps]", "60,100")
    page.fill("input[name=min_units]", "20")
    page.click("button:has-text('Start experiment')")
    expect(page.locator("#experiment-status")).to_have_text("Running")
    expect(page.locator("#verdict-action")).to_have_text("keep running")

    # A challenger that users like much more: ship, then the next steps.
    rates = {"bot-v1": 0.2, "bot-v2": 0.9}
    traffic(key, range(0, 120), rates, seed=1)
    page.click("button:has-text('Evaluate now')")
    expect(page.locator("#experiment-status")).to_contain_text("Running")
    expect(page.locator("[data-variant=challenger] [data-stat=weight]")).to_have_text("0.60")
    expect(page.locator("[data-phase]")).to_have_count(2)
    expect(page.locator("[data-chart=effect] polygon")).to_have_count(1)
    expect(page.locator("[data-chart=units] polyline")).to_have_count(2)
    expect(page.locator(".comparison [data-stat=arm-verdict]")).to_contain_text("ship")
    page.screenshot(path=str(tmp_path / "experiment-rolling-out.png"), full_page=True)

    traffic(key, range(120, 200), rates, seed=2)
    page.click("button:has-text('Evaluate now')")
    expect(page.locator("#experiment-status")).to_have_text("Shipped")
    expect(page.locator("[data-variant=challenger] [data-stat=weight]")).to_have_text("1.00")
    expect(page.locator("[data-phase]")).to_have_count(3)

    # A challenger that fails half its requests: the error-rate guardrail rolls it back.
    original = fake_engine.chat

    def flaky(name, messages, decoding):
        if name == "bot-v3" and random.random() < 0.5:
            raise EngineError("out of memory")
        return original(name, messages, decoding)

    monkeypatch.setattr(fake_engine, "chat", flaky)
    page.goto(live_server.url + reverse("experiment-list", args=[project.pk]))
    page.fill("input[name=name]", "bot-next")
    page.select_option("select[name=champion]", "bot-v2")
    page.select_option("select[name=challenger]", "bot-v3")
    page.fill("input[name=challenger_share]", "50")
    page.fill("input[name=rollout_steps]", "100")
    page.fill("input[name=min_units]", "20")
    page.click("button:has-text('Start experiment')")
    expect(page.locator("#experiment-status")).to_have_text("Running")
    client = Client(headers={"authorization": f"Bearer {key}"})
    for n in range(120):
        client.post(
            "/v1/chat/completions",
            {"model": "bot-next", "messages": [{"role": "user", "content": "x"}], "user": f"n{n}"},
            content_type="application/json",
        )
    page.click("button:has-text('Evaluate now')")
    expect(page.locator("#experiment-status")).to_have_text("Rolled back")
    expect(page.locator("[data-guardrail=error_rate]").first).to_have_attribute(
        "data-status", "breached"
    )
    expect(page.locator("[data-variant=champion] [data-stat=weight]")).to_have_text("1.00")
    page.screenshot(path=str(tmp_path / "experiment-rolled-back.png"), full_page=True)
    assert Experiment.objects.get(name="bot-next").status == "rolled_back"

    # A data lead reads the shipped experiment, without the controls.
    page.click("button:has-text('Log out')")
    log_in(page, f"{live_server.url}/login/", "dana")
    page.goto(
        live_server.url + reverse("experiment-detail", args=[Experiment.objects.get(name="bot").pk])
    )
    expect(page.locator("#experiment-status")).to_have_text("Shipped")
    expect(page.locator("button:has-text('Kill switch')")).to_have_count(0)
    page.goto(live_server.url + reverse("deployment-list", args=[project.pk]))
    expect(page.locator("[data-deployment=bot-v2] [data-stat=requests]")).not_to_have_text("0")
