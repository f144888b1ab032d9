"""Cost: compute seconds × the price per hour of the hardware kind
(``settings.LOOP_PRICE_PER_HOUR``), for training runs, deployments, retraining cycles and
per 1,000 requests; and the project budget that warns, then refuses a launch."""

from django.conf import settings
from django.db.models import Sum

from curation.exceptions import AssayError
from curation.models import Project
from loop.selectors.policy import loop_policy
from serving.models import Deployment, RequestLog
from training.models import TrainingRun


def price_per_hour(hardware: str) -> float:
    prices = settings.LOOP_PRICE_PER_HOUR
    return float(prices.get(hardware, prices.get("cpu", 0.0)))


def _hardware(estimate: dict) -> str:
    return "cuda" if estimate.get("device") == "cuda" else "cpu"


def training_run_cost(training_run: TrainingRun) -> dict:
    """Seconds, hardware and cost of a run (its estimate while it has not finished)."""
    hardware = _hardware(training_run.estimate or {})
    measured = training_run.train_seconds is not None
    seconds = (
        training_run.train_seconds
        if measured
        else (training_run.estimate or {}).get("total_seconds", 0.0)
    )
    return {"seconds": float(seconds or 0.0), "hardware": hardware, "measured": measured,
            "cost": float(seconds or 0.0) / 3600 * price_per_hour(hardware)}  # fmt: skip


def deployment_cost(deployment: Deployment) -> dict:
    """Busy compute seconds (the sum of request latencies), tokens served, cost, and cost
    per 1,000 requests."""
    totals = RequestLog.objects.filter(deployment=deployment).aggregate(
        ms=Sum("latency_ms"), prompt=Sum("prompt_tokens"), completion=Sum("completion_tokens")
    )
    requests = RequestLog.objects.filter(deployment=deployment).count()
    seconds = (totals["ms"] or 0.0) / 1000
    hardware = "cpu"
    cost = seconds / 3600 * price_per_hour(hardware)
    return {"seconds": seconds, "hardware": hardware, "requests": requests,
            "tokens": (totals["prompt"] or 0) + (totals["completion"] or 0), "cost": cost,
            "cost_per_1000_requests": cost / requests * 1000 if requests else None}  # fmt: skip


def project_spent(project: Project) -> float:
    runs = sum(training_run_cost(r)["cost"] for r in project.training_runs.all())
    served = sum(deployment_cost(d)["cost"] for d in project.deployments.all())
    return runs + served


def budget_check_launch(*, project: Project, estimate_seconds: float, hardware: str) -> str:
    """Refuse (AssayError naming the budget, the spending and the estimate) a launch that
    would take the project over its budget; return a warning past the warn share."""
    policy = loop_policy(project)
    if policy.budget is None:
        return ""
    spent = project_spent(project)
    estimate = estimate_seconds / 3600 * price_per_hour(hardware)
    if spent + estimate > policy.budget:
        raise AssayError(
            f"Over budget: this launch is estimated at {estimate:.4f} ({estimate_seconds:.0f} s "
            f"of {hardware} at {price_per_hour(hardware):.2f}/h); {project.name} has spent "
            f"{spent:.4f} of its budget of {policy.budget:.4f}."
        )
    if spent + estimate > policy.budget * policy.budget_warn_share:
        return (
            f"Budget warning: after this launch {project.name} will have spent "
            f"{spent + estimate:.4f} of its budget of {policy.budget:.4f}."
        )
    return ""
