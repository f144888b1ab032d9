"""Loop pages: monitoring (windows, charts, alerts, the policy form), feedback review,
triggers and retraining cycles (with "Run loop now"), a cycle's lineage, and costs.

Permissions: everything is visible with ``view``; the policy, triggers, the loop tick and
starting a proposed experiment need ``serve`` (a budget change also ``manage``, see
`loop.services.policy`); reviewing feedback needs ``annotate`` like synthetic review, and
pushing it to Label Studio ``edit_data`` like any push."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from curation.exceptions import AssayError
from curation.models import Example, ExampleSource, ReviewStatus
from curation.permissions import Action, project_for_user, user_can
from loop.core import drift
from loop.models import RetrainingCycle, RetrainingTrigger
from loop.selectors.costs import project_cost_summary
from loop.selectors.cycles import cycle_lineage, cycles_for_project
from loop.selectors.live_quality import live_quality_for_project
from loop.selectors.monitoring import (
    alerts_for_project,
    snapshot_values,
    snapshots_for_project,
    thresholds_in_force,
)
from loop.selectors.policy import loop_policy
from loop.views.charts import deployment_charts, live_quality_chart
from loop.views.forms import policy_values, trigger_values

FEEDBACK_QUEUE_SIZE = 25


def _latest_rows(snapshot, thresholds: dict) -> list[dict]:
    """The latest window's metrics with their thresholds, in `drift.METRICS` order."""
    if snapshot is None:
        return []
    breached = {b["metric"] for b in drift.breaches(snapshot.metrics, thresholds)}
    return [
        {"name": name, "title": metric.title, "value": snapshot.metrics[name],
         "threshold": thresholds[name], "bad_when": metric.bad_when,
         "breached": name in breached}
        for name, metric in drift.METRICS.items()
        if snapshot.metrics.get(name) is not None
    ]  # fmt: skip


def _threshold_rows(policy, thresholds: dict) -> list[dict]:
    saved = policy.alert_thresholds or {}
    return [{"name": name, "title": metric.title, "bad_when": metric.bad_when,
             "saved": saved.get(name, ""), "default": metric.threshold,
             "in_force": thresholds[name]} for name, metric in drift.METRICS.items()]  # fmt: skip


@login_required
def monitoring(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for_user(request.user, project_id, Action.VIEW)
    policy = loop_policy(project)
    thresholds = thresholds_in_force(project)
    rows = []
    for row in snapshots_for_project(project):
        windows = [snapshot_values(s) for s in row["snapshots"]]
        latest = row["snapshots"][-1] if row["snapshots"] else None
        rows.append({**row, "latest": latest, "metrics": _latest_rows(latest, thresholds),
                     "charts": deployment_charts(windows, thresholds)})  # fmt: skip
    context = {
        "project": project,
        "rows": rows,
        "threshold_rows": _threshold_rows(policy, thresholds),
        "alerts": alerts_for_project(project),
        "live_quality": [
            {**row, "chart": live_quality_chart(row["weeks"], row["metric"])}
            for row in live_quality_for_project(project)
        ],  # fmt: skip
        "deployments": project.deployments.filter(status="active").order_by("name"),
        "policy": policy,
        "can_serve": user_can(request.user, project, Action.SERVE),
        "can_manage": user_can(request.user, project, Action.MANAGE),
    }
    return render(request, "loop/monitoring.html", context)


@login_required
@require_POST
def policy_update(request: HttpRequest, project_id: int) -> HttpResponse:
    from loop.services.policy import loop_policy_update

    project = project_for_user(request.user, project_id, Action.SERVE)
    try:
        values = policy_values(request.POST, can_manage=user_can(request.user, project,
                                                                 Action.MANAGE))  # fmt: skip
        loop_policy_update(project=project, user=request.user, values=values)
    except AssayError as exc:
        messages.error(request, f"Nothing was changed: {exc}")
    else:
        messages.success(request, "Loop policy saved.")
    return redirect("loop-monitoring", project_id=project.pk)


@login_required
@require_POST
def live_quality(request: HttpRequest, project_id: int) -> HttpResponse:
    """Draw a live-quality sample of a deployment and send it to Label Studio
    (``action=draw``), or pull the labels people gave (``action=pull``)."""
    from loop.services.live_quality import live_quality_pull, live_quality_sample_draw

    project = project_for_user(request.user, project_id, Action.SERVE)
    action = request.POST.get("action", "")
    try:
        if action == "draw":
            deployment = project.deployments.filter(name=request.POST.get("deployment", "")).first()
            if deployment is None:
                raise AssayError("Choose a deployment of this project to sample.")
            raw = request.POST.get("size", "").strip()
            size = _whole(raw, "live_quality_sample_size") if raw else None
            sample = live_quality_sample_draw(deployment=deployment, size=size, user=request.user)
        elif action == "pull":
            counts = live_quality_pull(project=project)
            messages.success(request, f"Labels pulled: {counts['labelled']} new or changed.")
        else:
            raise AssayError("Choose draw or pull.")
    except AssayError as exc:
        messages.error(request, f"Nothing was changed: {exc}" if action == "draw" else str(exc))
    else:
        if action == "draw":
            _send(request, sample)
    return redirect(f"{reverse('loop-monitoring', args=[project.pk])}#live-quality")


def _send(request: HttpRequest, sample) -> None:
    from loop.services.live_quality import live_quality_push

    drawn = sample.items.count() if sample.pk else 0
    try:
        pushed = live_quality_push(sample=sample)
    except AssayError as exc:
        messages.error(request, f"{drawn} answers drawn but not sent to Label Studio ({exc}); "
                       "the loop tick sends them once it answers.")  # fmt: skip
    else:
        messages.success(request, f"{drawn} answers of {sample.deployment.name} drawn, "
                         f"{pushed} sent to Label Studio for labelling.")  # fmt: skip


def _whole(raw: str, name: str) -> int:
    try:
        return int(raw)
    except ValueError as exc:
        raise AssayError(f"'{name}' must be a whole number; got '{raw}'.") from exc


@login_required
def feedback_queue(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for_user(request.user, project_id, Action.ANNOTATE)
    feedback = Example.objects.filter(project=project, source=ExampleSource.FEEDBACK)
    pending = feedback.filter(review_status=ReviewStatus.PENDING).order_by("id")
    context = {
        "project": project,
        "pending": pending[:FEEDBACK_QUEUE_SIZE],
        "pending_count": pending.count(),
        "accepted_count": feedback.filter(review_status=ReviewStatus.ACCEPTED).count(),
        "rejected_count": feedback.filter(review_status=ReviewStatus.REJECTED).count(),
        "can_push": user_can(request.user, project, Action.EDIT_DATA),
        "response_field": project.content_fields[-1],
    }
    return render(request, "loop/feedback.html", context)


@login_required
@require_POST
def feedback_decide(request: HttpRequest, project_id: int, feedback_id: int) -> HttpResponse:
    from loop.services.feedback import feedback_example_accept, feedback_example_reject

    project = project_for_user(request.user, project_id, Action.ANNOTATE)
    example = Example.objects.filter(
        project=project, pk=feedback_id, source=ExampleSource.FEEDBACK
    ).first()
    decision, note = request.POST.get("decision", ""), request.POST.get("note", "")
    try:
        if example is None:
            raise AssayError("No such feedback example in this project.")
        if decision == "accept":
            kept = feedback_example_accept(example=example, user=request.user, note=note,
                                           label=request.POST.get("label", ""))  # fmt: skip
        elif decision == "correct":
            kept = feedback_example_accept(
                example=example, user=request.user, note=note,
                label=request.POST.get("label", ""), response=request.POST.get("response", ""),
            )  # fmt: skip
            if not project.is_classification and kept.pk == example.pk:
                raise AssayError("Write the corrected response to correct this example.")
        elif decision == "reject":
            kept = feedback_example_reject(example=example, user=request.user, note=note)
        else:
            raise AssayError("Choose accept, correct or reject.")
    except AssayError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{kept.external_id}: {kept.get_review_status_display()}.")
    return redirect("loop-feedback", project_id=project.pk)


@login_required
@require_POST
def feedback_push(request: HttpRequest, project_id: int) -> HttpResponse:
    from loop.services.feedback import feedback_push_pending

    project = project_for_user(request.user, project_id, Action.EDIT_DATA)
    try:
        run = feedback_push_pending(project=project, force=True, created_by=request.user)
    except AssayError as exc:
        messages.error(request, str(exc))
        return redirect("loop-feedback", project_id=project.pk)
    if run is None:
        messages.error(request, "Nothing to push: no Label Studio link, or every pending "
                       "feedback example already has a task.")  # fmt: skip
        return redirect("loop-feedback", project_id=project.pk)
    return redirect("run-detail", run_id=run.pk)


@login_required
def triggers(request: HttpRequest, project_id: int) -> HttpResponse:
    """Triggers (list and the create form) and the project's retraining cycles."""
    from loop.services.triggers import retraining_trigger_create

    project = project_for_user(request.user, project_id, Action.VIEW)
    error = ""
    if request.method == "POST":
        project_for_user(request.user, project_id, Action.SERVE)
        try:
            trigger = retraining_trigger_create(project=project, user=request.user,
                                                **trigger_values(request.POST))  # fmt: skip
        except AssayError as exc:
            error = str(exc)
        else:
            messages.success(request, f"Trigger {trigger.pk} created: {trigger}.")
            return redirect("loop-triggers", project_id=project.pk)
    context = {
        "project": project,
        "triggers": project.retraining_triggers.all(),
        "cycles": cycles_for_project(project),
        "kinds": RetrainingTrigger.Kind.choices,
        "metrics": drift.METRICS,
        "can_serve": user_can(request.user, project, Action.SERVE),
        "error": error,
        "form": request.POST if request.method == "POST" else {},
    }
    return render(request, "loop/triggers.html", context, status=400 if error else 200)


@login_required
@require_POST
def tick(request: HttpRequest, project_id: int) -> HttpResponse:
    from loop.services.tick import loop_tick

    project = project_for_user(request.user, project_id, Action.SERVE)
    try:
        report = loop_tick(project=project)
    except AssayError as exc:
        messages.error(request, f"The loop stopped: {exc}")
    else:
        started = report["cycles_started"]
        messages.success(
            request,
            f"Loop ran: {len(report['snapshots'])} deployment(s) measured, "
            f"{len(started)} cycle(s) started, {len(report['cycles'])} open cycle(s) advanced; "
            f"reviews applied: {report['reviews']}.",
        )
    return redirect("loop-triggers", project_id=project.pk)


@login_required
def cycle_detail(request: HttpRequest, cycle_id: int) -> HttpResponse:
    cycle = get_object_or_404(_cycles(), pk=cycle_id)
    project = project_for_user(request.user, cycle.project_id, Action.VIEW)
    context = {
        "project": project,
        "cycle": cycle,
        "steps": cycle_lineage(cycle),
        "can_serve": user_can(request.user, project, Action.SERVE),
    }
    return render(request, "loop/cycle_detail.html", context)


def _cycles():
    return RetrainingCycle.objects.select_related(
        "trigger", "version", "training_run__run", "champion", "challenger", "experiment"
    )


@login_required
@require_POST
def cycle_experiment_start(request: HttpRequest, cycle_id: int) -> HttpResponse:
    from loop.services.cycles import retraining_cycle_experiment_start

    cycle = get_object_or_404(RetrainingCycle, pk=cycle_id)
    project_for_user(request.user, cycle.project_id, Action.SERVE)
    try:
        retraining_cycle_experiment_start(cycle=cycle, user=request.user)
    except AssayError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Experiment started.")
    return redirect("loop-cycle-detail", cycle_id=cycle.pk)


@login_required
def costs(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for_user(request.user, project_id, Action.VIEW)
    context = {"project": project, "summary": project_cost_summary(project)}
    return render(request, "loop/costs.html", context)
