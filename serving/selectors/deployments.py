"""Read side of deployments: traffic numbers for pages and the API."""

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from curation.models import Project
from serving.models import Application, Deployment, Experiment, RequestLog

LATENCY_SAMPLE = 2000
WINDOW = timedelta(hours=1)


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def deployment_stats(deployment: Deployment) -> dict:
    """Requests in all and in the last hour, throughput over that hour, error rate, and
    p50/p95 latency of the latest requests."""
    logged = RequestLog.objects.filter(deployment=deployment)
    since = timezone.now() - WINDOW
    recent = list(
        logged.filter(created_at__gte=since).values_list(
            "latency_ms", "completion_tokens", "prompt_tokens", "error"
        )
    )
    latencies = list(
        logged.filter(error="")
        .order_by("-created_at")
        .values_list("latency_ms", flat=True)[:LATENCY_SAMPLE]
    )
    tokens = sum(c for _, c, _, _ in recent)
    return {
        "requests": logged.count(),
        "requests_last_hour": len(recent),
        "requests_per_minute": round(len(recent) / 60, 2),
        "completion_tokens_per_second": round(tokens / WINDOW.total_seconds(), 3),
        "error_rate": (sum(1 for *_, e in recent if e) / len(recent)) if recent else None,
        "latency_p50_ms": _percentile(latencies, 0.5),
        "latency_p95_ms": _percentile(latencies, 0.95),
    }


def deployments_for_project(project: Project) -> QuerySet[Deployment]:
    return Deployment.objects.filter(project=project).select_related("training_run", "run")


def experiments_for_project(project: Project) -> QuerySet[Experiment]:
    return Experiment.objects.filter(project=project).prefetch_related("variants__deployment")


def applications_for_project(project: Project) -> QuerySet[Application]:
    return Application.objects.filter(project=project)


def recent_requests(*, deployment: Deployment | None = None, experiment: Experiment | None = None,
                    limit: int = 20) -> list[RequestLog]:  # fmt: skip
    logged = RequestLog.objects.select_related("variant__deployment", "application")
    if deployment is not None:
        logged = logged.filter(deployment=deployment)
    if experiment is not None:
        logged = logged.filter(experiment=experiment)
    return list(logged.order_by("-created_at", "-id")[:limit])
