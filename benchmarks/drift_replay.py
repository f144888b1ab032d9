"""Drift replay on SMS spam: spam the model never saw arrives in production, and the loop
has to notice it, retrain on what people labelled, and propose a better model. Every step
goes through Assay's own services, in one run, in a temporary database.

    .venv/bin/python benchmarks/drift_replay.py [--shift prize|youtube|all] [--steps 50]
        [--learning-rate 5e-3] [--max-length 48] [--embeddings hashing|minilm] [--seed 0]

Two shifted settings (``--shift all``, the default, runs both, one after the other):
``prize`` holds the SMS "prize" spam family (won / win / winner / prize / claim / award /
guaranteed; 230 of the 747 spam messages) out of training; ``youtube`` trains on every
kind of SMS spam and then YouTube comment spam arrives. In both, the new spam makes 40% of
the shifted stream and ham stays SMS ham.

1. **Train** (`examples_import` → `dataset_version_build` → approve → `training_run_start`
   → `deployment_start`): 1,500 ham and 400 spam messages, the bundled MiniLM + LoRA on a
   small CPU budget (``--steps`` × 16 messages).
2. **Serve, calm** (week 1): 200 held-out requests like the training data (170 ham, 30
   spam) through the front door service (`serving.services.gateway.classification`).
3. **Serve, shifted** (week 2): 300 requests, 40% new spam. Users report a wrong answer
   with a correction through `feedback_event_record` (60% of the misses, seeded), which
   makes pending feedback examples. Every 10 requests `monitoring_snapshot_compute` measures
   the latest 50 against the default alert thresholds; the **detection delay** is the
   number of shifted requests until the first alert. During week 1 the same check runs
   every 25 requests (false alarms).
4. **Loop**: a reviewer accepts the pending feedback (`feedback_example_accept`), `loop_tick`
   evaluates the trigger (correction rate above 0.1), the cycle's draft version is approved
   by a data lead, the next ticks train the champion's config on it, compare it with the
   champion on the new test split (paired bootstrap) and deploy it as a challenger.
5. **Live quality**: requests are dated into ISO weeks (week 1, week 2, and week 3: 150
   new shifted requests to the challenger), a stratified sample of 60 per week is drawn
   (`live_quality_sample_draw`) and labelled with the data set's gold labels through
   `live_quality_item_label` (standing in for the annotators), and `live_quality_weeks`
   gives accuracy and macro-F1 with 95% intervals. Accuracy over *every* streamed request,
   from the gold labels, is reported beside it.
"""

import argparse
import os
import random
import re
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.pipeline import machine_info, results_write, setup_django  # noqa: E402

DEFAULT_DATA = Path(os.environ.get("ASSAY_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "drift_replay.json"
FAMILY = re.compile(r"\b(won|win|winner|prize|claim|award|guaranteed)\b", re.I)
REPORT_SHARE = 0.6
CHECK_EVERY = {"calm": 25, "shifted": 10}
WINDOW_REQUESTS = 50
SAMPLE_PER_WEEK = 60
SETTINGS = {
    "prize": "SMS spam; the prize family held out of training, 40% of the shifted stream",
    "youtube": "SMS spam; YouTube comment spam, never trained on, 40% of the shifted stream",
}


def _youtube_spam(data: Path) -> list[tuple[str, str]]:
    import csv

    rows = []
    for path in sorted((data / "youtube_spam").glob("Youtube0*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            rows += [(r["CONTENT"].strip(), "spam") for r in csv.DictReader(handle)
                     if r["CLASS"] == "1" and r["CONTENT"].strip()]  # fmt: skip
    return list(dict.fromkeys(rows))


def load_slices(data: Path, seed: int, shift: str = "prize") -> dict[str, list[tuple[str, str]]]:
    """Train, calm, shifted and after slices. ``prize``: SMS spam of the prize family is
    held out of training and makes 40% of the shifted stream. ``youtube``: training has
    every kind of SMS spam, and YouTube comment spam (a channel of spam SMS never had)
    makes 40% of the shifted stream; ham stays SMS ham throughout."""
    rows = []
    for line in (data / "sms_spam" / "SMSSpamCollection.tsv").read_text("utf-8").splitlines():
        label, _, text = line.partition("\t")
        if label in ("ham", "spam") and text.strip():
            rows.append((text.strip(), label))
    rows = list(dict.fromkeys(rows))  # the collection repeats some messages
    rng = random.Random(seed)
    rng.shuffle(rows)
    ham = [r for r in rows if r[1] == "ham"]
    if shift == "youtube":
        other = [r for r in rows if r[1] == "spam"]
        new = _youtube_spam(data)
        rng.shuffle(new)
    else:
        new = [r for r in rows if r[1] == "spam" and FAMILY.search(r[0])]
        other = [r for r in rows if r[1] == "spam" and not FAMILY.search(r[0])]

    def mix(*parts):
        out = [row for part in parts for row in part]
        rng.shuffle(out)
        return out

    return {
        "train": mix(ham[:1500], other[:400]),
        "calm": mix(ham[1500:1670], other[400:430]),
        "shifted": mix(ham[1670:1850], new[:120]),
        "after": mix(ham[1850:1940], new[120:180]),
        "counts": {"ham": len(ham), "new_spam": len(new), "other_spam": len(other)},
    }


def _train_and_deploy(project, values: dict, lead, name: str):
    from curation.services.versions import (
        dataset_version_approve,
        dataset_version_build,
        dataset_version_submit,
    )
    from serving.services.deployments import deployment_start
    from training.services.launch import training_run_start

    version = dataset_version_submit(version=dataset_version_build(project=project, seed=0))
    version = dataset_version_approve(version=version, user=lead,
                                      override_reason="benchmark: readiness reviewed")  # fmt: skip
    started = time.monotonic()
    run = training_run_start(version=version, values=values, created_by=lead)
    run.refresh_from_db()
    assert run.run.status == "succeeded", run.run.error
    seconds = time.monotonic() - started
    deployment = deployment_start(training_run=run, name=name)
    deployment.refresh_from_db()
    assert deployment.is_active, deployment.error
    return run, deployment, seconds


def _stream(app, deployment, rows, *, rng, week_start, phase, checks, model=None) -> list[dict]:
    """Send ``rows`` through the front door; users correct some wrong answers; every
    ``CHECK_EVERY[phase]`` requests the latest window is measured. Returns per request
    (id, gold, answer)."""
    from loop.models import Alert
    from loop.services.monitoring import monitoring_snapshot_compute
    from serving.models import RequestLog
    from serving.services.events import feedback_event_record
    from serving.services.gateway import classification

    sent = []
    for n, (text, gold) in enumerate(rows, start=1):
        payload = {"model": model or deployment.name, "input": text, "user": f"u{n}"}
        answer = classification(application=app, payload=payload)
        label = answer["data"][0]["label"]
        request_id = answer["id"]
        RequestLog.objects.filter(request_id=request_id).update(
            created_at=week_start + timedelta(minutes=n)
        )  # dated into its ISO week, in order
        if label != gold and rng.random() < REPORT_SHARE:
            feedback_event_record(application=app, payload={"request_id": request_id,
                                  "event": "correction", "correction": gold})  # fmt: skip
        sent.append({"id": request_id, "gold": gold, "answer": label})
        if checks is not None and n % CHECK_EVERY[phase] == 0 and n >= WINDOW_REQUESTS // 2:
            before = set(Alert.objects.values_list("pk", flat=True))
            snapshot = monitoring_snapshot_compute(deployment=deployment,
                                                   at=week_start + timedelta(minutes=n),
                                                   last_requests=WINDOW_REQUESTS)  # fmt: skip
            new = Alert.objects.exclude(pk__in=before)
            checks.append({"phase": phase, "requests": n, "metrics": snapshot.metrics,
                           "alerts": sorted(new.values_list("metric", flat=True))})  # fmt: skip
    return sent


def _accuracy(sent: list[dict]) -> float:
    return sum(r["gold"] == r["answer"] for r in sent) / len(sent)


def _live_quality(deployment, sent_by_id: dict) -> list[dict]:
    from loop.models import LiveQualityItem
    from loop.selectors.live_quality import live_quality_weeks
    from loop.services.live_quality import live_quality_item_label, live_quality_sample_draw

    sample = live_quality_sample_draw(deployment=deployment, size=SAMPLE_PER_WEEK, seed=0)
    for item in LiveQualityItem.objects.filter(sample=sample).select_related("request"):
        live_quality_item_label(item=item, label=sent_by_id[item.request.request_id]["gold"],
                                by="benchmark-annotator")  # fmt: skip
    return live_quality_weeks(deployment)


def run(
    data: Path,
    *,
    steps: int,
    seed: int,
    max_length: int,
    embeddings: str,
    learning_rate: float,
    shift: str = "prize",
) -> dict:
    from django.contrib.auth import get_user_model
    from django.test.utils import override_settings

    from curation.core.readers import ImportOptions
    from curation.models import Example, ExampleSource, ReviewStatus
    from curation.services.imports import examples_import
    from curation.services.projects import project_create
    from curation.services.versions import dataset_version_approve
    from loop.models import Alert, LoopPolicy, RetrainingCycle
    from loop.services.feedback import feedback_example_accept
    from loop.services.tick import loop_tick
    from loop.services.triggers import retraining_trigger_create
    from serving.services.applications import application_create

    started = time.monotonic()
    today = datetime.now(UTC).date()
    # Monday three ISO weeks ago: weeks 1-3 are in the past, so every window is closed.
    week_1 = datetime.combine(today - timedelta(days=today.weekday() + 21), clock(9), UTC)
    slices = load_slices(data, seed, shift)
    lead = get_user_model().objects.filter(username="lead").first()
    lead = lead or get_user_model().objects.create_superuser("lead", "lead@assay.local", "x")
    project = project_create(name=f"SMS drift replay ({shift})", task_type="classification",
                             label_set=["ham", "spam"])  # fmt: skip
    csv_path = Path(os.environ["ASSAY_DATA_DIR"]) / f"train-{shift}.csv"
    import csv

    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(slices["train"])
    examples_import(project=project, path=csv_path,
                    options=ImportOptions(format="csv", mapping={"text": "text",
                                                                 "label": "label"}))  # fmt: skip
    values = {"method": "lora", "max_steps": steps, "batch_size": 16, "max_length": max_length,
              "learning_rate": learning_rate, "eval_steps": steps, "bootstrap_samples": 200,
              "early_stopping_patience": 0, "seed": seed}  # fmt: skip
    champion_run, champion, champion_seconds = _train_and_deploy(
        project, values, lead, f"{shift}-v1"
    )
    LoopPolicy.objects.create(project=project, min_window_requests=30)
    trigger = retraining_trigger_create(project=project, kind="drift_above",
                                        metric="correction_rate", threshold=0.1)  # fmt: skip
    app, _key = application_create(project=project, name="sms app")
    rng = random.Random(seed)
    checks: list[dict] = []
    with override_settings(SERVING_REQUEST_LOG_MODE="inline", LOOP_EMBEDDINGS=embeddings):
        calm = _stream(app, champion, slices["calm"], rng=rng, week_start=week_1, phase="calm",
                       checks=checks)  # fmt: skip
        shifted = _stream(app, champion, slices["shifted"], rng=rng,
                          week_start=week_1 + timedelta(days=7), phase="shifted",
                          checks=checks)  # fmt: skip
    first = next((c for c in checks if c["phase"] == "shifted" and c["alerts"]), None)
    false_alarms = [c for c in checks if c["phase"] == "calm" and c["alerts"]]

    # People review the feedback; the loop takes it from there.
    pending = Example.objects.filter(project=project, source=ExampleSource.FEEDBACK,
                                     review_status=ReviewStatus.PENDING)  # fmt: skip
    reviewed = 0
    for example in pending:
        feedback_example_accept(example=example, user=lead)
        reviewed += 1
    with override_settings(LOOP_EMBEDDINGS=embeddings):
        tick_1 = loop_tick(project=project, push_feedback=False)
    cycle = RetrainingCycle.objects.filter(project=project).first()
    fired = cycle is not None
    retrain_seconds = None
    if fired and cycle.version is not None:
        dataset_version_approve(version=cycle.version, user=lead,
                                override_reason="benchmark: readiness reviewed")  # fmt: skip
        tick_started = time.monotonic()
        with override_settings(LOOP_EMBEDDINGS=embeddings):
            loop_tick(project=project, push_feedback=False)  # trains
            retrain_seconds = time.monotonic() - tick_started
            loop_tick(project=project, push_feedback=False)  # compares, deploys the challenger
        cycle.refresh_from_db()

    after = []
    challenger = cycle.challenger if fired else None
    if challenger is not None:
        with override_settings(SERVING_REQUEST_LOG_MODE="inline"):
            after = _stream(app, challenger, slices["after"], rng=rng,
                            week_start=week_1 + timedelta(days=14), phase="after",
                            checks=None)  # fmt: skip
    by_id = {r["id"]: r for r in calm + shifted + after}
    weeks = {"champion": _live_quality(champion, by_id)}
    if challenger is not None:
        weeks["challenger"] = _live_quality(challenger, by_id)
    return {
        "shift": shift,
        "setting": SETTINGS[shift],
        "settings": {
            "train_rows": len(slices["train"]),
            "max_steps": steps,
            "batch_size": 16,
            "max_length": 64,
            "method": "lora",
            "base_model": "bundled MiniLM",
            "calm_requests": len(calm),
            "shifted_requests": len(shifted),
            "shifted_new_spam_share": 0.4,
            "after_requests": len(after),
            "report_share_of_misses": REPORT_SHARE,
            "window_requests": WINDOW_REQUESTS,
            "check_every": CHECK_EVERY,
            "trigger": "correction_rate > 0.1",
            "alert_thresholds": "defaults (loop/core/drift.py)",
            "live_quality_sample_per_week": SAMPLE_PER_WEEK,
            "seed": seed,
            "data_counts": slices["counts"],
        },  # fmt: skip
        "detection": {
            "delay_requests": first["requests"] if first else None,
            "first_alerts": first["alerts"] if first else [],
            "first_alert_metrics": {k: first["metrics"].get(k) for k in first["alerts"]}
            if first
            else {},
            "false_alarm_checks_before_shift": len(false_alarms),
            "checks_before_shift": sum(c["phase"] == "calm" for c in checks),
            "alerts_total": Alert.objects.filter(project=project).count(),
            "checks": checks,
        },
        "live_metric_from_all_gold_labels": {
            "calm_accuracy": _accuracy(calm),
            "shifted_accuracy": _accuracy(shifted),
            "challenger_after_accuracy": _accuracy(after) if after else None,
        },  # fmt: skip
        "live_quality_weeks": weeks,
        "feedback_examples_accepted": reviewed,
        "trigger": {
            "fired": fired,
            "first_tick_cycles": tick_1["cycles_started"],
            "reason": cycle.reason if fired else None,
            "trigger_id": trigger.pk,
        },  # fmt: skip
        "cycle": {
            "status": cycle.status if fired else None,
            "message": cycle.message if fired else None,
            "evaluation": cycle.evaluation if fired else None,
            "retrain_tick_seconds": retrain_seconds,
            "challenger": challenger.name if challenger else None,
        },  # fmt: skip
        "champion_training_seconds": round(champion_seconds, 1),
        "wall_seconds": round(time.monotonic() - started, 1),
    }


def _ci(metric: dict | None, scale: float = 100) -> str:
    if not metric:
        return "—"
    return (f"{metric['value'] * scale:.1f}% ({metric['low'] * scale:.1f}–"
            f"{metric['high'] * scale:.1f})")  # fmt: skip


def print_table(result: dict) -> None:
    d, c, lq = result["detection"], result["cycle"], result["live_quality_weeks"]
    champion_weeks = {w["week"]: w for w in lq["champion"]}
    challenger_weeks = {w["week"]: w for w in lq.get("challenger", [])}
    weeks = sorted(champion_weeks)
    gold = result["live_metric_from_all_gold_labels"]
    evaluation = c["evaluation"] or {}
    print("\n| step | result |\n|---|---|")
    print(f"| detection delay (shifted requests until the first alert) | "
          f"{d['delay_requests']} ({', '.join(d['first_alerts']) or 'none'}) |")  # fmt: skip
    print(f"| false alarms before the shift | {d['false_alarm_checks_before_shift']} of "
          f"{d['checks_before_shift']} checks |")  # fmt: skip
    if weeks:
        print(
            f"| live accuracy, champion, before ({weeks[0]}, sample) | "
            f"{_ci(champion_weeks[weeks[0]]['accuracy'])}, n={champion_weeks[weeks[0]]['n']} |"
        )
    if len(weeks) > 1:
        print(
            f"| live accuracy, champion, after the shift ({weeks[1]}, sample) | "
            f"{_ci(champion_weeks[weeks[1]]['accuracy'])}, n={champion_weeks[weeks[1]]['n']} |"
        )
    print(
        f"| accuracy over every streamed request (gold), before / after | "
        f"{gold['calm_accuracy']:.1%} / {gold['shifted_accuracy']:.1%} |"
    )
    print(f"| trigger fired | {'yes' if result['trigger']['fired'] else 'no'} "
          f"({(result['trigger']['reason'] or {}).get('rule', '')}) |")  # fmt: skip
    if evaluation:
        print(f"| new test split ({evaluation['examples']}): champion / challenger accuracy | "
              f"{_ci(evaluation['champion'])} / {_ci(evaluation['challenger'])}; difference "
              f"{_ci(evaluation['difference'])} |")  # fmt: skip
    for week, row in challenger_weeks.items():
        print(f"| live accuracy, challenger ({week}, sample) | {_ci(row['accuracy'])}, "
              f"n={row['n']} |")  # fmt: skip
    print(f"| cycle | {c['status']}: {c['message']} |")
    print(f"| wall time | {result['wall_seconds'] / 60:.1f} min |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--steps", type=int, default=50, help="training steps per model")
    parser.add_argument("--shift", default="all", choices=[*sorted(SETTINGS), "all"])
    parser.add_argument("--learning-rate", type=float, default=5e-3)
    parser.add_argument("--max-length", type=int, default=48, help="tokens per message")
    parser.add_argument(
        "--embeddings",
        default="hashing",
        choices=["hashing", "minilm"],
        help="embeddings of the input-drift check (production default: minilm)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="assay-drift-replay-") as folder:
        setup_django(Path(folder))
        import torch

        torch.set_num_threads(2)
        started = time.monotonic()
        shifts = sorted(SETTINGS) if args.shift == "all" else [args.shift]
        runs = {
            shift: run(
                args.data,
                steps=args.steps,
                seed=args.seed,
                max_length=args.max_length,
                embeddings=args.embeddings,
                learning_rate=args.learning_rate,
                shift=shift,
            )
            for shift in shifts
        }
    result = {
        "benchmark": "drift_replay",
        "runs": runs,
        "wall_seconds": round(time.monotonic() - started, 1),
        "machine": machine_info(),
    }
    for shift, one in runs.items():
        print(f"\n{shift}: {SETTINGS[shift]} ({one['wall_seconds'] / 60:.1f} min)")
        print_table(one)
    results_write(args.output, result)


if __name__ == "__main__":
    main()
