"""Monitoring of a deployment over time windows, against the training version's own data.

`monitoring_snapshot_compute` measures one window of the request log: input drift (text
length KS, out-of-vocabulary rate, embedding drift as a domain-classifier AUC with an MMD
permutation p-value), output drift (label distribution; for generation output length,
refusal rate and overlap with the prompt), feedback and correction rates, latency and
error rate. Metrics past the project's thresholds become `Alert` rows (one per metric and
window), POSTed to the policy's webhook when one is set.
"""

import json
import logging
import urllib.request
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from curation.models import Split
from loop.core import drift
from loop.core.embeddings import text_embeddings
from loop.models import Alert, MonitoringSnapshot
from loop.selectors.policy import loop_policy
from serving.models import Deployment, FeedbackEvent, RequestLog

logger = logging.getLogger(__name__)


def _sample(items: list, size: int, seed: int = 0) -> list:
    if len(items) <= size:
        return items
    rng = np.random.default_rng(seed)
    return [items[i] for i in sorted(rng.choice(len(items), size, replace=False))]


def reference_data(deployment: Deployment) -> dict:
    """The training version's train split: input texts and (classification) labels."""
    version = deployment.training_run.version
    first = version.project.content_fields[0]
    rows = list(version.members.filter(split=Split.TRAIN).values_list("fields", "label"))
    rows = _sample(rows, settings.LOOP_DRIFT_SAMPLE * 4)
    return {
        "texts": [str(fields.get(first, "")) for fields, _ in rows],
        "labels": [label for _, label in rows],
        "outputs": [str(fields.get(version.project.content_fields[-1], "")) for fields, _ in rows],
    }


def _request_texts(log: RequestLog) -> list[tuple[str, str]]:
    """(input, output) pairs of one logged request."""
    if log.endpoint == "chat":
        messages = (log.input or {}).get("messages", [])
        prompt = next((m.get("content", "") for m in reversed(messages)
                       if isinstance(m, dict) and m.get("role") == "user"), "")  # fmt: skip
        return [(str(prompt), str((log.output or {}).get("text", "")))]
    texts = (log.input or {}).get("texts", [])
    labels = (log.output or {}).get("labels", []) + [""] * len(texts)
    return [(str(t), str(labels[i])) for i, t in enumerate(texts)]


def _feedback_rates(logs: list[RequestLog]) -> dict:
    events = FeedbackEvent.objects.filter(request__in=[log.pk for log in logs])
    negative, corrected = set(), set()
    for request_id, name, value in events.values_list("request_id", "name", "value"):
        if name == "correction":
            corrected.add(request_id)
            negative.add(request_id)
        elif (name == "thumbs" and value == 0) or (name == "rating" and value <= 2):
            negative.add(request_id)
    n = len(logs)
    return {
        "negative_feedback_rate": len(negative) / n if n else None,
        "correction_rate": len(corrected) / n if n else None,
    }


def _input_drift(reference: dict, inputs: list[str]) -> tuple[dict, dict]:
    lengths = drift.ks_drift([len(t) for t in reference["texts"]], [len(t) for t in inputs])
    oov = drift.oov_rate(reference["texts"], inputs)
    sample = settings.LOOP_DRIFT_SAMPLE
    ref_texts, cur_texts = _sample(reference["texts"], sample), _sample(inputs, sample)
    kind = settings.LOOP_EMBEDDINGS
    embedded = text_embeddings(ref_texts + cur_texts, kind=kind)
    ref_emb, cur_emb = embedded[: len(ref_texts)], embedded[len(ref_texts) :]
    auc = drift.domain_classifier_auc(ref_emb, cur_emb)
    mmd = drift.mmd_permutation_test(ref_emb, cur_emb, permutations=100)
    metrics = {"length_ks": lengths["statistic"], "oov_rate": oov["rate"], "embedding_auc": auc}
    details = {"length_p_value": lengths["p_value"], "mmd": mmd["mmd"],
               "mmd_p_value": mmd["p_value"], "embeddings": kind,
               "reference_size": len(reference["texts"])}  # fmt: skip
    return metrics, details


def _output_drift(deployment: Deployment, reference: dict, pairs: list[tuple[str, str]]) -> dict:
    outputs = [output for _, output in pairs]
    if deployment.task_type == "classification":
        result = drift.label_drift(
            drift.label_counts(reference["labels"]), drift.label_counts(outputs)
        )
        return {"label_tvd": result["tvd"], "label_p_value": result["p_value"],
                "label_counts": drift.label_counts(outputs)}  # fmt: skip
    lengths = drift.ks_drift([len(o) for o in reference["outputs"]], [len(o) for o in outputs])
    return {
        "output_length_ks": lengths["statistic"],
        "refusal_rate": drift.refusal_rate(outputs),
        "prompt_overlap": drift.prompt_overlap([p for p, _ in pairs], outputs),
    }


def window_metrics(deployment: Deployment, logs: list[RequestLog]) -> tuple[dict, dict]:
    """(metrics, details) of the logged requests ``logs`` of ``deployment``."""
    answered = [log for log in logs if not log.error]
    latencies = [log.latency_ms for log in logs]
    metrics: dict = {
        "error_rate": (len(logs) - len(answered)) / len(logs) if logs else None,
        "latency_p95_ms": float(np.percentile(latencies, 95)) if latencies else None,
        **_feedback_rates(logs),
    }
    details: dict = {
        "latency_p50_ms": float(np.percentile(latencies, 50)) if latencies else None,
        "tokens": sum(log.prompt_tokens + log.completion_tokens for log in logs),
    }
    pairs = [pair for log in answered for pair in _request_texts(log)]
    if pairs:
        reference = reference_data(deployment)
        inputs, extra = _input_drift(reference, [p for p, _ in pairs])
        output = _output_drift(deployment, reference, pairs)
        metrics.update(inputs)
        metrics.update({k: v for k, v in output.items() if k in drift.METRICS})
        details.update(extra)
        details.update({k: v for k, v in output.items() if k not in drift.METRICS})
    return metrics, details


def window_bounds(deployment: Deployment, at: datetime, hours: int) -> tuple[datetime, datetime]:
    """The window holding ``at`` on the grid that starts when the deployment started."""
    origin = deployment.started_at or deployment.created_at
    length = timedelta(hours=hours)
    index = max(0, int((at - origin) / length))
    return origin + index * length, origin + (index + 1) * length


@transaction.atomic
def monitoring_snapshot_compute(
    *, deployment: Deployment, at: datetime | None = None, last_requests: int | None = None
) -> MonitoringSnapshot:
    """Measure the window holding ``at`` (default now) and raise its alerts. With
    ``last_requests``, measure the deployment's latest that-many requests instead (the
    drift replay measures detection delay in requests this way)."""
    policy = loop_policy(deployment.project)
    at = at or timezone.now()
    start, end = window_bounds(deployment, at, policy.window_hours)
    logs = RequestLog.objects.filter(deployment=deployment).order_by("created_at", "id")
    if last_requests:
        chosen = list(logs.filter(created_at__lte=at).reverse()[:last_requests])[::-1]
        if chosen:
            start, end = chosen[0].created_at, chosen[-1].created_at
    else:
        chosen = list(logs.filter(created_at__gte=start, created_at__lt=end))
    metrics, details = window_metrics(deployment, chosen)
    snapshot, _ = MonitoringSnapshot.objects.update_or_create(
        deployment=deployment,
        window_start=start,
        defaults={"window_end": end, "requests": len(chosen), "metrics": metrics,
                  "details": details},
    )  # fmt: skip
    if len(chosen) >= policy.min_window_requests:
        alerts_raise(snapshot=snapshot, thresholds=policy.alert_thresholds or {})
    return snapshot


def alerts_raise(*, snapshot: MonitoringSnapshot, thresholds: dict) -> list[Alert]:
    """One alert per breached metric and window (a recomputed window raises it once)."""
    deployment = snapshot.deployment
    raised = []
    for breach in drift.breaches(snapshot.metrics, thresholds):
        metric = drift.METRICS[breach["metric"]]
        alert, created = Alert.objects.get_or_create(
            deployment=deployment,
            metric=breach["metric"],
            window_start=snapshot.window_start,
            defaults={
                "project": deployment.project,
                "value": breach["value"],
                "threshold": breach["threshold"],
                "window_end": snapshot.window_end,
                "message": (
                    f"{metric.title} of {deployment.name} is {breach['value']:.3g}, "
                    f"{metric.bad_when} the threshold {breach['threshold']:.3g} "
                    f"({snapshot.requests} requests, {snapshot.window_start:%Y-%m-%d %H:%M} "
                    f"to {snapshot.window_end:%Y-%m-%d %H:%M})."
                ),
                "details": {"snapshot_id": snapshot.pk},
            },
        )
        if created:
            transaction.on_commit(lambda alert=alert: alert_webhook_send(alert=alert))
            raised.append(alert)
    return raised


def alert_webhook_send(*, alert: Alert) -> str:
    """POST the alert to the project's webhook, when one is set; the outcome is kept on
    the alert. A failing webhook never fails monitoring."""
    url = loop_policy(alert.project).webhook_url
    if not url:
        return ""
    body = json.dumps({
        "project": alert.project.name, "deployment": alert.deployment.name,
        "metric": alert.metric, "value": alert.value, "threshold": alert.threshold,
        "window_start": alert.window_start.isoformat(),
        "window_end": alert.window_end.isoformat(), "message": alert.message,
    }).encode()  # fmt: skip
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=settings.LOOP_WEBHOOK_TIMEOUT_SECONDS) as r:
            status = f"sent ({r.status})"
    except Exception as exc:  # noqa: BLE001 - any failure is recorded, never raised
        status = f"failed: {exc}"[:200]
    Alert.objects.filter(pk=alert.pk).update(webhook_status=status)
    return status
