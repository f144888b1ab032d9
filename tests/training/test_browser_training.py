"""An ML engineer in a real browser, from the pages alone: a draft version offers no
training and a forced launch is refused; on an approved version one click on Train, with a
tiny local model, queues a run that a real task worker (a ``db_worker`` subprocess, as in
production) executes while the run page updates its status, progress and curves by
itself; the page then shows the comparison of the fine-tuned model with the base model
and the majority-class baseline, with intervals and the verdict, and the Models page lists
the run.

The numbers the page must show are read from the `TrainingRun` row the worker stored and
formatted as the templates format them (Django's floatformat:3)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.template.defaultfilters import floatformat, slugify
from django.urls import reverse

from curation.services.versions import dataset_version_build
from tests.browser import log_in
from tests.factories import ExampleFactory, MembershipFactory, ProjectFactory, UserFactory
from tests.training.conftest import approved_version, classification_records
from training.models import TrainingRun

REPO_ROOT = Path(__file__).resolve().parents[2]
MAX_STEPS, EVAL_STEPS = 6, 2
# The runner logs the training loss every min(10, eval_steps) steps (training.core.runner).
LOGGING_STEPS = min(10, EVAL_STEPS)
VALIDATION_POINTS = MAX_STEPS // EVAL_STEPS
TRAIN_LOSS_POINTS = MAX_STEPS // LOGGING_STEPS
METRICS = ("accuracy", "macro_f1", "auc_roc")

# Records, in the page, each state the run-state fragment shows after a swap, and whether
# the page was ever reloaded (a reload drops the window property).
WATCH_RUN_STATE = """() => {
  window.assayNoReload = true;
  window.assaySeen = [];
  const note = () => {
    const badge = document.querySelector('#run-state [data-status]');
    const bar = document.querySelector('#run-state [role=progressbar]');
    if (!badge) return;
    const seen = [badge.dataset.status, Number(bar.getAttribute('aria-valuenow'))];
    const last = window.assaySeen[window.assaySeen.length - 1];
    if (!last || last[0] !== seen[0] || last[1] !== seen[1]) window.assaySeen.push(seen);
  };
  note();
  new MutationObserver(note).observe(document.body, {childList: true, subtree: true});
}"""


def three(value: float | None) -> str:
    """A number as the training pages print it."""
    return "—" if value is None else floatformat(value, 3)


@pytest.fixture
def database_tasks(settings):
    """Runs launched from a page go to the database task table for a worker process to
    take, as in production (the test default executes them inline, inside the request)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def start_db_worker(data_dir: Path, log: Path) -> subprocess.Popen:
    """``manage.py db_worker --batch`` on this test's database; it exits once the queue is
    empty. ASSAY_DATA_DIR=``data_dir`` gives it the same cache (live progress), training
    folder and model cache as the test settings (tests/conftest.py, tests/training/conftest.py)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "curation.settings.test",
        "ASSAY_TASK_BACKEND": "database",
        "ASSAY_DATABASE_NAME": str(connection.settings_dict["NAME"]),
        "ASSAY_DATA_DIR": str(data_dir),
    }
    command = ["db_worker", "--batch", "--no-startup-delay", "--no-reload", "--skip-checks"]
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "manage.py", *command],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture
def spam_filter(transactional_db, database_tasks):
    """A two-label project of 60 short messages, a draft version 1 and an approved
    version 2 of the same data, and an ML engineer."""
    engineer = UserFactory(username="ada")
    project = ProjectFactory(name="Spam filter", label_set=["ham", "spam"])
    MembershipFactory(project=project, user=engineer, role="ml_engineer")
    for n, record in enumerate(classification_records(60, seed=5)):
        ExampleFactory(
            project=project,
            fields={"text": f"{record['text']} {n}"},
            resolved_label=record["label"],
            resolved_label_origin="annotator",
        )
    draft = dataset_version_build(project=project, seed=0)
    return project, draft, approved_version(project)


def polyline_points(page, chart: str, series: str) -> int:
    """How many points the browser parsed from a curve's SVG polyline."""
    selector = f"#training-curves [data-chart={chart}] polyline[data-series={series}]"
    return page.locator(selector).evaluate("line => line.points.numberOfItems")


@pytest.mark.browser
@pytest.mark.slow
def test_an_engineer_trains_on_an_approved_version_and_reads_the_comparison(
    live_server, browser_page, tmp_path, tiny_bert, spam_filter
):
    from playwright.sync_api import expect

    page = browser_page
    project, draft, version = spam_filter
    log_in(page, f"{live_server.url}/login/", "ada")

    # 1. A draft version: no Train button; its launch page disables Train and says why;
    # a POST forced past the disabled button is refused with that reason.
    page.goto(live_server.url + reverse("version-detail", args=[project.pk, draft.number]))
    expect(page.locator("h1 .badge")).to_have_text("Draft")
    launch_path = reverse("training-launch", args=[project.pk, draft.number])
    expect(page.locator(f"a[href='{launch_path}']")).to_have_count(0)
    page.goto(live_server.url + launch_path)
    expect(page.locator("#train")).to_be_disabled()
    expect(page.locator("#not-approved")).to_have_text(
        "Only approved versions can be trained on; this one is draft."
    )
    page.locator("#train").evaluate("button => { button.disabled = false; }")
    with page.expect_response(lambda r: r.request.method == "POST") as refused:
        page.click("#train")
    assert refused.value.status == 400
    expect(page.locator("[role=alert]")).to_have_text(
        f"{draft} is draft; only approved versions can be trained on. "
        "Submit it for review and have it approved first."
    )
    page.screenshot(path=str(tmp_path / "refused.png"), full_page=True)
    assert not TrainingRun.objects.exists()

    # 2. The approved version: Train, a tiny local model and few steps, one click.
    page.goto(live_server.url + reverse("version-detail", args=[project.pk, version.number]))
    page.click("a.button:has-text('Train')")
    expect(page.locator("h1")).to_contain_text(f"Train on version {version.number}")
    expect(page.locator("#train")).to_be_enabled()
    for name, value in {
        "base_model": tiny_bert,
        "max_steps": MAX_STEPS,
        "eval_steps": EVAL_STEPS,
        "batch_size": 8,
        "max_length": 16,
        "learning_rate": 5e-3,
        "early_stopping_patience": 0,
        "bootstrap_samples": 50,
    }.items():
        page.fill(f"#id_{name}", str(value))
    # Not full_page: on a page taller than the window Chromium restores the window size
    # after such a shot while the next click is under way, and the click misses.
    page.screenshot(path=str(tmp_path / "launch.png"))
    page.click("#train")

    # 3. The run page: queued until a worker takes it, and polling meanwhile.
    # Launching reads the base model's config to check that the run fits: a few seconds.
    expect(page.locator("h1")).to_contain_text("Training run", timeout=30_000)
    training_run = TrainingRun.objects.get()
    assert page.url == live_server.url + reverse("training-run-detail", args=[training_run.pk])
    expect(page.locator("#run-state [data-status]")).to_have_text("queued")
    expect(page.locator("#run-state")).to_have_attribute("hx-trigger", "every 1s")
    expect(page.locator("#training-curves")).to_have_attribute("hx-trigger", "every 3s")
    expect(page.locator("#comparison")).to_have_count(0)
    curve_polls = []
    page.on(
        "request",
        lambda request: "/curves/" in request.url and curve_polls.append(request.url),
    )
    page.evaluate(WATCH_RUN_STATE)
    page.screenshot(path=str(tmp_path / "queued.png"), full_page=True)

    worker = start_db_worker(tmp_path, tmp_path / "worker.log")
    try:
        expect(page.locator("#run-state [data-status]")).to_have_text("running", timeout=60_000)
        page.screenshot(path=str(tmp_path / "running.png"), full_page=True)
        expect(page.locator("#run-state [data-status]")).to_have_text("succeeded", timeout=120_000)
        worker.wait(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    log = (tmp_path / "worker.log").read_text()
    assert worker.returncode == 0, log

    # Status and progress changed in place: queued, running with progress, succeeded at 100.
    seen = page.evaluate("window.assaySeen")
    statuses = [status for status, _ in seen]
    assert statuses[0] == "queued" and statuses[-1] == "succeeded", seen
    assert "running" in statuses, seen
    assert any(0 < progress < 100 for status, progress in seen if status == "running"), seen
    assert seen[-1] == ["succeeded", 100], seen
    expect(page.locator("#run-state")).not_to_have_attribute("hx-trigger", "every 1s")
    # The finished panel says what happened and offers no link back to this very page.
    expect(page.locator("#run-state .run-message")).to_have_text(
        f"Trained {MAX_STEPS} steps; evaluated on the test split"
    )
    expect(page.locator("#run-state a", has_text="Open training run")).to_have_count(0)

    # 4. The comparison arrives without a reload; the curves hold every logged point.
    expect(page.locator("#comparison")).to_be_visible()
    expect(page.locator("#training-curves")).not_to_have_attribute("hx-trigger", "every 3s")
    assert page.evaluate("window.assayNoReload") is True
    assert curve_polls, "the curves never polled while the run was active"
    page.screenshot(path=str(tmp_path / "finished.png"), full_page=True)

    training_run = TrainingRun.objects.select_related("run").get(pk=training_run.pk)
    assert training_run.status == "succeeded"
    assert training_run.global_step == MAX_STEPS
    assert training_run.version_hash == version.content_hash
    assert (training_run.config["base_model"], training_run.config["eval_steps"]) == (
        tiny_bert, EVAL_STEPS,
    )  # fmt: skip
    assert len(training_run.history["validation"]) == VALIDATION_POINTS
    for series in ("accuracy", "macro_f1"):
        assert polyline_points(page, "validation-metrics", series) == VALIDATION_POINTS
    assert polyline_points(page, "loss", "validation") == VALIDATION_POINTS
    assert polyline_points(page, "loss", "train") == TRAIN_LOSS_POINTS
    expect(page.locator("#training-curves [data-chart=loss] small")).to_contain_text(
        f"steps 0–{MAX_STEPS}"
    )

    comparison = training_run.comparison
    systems = comparison["systems"]
    assert set(systems) == {"fine_tuned", "base", "baseline"}
    assert systems["baseline"]["name"] in {"majority class (ham)", "majority class (spam)"}
    expect(page.locator("#comparison tbody tr[data-system]")).to_have_count(3)
    for key, system in systems.items():
        name = system.get("name", key.replace("_", " "))
        row = page.locator(f"#comparison tr[data-system={slugify(name)}]")
        expect(row.locator("th")).to_have_text(name)
        scores = system["metrics"]
        for metric in METRICS:
            expect(row.locator(f"[data-metric={metric}]")).to_have_text(
                f"{metric} {three(scores[metric])}"
            )
        for metric in ("accuracy", "macro_f1"):
            low, high = scores[f"{metric}_ci"]
            expect(row.locator(f"[data-interval={metric}]")).to_have_text(
                f"{metric} [{three(low)}, {three(high)}]"
            )
    for other, difference in comparison["differences"].items():
        row = page.locator(f"#differences tr[data-difference={other}]")
        expect(row.locator("td").nth(0)).to_have_text(three(difference["value"]))
        expect(row.locator("td").nth(1)).to_have_text(
            f"[{three(difference['low'])}, {three(difference['high'])}]"
        )
    assert training_run.verdict.startswith(
        ("Fine-tuning helped", "Fine-tuning hurt", "No clear difference")
    )
    expect(page.locator("#verdict")).to_have_text(training_run.verdict)

    # 5. The Models page lists the run with its headline numbers.
    page.click("nav.tabs a:has-text('Models')")
    expect(page.locator("h1")).to_have_text("Models")
    primary = comparison["primary_metric"]
    tuned, base = systems["fine_tuned"]["metrics"], systems["base"]["metrics"]
    row = page.locator(f"tr[data-run='{training_run.pk}']")
    expect(row.locator("a")).to_have_text(f"#{training_run.pk}")
    expect(row.locator("[data-status]")).to_have_text("succeeded")
    expect(row.locator("[data-stat=metric]")).to_have_text(primary)
    expect(row.locator("[data-stat=tuned]")).to_have_text(three(tuned[primary]))
    low, high = tuned[f"{primary}_ci"]
    expect(row.locator("[data-stat=interval]")).to_have_text(f"[{three(low)}, {three(high)}]")
    expect(row.locator("[data-stat=base]")).to_have_text(three(base[primary]))
    expect(row.locator("[data-stat=verdict]")).to_have_text(training_run.verdict)
    page.screenshot(path=str(tmp_path / "models.png"), full_page=True)
