"""Loop API (under ``/api/``): the project's loop policy, triggers, retraining cycles
with their lineage, alerts, monitoring windows, feedback review and the loop tick.
Permissions as on the pages (`loop.views.pages`)."""

from datetime import datetime

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from curation.api.schemas import ErrorOut, InputSchema
from curation.exceptions import AssayError
from curation.models import Example, ExampleSource, ReviewStatus
from curation.permissions import Action, project_for_user
from loop.models import Alert, MonitoringSnapshot, RetrainingCycle, RetrainingTrigger
from loop.selectors.monitoring import thresholds_in_force
from loop.selectors.policy import loop_policy

router = Router()
ERRORS = {400: ErrorOut, 403: ErrorOut}


# -- policy --------------------------------------------------------------------------------


class PolicyIn(InputSchema):
    """Only the fields sent change; ``budget: null`` removes the budget."""

    alert_thresholds: dict[str, float] | None = None
    webhook_url: str | None = None
    window_hours: int | None = None
    min_window_requests: int | None = None
    feedback_batch_size: int | None = None
    budget: float | None = None
    budget_warn_share: float | None = None
    challenger_share: float | None = None
    live_quality_sample_size: int | None = None


class PolicyOut(Schema):
    project_id: int
    alert_thresholds: dict
    thresholds_in_force: dict
    webhook_url: str
    window_hours: int
    min_window_requests: int
    feedback_batch_size: int
    budget: float | None
    budget_warn_share: float
    challenger_share: float
    live_quality_sample_size: int


def _policy_out(project) -> dict:
    policy = loop_policy(project)
    names = [n for n in PolicyOut.model_fields if n not in ("project_id", "thresholds_in_force")]
    return {"project_id": project.pk, "thresholds_in_force": thresholds_in_force(project),
            **{n: getattr(policy, n) for n in names}}  # fmt: skip


@router.get("/projects/{project_id}/loop/policy", response=PolicyOut)
def policy_detail(request, project_id: int):
    return _policy_out(project_for_user(request.auth, project_id, Action.VIEW))


@router.patch("/projects/{project_id}/loop/policy", response={200: PolicyOut, **ERRORS})
def policy_update(request, project_id: int, payload: PolicyIn):
    """Thresholds, webhook, window, batch size, challenger share (serve); the budget
    fields also need manage. A bad value is a 400 naming it, and nothing changes."""
    from loop.services.policy import loop_policy_update

    project = project_for_user(request.auth, project_id, Action.SERVE)
    values = payload.model_dump(exclude_unset=True)
    if values.get("alert_thresholds") is None:
        values.pop("alert_thresholds", None)
    loop_policy_update(project=project, user=request.auth, values=values)
    return _policy_out(project)


# -- triggers ------------------------------------------------------------------------------


class TriggerIn(InputSchema):
    kind: str
    metric: str = ""
    threshold: float | None = None
    count: int | None = None
    cron: str = ""


class TriggerOut(Schema):
    id: int
    project_id: int
    kind: str
    metric: str
    threshold: float | None
    count: int | None
    cron: str
    enabled: bool
    last_checked_at: datetime | None
    last_fired_at: datetime | None
    created_at: datetime


@router.get("/projects/{project_id}/loop/triggers", response=list[TriggerOut])
def trigger_list(request, project_id: int):
    project = project_for_user(request.auth, project_id, Action.VIEW)
    return RetrainingTrigger.objects.filter(project=project)


@router.post("/projects/{project_id}/loop/triggers", response={201: TriggerOut, **ERRORS})
def trigger_create(request, project_id: int, payload: TriggerIn):
    from loop.services.triggers import retraining_trigger_create

    project = project_for_user(request.auth, project_id, Action.SERVE)
    trigger = retraining_trigger_create(project=project, user=request.auth, **payload.dict())
    return Status(201, trigger)


# -- cycles --------------------------------------------------------------------------------


class CycleOut(Schema):
    id: int
    project_id: int
    trigger_id: int | None
    status: str
    reason: dict
    message: str
    champion_id: int | None
    version_id: int | None
    version_number: int | None
    version_status: str | None
    training_run_id: int | None
    evaluation: dict
    challenger_id: int | None
    experiment_id: int | None
    created_at: datetime
    updated_at: datetime
    lineage: list[dict] = []


def _cycle_out(cycle: RetrainingCycle, *, lineage: bool = False) -> dict:
    from loop.selectors.cycles import cycle_lineage

    names = [n for n in CycleOut.model_fields if n not in ("version_number", "version_status",
                                                          "lineage")]  # fmt: skip
    version = cycle.version
    return {
        **{n: getattr(cycle, n) for n in names},
        "version_number": version.number if version else None,
        "version_status": version.status if version else None,
        "lineage": [{k: v for k, v in step.items()} for step in cycle_lineage(cycle)]
        if lineage
        else [],
    }


@router.get("/projects/{project_id}/loop/cycles", response=list[CycleOut])
def cycle_list(request, project_id: int):
    from loop.selectors.cycles import cycles_for_project

    project = project_for_user(request.auth, project_id, Action.VIEW)
    return [_cycle_out(c) for c in cycles_for_project(project)]


@router.get("/loop/cycles/{cycle_id}", response=CycleOut)
def cycle_detail(request, cycle_id: int):
    """One cycle with its lineage: trigger → version → run → evaluation → challenger →
    experiment → verdict, each step with its state, text and page."""
    cycle = get_object_or_404(RetrainingCycle, pk=cycle_id)
    project_for_user(request.auth, cycle.project_id, Action.VIEW)
    return _cycle_out(cycle, lineage=True)


@router.post("/loop/cycles/{cycle_id}/experiment", response={200: CycleOut, **ERRORS})
def cycle_experiment_start(request, cycle_id: int):
    from loop.services.cycles import retraining_cycle_experiment_start

    cycle = get_object_or_404(RetrainingCycle, pk=cycle_id)
    project_for_user(request.auth, cycle.project_id, Action.SERVE)
    cycle = retraining_cycle_experiment_start(cycle=cycle, user=request.auth)
    return _cycle_out(cycle, lineage=True)


# -- monitoring ----------------------------------------------------------------------------


class AlertOut(Schema):
    id: int
    deployment_id: int
    deployment: str
    metric: str
    value: float
    threshold: float
    window_start: datetime
    window_end: datetime
    message: str
    webhook_status: str
    created_at: datetime

    @staticmethod
    def resolve_deployment(alert: Alert) -> str:
        return alert.deployment.name


class SnapshotOut(Schema):
    id: int
    deployment_id: int
    window_start: datetime
    window_end: datetime
    requests: int
    metrics: dict
    details: dict
    computed_at: datetime


@router.get("/projects/{project_id}/loop/alerts", response=list[AlertOut])
def alert_list(request, project_id: int):
    project = project_for_user(request.auth, project_id, Action.VIEW)
    return Alert.objects.filter(project=project).select_related("deployment")


@router.get("/projects/{project_id}/loop/snapshots", response=list[SnapshotOut])
def snapshot_list(request, project_id: int, deployment: str = ""):
    """Monitoring windows, oldest first; ``deployment`` (a name) narrows them."""
    project = project_for_user(request.auth, project_id, Action.VIEW)
    snapshots = MonitoringSnapshot.objects.filter(deployment__project=project)
    if deployment:
        snapshots = snapshots.filter(deployment__name=deployment)
    return snapshots.order_by("deployment_id", "window_start")


def _without(row: dict, name: str, **ids) -> dict:
    """A summary row with its model object replaced by ids (JSON-ready)."""
    return {**{k: v for k, v in row.items() if k != name}, **ids}


@router.get("/projects/{project_id}/loop/costs", response=dict)
def cost_summary(request, project_id: int):
    """Spending per training run, deployment and cycle, per 1,000 requests, and the budget."""
    from loop.selectors.costs import project_cost_summary

    project = project_for_user(request.auth, project_id, Action.VIEW)
    summary = project_cost_summary(project)
    summary["runs"] = [_without(r, "training_run", training_run_id=r["training_run"].pk)
                       for r in summary["runs"]]  # fmt: skip
    summary["deployments"] = [
        _without(d, "deployment", deployment_id=d["deployment"].pk, deployment=d["deployment"].name)
        for d in summary["deployments"]
    ]
    summary["cycles"] = [_without(c, "cycle", cycle_id=c["cycle"].pk) for c in summary["cycles"]]
    return summary


@router.post("/projects/{project_id}/loop/tick", response={200: dict, **ERRORS})
def tick(request, project_id: int):
    """Run the loop's periodic job for this project now; returns its report."""
    from loop.services.tick import loop_tick

    project = project_for_user(request.auth, project_id, Action.SERVE)
    return loop_tick(project=project)


# -- feedback ------------------------------------------------------------------------------


class FeedbackOut(Schema):
    id: int
    external_id: str
    fields: dict
    resolved_label: str
    review_status: str
    provenance: dict
    created_at: datetime


class FeedbackAcceptIn(InputSchema):
    label: str = ""
    response: str = ""
    note: str = ""


class FeedbackRejectIn(InputSchema):
    note: str = ""


def _feedback(project, feedback_id: int) -> Example:
    example = Example.objects.filter(
        project=project, pk=feedback_id, source=ExampleSource.FEEDBACK
    ).first()
    if example is None:
        raise AssayError(f"No feedback example {feedback_id} in {project.name}.")
    return example


@router.get("/projects/{project_id}/loop/feedback", response=list[FeedbackOut])
def feedback_list(request, project_id: int, status: str = ReviewStatus.PENDING):
    """Feedback examples (pending by default; ``status`` accepted / rejected / all)."""
    project = project_for_user(request.auth, project_id, Action.VIEW)
    examples = Example.objects.filter(project=project, source=ExampleSource.FEEDBACK)
    if status != "all":
        if status not in ReviewStatus.values:
            raise AssayError(f"Unknown status '{status}'; use {', '.join(ReviewStatus.values)} "
                             "or all.")  # fmt: skip
        examples = examples.filter(review_status=status)
    return examples.order_by("id")


@router.post(
    "/projects/{project_id}/loop/feedback/{feedback_id}/accept",
    response={200: FeedbackOut, **ERRORS},
)
def feedback_accept(request, project_id: int, feedback_id: int, payload: FeedbackAcceptIn):
    """Accept (classification: with ``label``; generation: with ``response`` as the
    corrected response). Returns the example a version will take."""
    from loop.services.feedback import feedback_example_accept

    project = project_for_user(request.auth, project_id, Action.ANNOTATE)
    return feedback_example_accept(example=_feedback(project, feedback_id), user=request.auth,
                                   **payload.dict())  # fmt: skip


@router.post(
    "/projects/{project_id}/loop/feedback/{feedback_id}/reject",
    response={200: FeedbackOut, **ERRORS},
)
def feedback_reject(request, project_id: int, feedback_id: int, payload: FeedbackRejectIn):
    from loop.services.feedback import feedback_example_reject

    project = project_for_user(request.auth, project_id, Action.ANNOTATE)
    return feedback_example_reject(example=_feedback(project, feedback_id), user=request.auth,
                                   note=payload.note)  # fmt: skip


# -- live quality --------------------------------------------------------------------------


class LiveQualityDrawIn(InputSchema):
    deployment: str
    size: int | None = None
    seed: int = 0


class LiveQualitySampleOut(Schema):
    id: int | None
    deployment: str
    size: int
    strata: dict
    items: int
    sent_to_label_studio: int


@router.get("/projects/{project_id}/loop/live-quality", response=list[dict])
def live_quality_list(request, project_id: int, deployment: str = ""):
    """Live quality per deployment and ISO week: ``n`` labelled answers of ``sampled``,
    accuracy and macro-F1 (classification) or ROUGE-L ×100 (generation), each
    ``{value, low, high}`` (95% bootstrap interval); ``deployment`` (a name) narrows it."""
    from loop.selectors.live_quality import live_quality_for_project

    project = project_for_user(request.auth, project_id, Action.VIEW)
    rows = live_quality_for_project(project)
    return [{"deployment": r["deployment"].name, "deployment_id": r["deployment"].pk,
             "metric": r["metric"], "weeks": r["weeks"]}
            for r in rows if not deployment or r["deployment"].name == deployment]  # fmt: skip


@router.post(
    "/projects/{project_id}/loop/live-quality/samples",
    response={201: LiveQualitySampleOut, **ERRORS},
)
def live_quality_draw(request, project_id: int, payload: LiveQualityDrawIn):
    """Draw a stratified sample (``size`` per variant and week, default the policy's) and
    send it to Label Studio. A size out of range is a 400 naming it; nothing is drawn."""
    from loop.services.live_quality import live_quality_push, live_quality_sample_draw

    project = project_for_user(request.auth, project_id, Action.SERVE)
    deployment = project.deployments.filter(name=payload.deployment).first()
    if deployment is None:
        raise AssayError(f"No deployment '{payload.deployment}' in {project.name}.")
    sample = live_quality_sample_draw(deployment=deployment, size=payload.size,
                                      seed=payload.seed, user=request.auth)  # fmt: skip
    pushed = live_quality_push(sample=sample)
    return Status(201, {"id": sample.pk, "deployment": deployment.name, "size": sample.size,
                        "strata": sample.strata,
                        "items": sample.items.count() if sample.pk else 0,
                        "sent_to_label_studio": pushed})  # fmt: skip


@router.post("/projects/{project_id}/loop/live-quality/pull", response={200: dict, **ERRORS})
def live_quality_pull(request, project_id: int):
    """Read the labels people gave in Label Studio; returns the counts."""
    from loop.services.live_quality import live_quality_pull as pull

    project = project_for_user(request.auth, project_id, Action.SERVE)
    return pull(project=project)
