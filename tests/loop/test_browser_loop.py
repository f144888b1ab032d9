"""An ML engineer in a real browser on a project part-way through the loop
(tests/loop/helpers.py): the monitoring page shows the latest window's numbers, the charts
and the alert as stored; an out-of-range threshold is refused and changes nothing; the
lineage page walks from the trigger to the proposed experiment with the evaluation's
interval, and its links lead to the training run and its cost; the cost summary shows
the spending against the budget; and a launch past the budget is refused with a message
naming the budget and the estimate.

Every number the test expects is read from the database and formatted as the templates
format it (Django's floatformat)."""

import re

import pytest
from django.template.defaultfilters import floatformat
from django.urls import reverse

from loop.models import LoopPolicy
from loop.selectors.costs import project_cost_summary
from loop.services.costs import price_per_hour, project_spent, training_run_cost
from tests.browser import log_in
from tests.loop.helpers import loop_world
from tests.training.conftest import tiny_values

pytestmark = pytest.mark.slow


def four(value: float) -> str:
    return floatformat(value, 4)


def test_monitoring_lineage_costs_and_the_budget_refusal_in_a_browser(
    live_server, transactional_db, browser_page, tiny_bert, tmp_path
):
    from playwright.sync_api import expect

    world = loop_world()
    project, page = world["project"], browser_page
    log_in(page, f"{live_server.url}/login/", "loop-ml_engineer")

    # 1. Monitoring: the latest window's numbers, the charts, the alert and its webhook.
    page.goto(live_server.url + reverse("project-detail", args=[project.pk]))
    page.click("nav.tabs a:has-text('Loop')")
    expect(page.locator("h1")).to_have_text("Monitoring")
    latest = world["snapshots"][-1]
    card = page.locator("section[data-deployment='spam-v1']")
    expect(card.locator("[data-stat=requests]")).to_have_text(str(latest.requests))
    for name in ("length_ks", "oov_rate", "embedding_auc", "label_tvd", "error_rate"):
        cell = card.locator(f"tr[data-metric={name}] [data-value]")
        expect(cell).to_have_text(four(latest.metrics[name]))
    expect(card.locator("tr[data-metric=mmd_p_value] [data-value]")).to_have_text(
        four(latest.details["mmd_p_value"])
    )
    expect(card.locator("tr[data-metric=embedding_auc]")).to_have_class("breach")
    chart = card.locator("figure[data-chart=input-drift]")
    expect(chart.locator("polyline[data-series=embedding_auc]")).to_be_visible()
    assert chart.locator("circle").count() == 4 * len(world["snapshots"])
    alert = page.locator(f"tr[data-alert='{world['alert'].pk}']")
    expect(alert.locator("[data-value]")).to_have_text(four(world["alert"].value))
    expect(alert.locator("[data-threshold]")).to_have_text(four(world["alert"].threshold))
    expect(alert.locator("[data-webhook]")).to_have_text(world["alert"].webhook_status)
    page.screenshot(path=str(tmp_path / "loop-monitoring.png"), full_page=True)

    # 2. An out-of-range threshold is refused by name; nothing changes.
    page.fill("#id_threshold_embedding_auc", "1.7")
    page.fill("#id_window_hours", "24")
    page.click("#save-policy")
    expect(page.locator(".message.error")).to_contain_text("embedding_auc")
    expect(page.locator(".message.error")).to_contain_text("Nothing was changed")
    policy = LoopPolicy.objects.get(project=project)
    assert (policy.window_hours, policy.alert_thresholds) == (168, {})

    # 3. Lineage: trigger → version → run → evaluation (with its interval) → challenger.
    cycle = world["finished"]
    page.click("#loop-nav a:has-text('Triggers')")
    page.click(f"tr[data-cycle='{cycle.pk}'] a")
    expect(page.locator("#cycle-status")).to_have_attribute("data-status", "proposed")
    steps = page.locator("#lineage li")
    expect(steps).to_have_count(7)
    expect(steps.nth(0)).to_contain_text(cycle.reason["rule"])
    expect(steps.nth(1)).to_contain_text(f"v{cycle.version.number}")
    difference = cycle.evaluation["difference"]
    expect(page.locator("tr[data-row=difference]")).to_contain_text(
        f"{floatformat(difference['low'], 3)} – {floatformat(difference['high'], 3)}"
    )
    expect(steps.nth(4)).to_contain_text(cycle.challenger.name)
    expect(steps.nth(5)).to_have_attribute("data-state", "waiting")
    page.screenshot(path=str(tmp_path / "loop-lineage.png"), full_page=True)
    steps.nth(2).locator("a").click()
    expect(page.locator("#cost [data-stat=cost]")).to_have_text(
        four(training_run_cost(cycle.training_run)["cost"])
    )

    # 4. The cost summary: spending against the budget, per 1,000 requests.
    page.goto(live_server.url + reverse("loop-costs", args=[project.pk]))
    summary = project_cost_summary(project)
    expect(page.locator("[data-stat=spent]")).to_have_text(four(summary["spent"]))
    expect(page.locator("[data-stat=budget]")).to_contain_text(four(summary["budget"]))
    expect(page.locator("#budget [data-stat=per-1000]")).to_have_text(
        four(summary["cost_per_1000_requests"])
    )
    expect(page.locator(f"tr[data-cycle='{cycle.pk}'] [data-value]")).to_have_text(
        four(summary["cycles"][-1]["cost"])
    )

    # 5. With the budget spent, a launch is refused, naming the budget and the estimate.
    budget = project_spent(project)
    LoopPolicy.objects.filter(project=project).update(budget=budget)
    version = world["run"].version
    page.goto(live_server.url + reverse("training-launch", args=[project.pk, version.number]))
    for name, value in tiny_values(tiny_bert, method="full").items():
        page.fill(f"#id_{name}", str(value))
    page.click("#train")
    refusal = page.locator(".message.error[role=alert]")
    expect(refusal).to_contain_text("Over budget")
    text = refusal.inner_text()
    assert f"of its budget of {budget:.4f}" in text
    found = re.search(
        r"estimated at (\d+\.\d{4}) \((\d+) s of (cpu|cuda) at (\d+\.\d{2})/h\)", text
    )
    assert found, text
    assert found.group(4) == f"{price_per_hour(found.group(3)):.2f}"
    # the tiny model's estimate rounds to whole seconds; the cost follows from them
    assert float(found.group(1)) <= (float(found.group(2)) + 0.5) / 3600 * float(found.group(4))
    page.screenshot(path=str(tmp_path / "loop-budget.png"), full_page=True)
