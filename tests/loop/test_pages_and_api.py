"""The loop's pages and API on a project part-way through the loop (tests/loop/helpers.py):
what each page shows, and that bad input is refused with a message naming it while
nothing changes."""

import json

import pytest
from django.template.defaultfilters import floatformat
from django.test import Client
from django.urls import reverse

from curation.models import ReviewStatus
from curation.services.api_tokens import api_token_create
from loop.models import LoopPolicy, MonitoringSnapshot, RetrainingTrigger
from loop.selectors.costs import project_cost_summary
from tests.loop.helpers import loop_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return loop_world()


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_for(user) -> Client:
    _token, key = api_token_create(user=user, name="loop")
    return Client(headers={"authorization": f"Bearer {key}"})


def test_monitoring_page_shows_the_latest_window_charts_thresholds_and_alerts(world):
    page = client_for(world["users"]["annotator"]).get(
        reverse("loop-monitoring", args=[world["project"].pk])
    )
    html = page.content.decode()

    assert page.status_code == 200
    latest = world["snapshots"][-1]
    assert f'data-stat="requests">{latest.requests}<' in html
    assert floatformat(latest.metrics["embedding_auc"], 4) in html
    # one SVG line per metric of each group, over the three windows, and threshold lines
    assert 'data-chart="input-drift"' in html and 'data-series="embedding_auc"' in html
    assert 'data-chart="feedback"' in html and 'data-threshold="embedding_auc"' in html
    assert 'class="breach"' in html  # embedding_auc 0.93 > 0.8
    assert "failed: connection refused" in html  # the alert's webhook outcome
    assert 'id="save-policy"' not in html  # an annotator sees the policy, cannot change it


def test_policy_form_refuses_an_out_of_range_threshold_and_changes_nothing(world):
    project = world["project"]
    client = client_for(world["users"]["ml_engineer"])
    url = reverse("loop-policy", args=[project.pk])

    response = client.post(url, {"threshold_oov_rate": "1.5", "window_hours": "24"}, follow=True)

    assert "Nothing was changed" in response.content.decode()
    assert "oov_rate" in response.content.decode()
    policy = LoopPolicy.objects.get(project=project)
    assert (policy.window_hours, policy.alert_thresholds) == (168, {})

    client.post(url, {"threshold_oov_rate": "0.25", "window_hours": "24"})
    policy.refresh_from_db()
    assert (policy.window_hours, policy.alert_thresholds) == (24, {"oov_rate": 0.25})


def test_only_a_project_admin_changes_the_budget(world):
    project = world["project"]
    engineer = api_for(world["users"]["ml_engineer"])
    url = f"/api/projects/{project.pk}/loop/policy"

    refused = engineer.patch(url, {"budget": 500.0}, content_type="application/json")
    allowed = api_for(world["users"]["admin"]).patch(
        url, {"budget": 500.0}, content_type="application/json"
    )

    assert refused.status_code == 403
    assert allowed.status_code == 200 and allowed.json()["budget"] == 500.0


def test_policy_api_names_the_bad_value_and_changes_nothing(world):
    project = world["project"]
    api = api_for(world["users"]["ml_engineer"])
    url = f"/api/projects/{project.pk}/loop/policy"

    out_of_range = api.patch(url, {"alert_thresholds": {"error_rate": 2}, "window_hours": 12},
                             content_type="application/json")  # fmt: skip
    unknown = api.patch(url, {"windows": 12}, content_type="application/json")
    unknown_metric = api.patch(url, {"alert_thresholds": {"accuracy": 0.5}},
                               content_type="application/json")  # fmt: skip
    bad_webhook = api.patch(url, {"webhook_url": "not a url"}, content_type="application/json")

    assert out_of_range.status_code == 400 and "error_rate" in out_of_range.json()["detail"]
    assert unknown.status_code == 422 and "windows" in unknown.json()["detail"]
    assert unknown_metric.status_code == 400 and "accuracy" in unknown_metric.json()["detail"]
    assert bad_webhook.status_code == 400 and "webhook_url" in bad_webhook.json()["detail"]
    assert api.get(url).json()["window_hours"] == 168
    ok = api.patch(url, {"webhook_url": "https://hooks.example.com/x", "window_hours": 12},
                   content_type="application/json")  # fmt: skip
    assert ok.status_code == 200, ok.json()
    assert ok.json()["window_hours"] == 12
    assert ok.json()["thresholds_in_force"]["embedding_auc"] == 0.8


def test_trigger_form_refuses_a_bad_cron_and_creates_nothing(world):
    project = world["project"]
    client = client_for(world["users"]["ml_engineer"])
    url = reverse("loop-triggers", args=[project.pk])
    before = RetrainingTrigger.objects.count()

    bad = client.post(url, {"kind": "schedule", "cron": "61 * * * *"})
    no_number = client.post(url, {"kind": "drift_above", "metric": "oov_rate", "threshold": "x"})
    good = client.post(url, {"kind": "schedule", "cron": "0 3 * * 1"})

    assert bad.status_code == 400 and "cron" in bad.content.decode().lower()
    assert no_number.status_code == 400 and "threshold" in no_number.content.decode()
    assert good.status_code == 302
    assert RetrainingTrigger.objects.count() == before + 1
    assert RetrainingTrigger.objects.latest("id").cron == "0 3 * * 1"


def test_triggers_api_creates_and_refuses(world):
    project = world["project"]
    api = api_for(world["users"]["ml_engineer"])
    url = f"/api/projects/{project.pk}/loop/triggers"

    bad_kind = api.post(url, {"kind": "sometimes"}, content_type="application/json")
    bad_count = api.post(url, {"kind": "new_examples", "count": 0}, content_type="application/json")
    good = api.post(url, {"kind": "metric_below", "metric": "embedding_auc", "threshold": 0.6},
                    content_type="application/json")  # fmt: skip

    assert bad_kind.status_code == 400 and "sometimes" in bad_kind.json()["detail"]
    assert bad_count.status_code == 400 and "count" in bad_count.json()["detail"]
    assert good.status_code == 201 and good.json()["metric"] == "embedding_auc"
    assert len(api.get(url).json()) == 2


def test_run_loop_now_measures_the_active_deployments(world, settings):
    settings.LOOP_EMBEDDINGS = "hashing"
    project = world["project"]
    before = MonitoringSnapshot.objects.count()

    response = client_for(world["users"]["ml_engineer"]).post(
        reverse("loop-tick", args=[project.pk]), follow=True
    )

    assert "Loop ran: 2 deployment(s) measured" in response.content.decode()
    assert MonitoringSnapshot.objects.count() == before + 2
    report = api_for(world["users"]["ml_engineer"]).post(f"/api/projects/{project.pk}/loop/tick")
    assert report.status_code == 200 and len(report.json()["snapshots"]) == 2


def test_feedback_page_shows_provenance_and_takes_decisions(world):
    project, feedback = world["project"], world["feedback"]
    client = client_for(world["users"]["annotator"])

    html = client.get(reverse("loop-feedback", args=[project.pk])).content.decode()
    assert "req-3" in html and "spam-v1" in html and f"#{world['run'].pk}" in html

    client.post(reverse("loop-feedback-decide", args=[project.pk, feedback.pk]),
                {"decision": "accept"})  # fmt: skip
    feedback.refresh_from_db()
    assert feedback.review_status == ReviewStatus.ACCEPTED
    assert feedback.resolved_label == "spam"  # the person's correction


def test_feedback_api_refuses_a_label_outside_the_set(world):
    project, feedback = world["project"], world["feedback"]
    api = api_for(world["users"]["annotator"])
    url = f"/api/projects/{project.pk}/loop/feedback/{feedback.pk}"

    listed = api.get(f"/api/projects/{project.pk}/loop/feedback").json()
    wrong = api.post(f"{url}/accept", {"label": "eggs"}, content_type="application/json")
    rejected = api.post(f"{url}/reject", {"note": "not spam"}, content_type="application/json")

    assert [item["external_id"] for item in listed] == ["feedback-req-3"]
    assert listed[0]["provenance"]["original_output"] == "ham"
    assert wrong.status_code == 400 and "eggs" in wrong.json()["detail"]
    assert rejected.status_code == 200 and rejected.json()["review_status"] == "rejected"


def test_lineage_page_links_every_step_and_shows_the_interval(world):
    cycle = world["finished"]
    html = (
        client_for(world["users"]["annotator"])
        .get(reverse("loop-cycle-detail", args=[cycle.pk]))
        .content.decode()
    )

    assert "embedding_auc &gt; 0.8" in html
    assert reverse("version-detail", args=[cycle.project_id, cycle.version.number]) in html
    assert reverse("training-run-detail", args=[cycle.training_run_id]) in html
    assert reverse("deployment-detail", args=[cycle.challenger_id]) in html
    assert "0.075 – 0.325" in html  # the difference's interval
    assert 'data-step="experiment" data-state="waiting"' in html

    detail = api_for(world["users"]["annotator"]).get(f"/api/loop/cycles/{cycle.pk}").json()
    assert [s["name"] for s in detail["lineage"]][:3] == [
        "Trigger", "Draft version", "Training run"]  # fmt: skip
    assert detail["evaluation"]["difference"]["low"] == 0.075


def test_a_version_waiting_for_approval_is_announced_to_the_data_lead(world):
    project, waiting = world["project"], world["waiting"]
    client = client_for(world["users"]["data_lead"])
    for name in ("project-detail", "version-list"):
        html = client.get(reverse(name, args=[project.pk])).content.decode()
        assert f'data-approval-notice="{world["open_cycle"].pk}"' in html
        assert f"v{waiting.number}" in html


def test_costs_show_on_the_run_the_deployment_and_the_project(world):
    project = world["project"]
    client = client_for(world["users"]["annotator"])
    summary = project_cost_summary(project)

    run_page = client.get(reverse("training-run-detail", args=[world["run"].pk])).content.decode()
    deployment_page = client.get(
        reverse("deployment-detail", args=[world["champion"].pk])
    ).content.decode()
    costs = client.get(reverse("loop-costs", args=[project.pk])).content.decode()

    # 720 s of cpu at 0.10/h; 8 requests of 450 ms
    assert 'data-stat="cost">0.0200<' in run_page
    assert 'data-stat="per-1000">0.0125<' in deployment_page
    assert f'data-stat="spent">{floatformat(summary["spent"], 4)}<' in costs
    assert "5.0000" in costs  # the budget
    api = api_for(world["users"]["annotator"]).get(f"/api/projects/{project.pk}/loop/costs")
    assert api.json()["budget"] == 5.0
    assert json.loads(api.content)["cycles"][-1]["training"] == pytest.approx(0.01)


def test_loop_tick_command_keeps_going_when_a_project_fails(world, monkeypatch):
    from io import StringIO

    from django.core.management import call_command

    import loop.services.tick as tick

    def broken(*, project, push_feedback=True):
        raise RuntimeError("model folder missing")

    monkeypatch.setattr(tick, "loop_tick", broken)
    monkeypatch.setattr("time.sleep", lambda seconds: (_ for _ in ()).throw(KeyboardInterrupt))
    err = StringIO()
    call_command("loop_tick", "--loop", "--interval", "5", stderr=err)  # Ctrl+C ends it quietly
    assert "loop_tick of Loop world failed" in err.getvalue()
    assert "model folder missing" in err.getvalue()
    with pytest.raises(RuntimeError):
        call_command("loop_tick", str(world["project"].pk))
