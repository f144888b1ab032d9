"""Retraining triggers: creating them (validated) and evaluating them (the periodic job).

A trigger fires on the project's live numbers (the latest monitoring window of its active
deployments), on newly accepted examples, or on a cron schedule. A firing writes its reason
— the rule, the numbers, the window — on a new `RetrainingCycle`, unless a cycle of the
project is still open (one chain at a time)."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from curation.exceptions import AssayError
from curation.models import Example, Project, ReviewStatus
from loop.core import drift
from loop.core.cron import CronError, parse_cron
from loop.models import MonitoringSnapshot, RetrainingCycle, RetrainingTrigger
from loop.selectors.policy import loop_policy
from serving.models import Deployment

Kind = RetrainingTrigger.Kind


def _check_metric(kind: str, metric: str, threshold) -> float:
    known = drift.METRICS.get(metric)
    if known is None:
        raise AssayError(
            f"'{metric}' is not a monitored metric; choose one of "
            f"{', '.join(sorted(drift.METRICS))}."
        )
    try:
        return drift.check_thresholds({metric: threshold})[metric]
    except drift.ThresholdError as exc:
        raise AssayError(str(exc)) from exc


@transaction.atomic
def retraining_trigger_create(
    *,
    project: Project,
    kind: str,
    metric: str = "",
    threshold: float | None = None,
    count: int | None = None,
    cron: str = "",
    user=None,
) -> RetrainingTrigger:
    """A new trigger; bad input raises AssayError naming what is wrong and creates nothing."""
    if kind not in Kind.values:
        raise AssayError(f"Unknown trigger kind '{kind}'; use one of {', '.join(Kind.values)}.")
    fields: dict = {}
    if kind in (Kind.METRIC_BELOW, Kind.DRIFT_ABOVE):
        fields = {"metric": metric, "threshold": _check_metric(kind, metric, threshold)}
    elif kind == Kind.NEW_EXAMPLES:
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise AssayError(f"'count' must be a whole number of at least 1; got {count!r}.")
        fields = {"count": count}
    else:
        try:
            parse_cron(cron)
        except CronError as exc:
            raise AssayError(f"Bad cron expression: {exc}") from exc
        fields = {"cron": cron.strip()}
    return RetrainingTrigger.objects.create(project=project, kind=kind, created_by=user, **fields)


def _recent_snapshots(trigger: RetrainingTrigger) -> list[MonitoringSnapshot]:
    """Windows of the project's active deployments measured since the trigger was last
    checked (a breach seen in any of them counts), with enough requests, newest first."""
    since = trigger.last_checked_at or trigger.created_at
    return list(
        MonitoringSnapshot.objects.filter(
            deployment__project=trigger.project,
            deployment__status=Deployment.Status.ACTIVE,
            requests__gte=loop_policy(trigger.project).min_window_requests,
            computed_at__gte=since,
        )
        .select_related("deployment")
        .order_by("-computed_at")
    )


def _metric_reason(trigger: RetrainingTrigger) -> dict | None:
    below = trigger.kind == Kind.METRIC_BELOW
    for snapshot in _recent_snapshots(trigger):
        value = snapshot.metrics.get(trigger.metric)
        if value is None:
            continue
        if (value < trigger.threshold) if below else (value > trigger.threshold):
            return {
                "rule": f"{trigger.metric} {'<' if below else '>'} {trigger.threshold:g}",
                "numbers": {trigger.metric: value, "requests": snapshot.requests},
                "deployment": snapshot.deployment.name,
                "window": [snapshot.window_start.isoformat(), snapshot.window_end.isoformat()],
            }
    return None


def _since(trigger: RetrainingTrigger) -> datetime:
    last = trigger.project.retraining_cycles.order_by("-created_at").first()
    return max(filter(None, [trigger.created_at, last.created_at if last else None]))


def _examples_reason(trigger: RetrainingTrigger, now: datetime) -> dict | None:
    since = _since(trigger)
    accepted = Example.objects.filter(
        project=trigger.project, review_status=ReviewStatus.ACCEPTED, reviewed_at__gt=since
    ).count()
    if accepted < trigger.count:
        return None
    return {"rule": f"{trigger.count} newly accepted examples",
            "numbers": {"accepted": accepted},
            "window": [since.isoformat(), now.isoformat()]}  # fmt: skip


def _schedule_reason(trigger: RetrainingTrigger, now: datetime) -> dict | None:
    since = trigger.last_checked_at or trigger.created_at
    schedule = parse_cron(trigger.cron)
    if not schedule.fired_between(since, now):
        return None
    return {"rule": f"schedule '{trigger.cron}'", "numbers": {},
            "window": [since.isoformat(), now.isoformat()]}  # fmt: skip


def trigger_reason(trigger: RetrainingTrigger, *, now: datetime) -> dict | None:
    """Why ``trigger`` fires now, or None."""
    if trigger.kind in (Kind.METRIC_BELOW, Kind.DRIFT_ABOVE):
        return _metric_reason(trigger)
    if trigger.kind == Kind.NEW_EXAMPLES:
        return _examples_reason(trigger, now)
    return _schedule_reason(trigger, now)


def triggers_evaluate(*, project: Project, now: datetime | None = None) -> list[RetrainingCycle]:
    """Evaluate the project's enabled triggers; the first that fires starts a cycle (none
    while another cycle is open)."""
    from loop.services.cycles import retraining_cycle_start

    now = now or timezone.now()
    started = []
    for trigger in project.retraining_triggers.filter(enabled=True):
        reason = trigger_reason(trigger, now=now)
        RetrainingTrigger.objects.filter(pk=trigger.pk).update(last_checked_at=now)
        if reason is None:
            continue
        open_cycles = [c for c in project.retraining_cycles.all() if c.is_open]
        if open_cycles or started:
            continue
        started.append(retraining_cycle_start(project=project, trigger=trigger, reason=reason))
        RetrainingTrigger.objects.filter(pk=trigger.pk).update(last_fired_at=now)
    return started
