"""The lineage of a retraining cycle as steps a page or the API shows in order: trigger
firing → draft version → training run → evaluation against the champion → challenger
deployment → experiment → verdict. Each step says its state and what it links to."""

from django.urls import reverse

from curation.models import Project, VersionStatus
from loop.models import RetrainingCycle

Status = RetrainingCycle.Status


def cycles_for_project(project: Project):
    return RetrainingCycle.objects.filter(project=project).select_related(
        "trigger", "version", "training_run", "champion", "challenger", "experiment"
    )


def cycles_awaiting_approval(project: Project) -> list[RetrainingCycle]:
    """Cycles whose draft version waits for a data lead (the notice on the overview and
    versions pages)."""
    return [
        c
        for c in cycles_for_project(project).filter(status=Status.AWAITING_APPROVAL)
        if c.version is not None and c.version.status != VersionStatus.APPROVED
    ]


def _step(name: str, state: str, text: str, url: str = "", **extra) -> dict:
    return {"name": name, "state": state, "text": text, "url": url, **extra}


def _trigger_step(cycle: RetrainingCycle) -> dict:
    reason = cycle.reason or {}
    numbers = ", ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}"
                        for k, v in (reason.get("numbers") or {}).items())  # fmt: skip
    window = " to ".join(reason.get("window") or [])
    kind = cycle.trigger.get_kind_display() if cycle.trigger else "manual"
    text = f"{kind}: {reason.get('rule', '')}" + (f" ({numbers})" if numbers else "")
    return _step("Trigger", "done", text, window=window,
                 deployment=reason.get("deployment", ""))  # fmt: skip


def _version_step(cycle: RetrainingCycle) -> dict:
    version = cycle.version
    if version is None:
        return _step("Draft version", "failed" if cycle.status == Status.FAILED else "pending",
                     "No version was built.")  # fmt: skip
    url = reverse("version-detail", args=[cycle.project_id, version.number])
    state = {VersionStatus.APPROVED: "done", VersionStatus.REJECTED: "failed"}.get(
        version.status, "waiting"
    )
    return _step("Draft version", state, f"v{version.number}: {version.get_status_display()}",
                 url, version_status=version.status)  # fmt: skip


def _training_step(cycle: RetrainingCycle) -> dict:
    run = cycle.training_run
    if run is None:
        refused = cycle.status == Status.FAILED and "refused" in cycle.message
        return _step("Training run", "failed" if refused else "pending",
                     cycle.message if refused else "Not started.")  # fmt: skip
    status = run.run.get_status_display() if run.run else "queued"
    state = {"succeeded": "done", "failed": "failed"}.get(run.run.status if run.run else "", "")
    return _step("Training run", state or "running", f"Run #{run.pk} ({status})",
                 reverse("training-run-detail", args=[run.pk]))  # fmt: skip


def _evaluation_step(cycle: RetrainingCycle) -> dict:
    evaluation = cycle.evaluation or {}
    if not evaluation:
        return _step("Evaluation vs champion", "pending", "Not evaluated yet.")
    diff = evaluation["difference"]
    better = diff["value"] > 0
    text = (
        f"{evaluation['metric']} {evaluation['challenger']['value']:.3f} vs the champion's "
        f"{evaluation['champion']['value']:.3f} on {evaluation['examples']} test examples; "
        f"difference {diff['value']:+.3f} (95% CI {diff['low']:+.3f} to {diff['high']:+.3f})"
    )
    return _step("Evaluation vs champion", "done" if better else "failed", text,
                 evaluation=evaluation)  # fmt: skip


def _deployment_step(cycle: RetrainingCycle) -> dict:
    if cycle.challenger is None:
        return _step("Challenger deployment", "pending", "None deployed.")
    return _step("Challenger deployment", "done",
                 f"{cycle.challenger.name} ({cycle.challenger.get_status_display()})",
                 reverse("deployment-detail", args=[cycle.challenger.pk]))  # fmt: skip


def _experiment_step(cycle: RetrainingCycle) -> dict:
    if cycle.experiment is None:
        state = "waiting" if cycle.status == Status.PROPOSED else "pending"
        return _step("Experiment", state, "Proposed: waiting for someone to start it."
                     if state == "waiting" else "None.")  # fmt: skip
    experiment = cycle.experiment
    return _step("Experiment", "done" if not experiment.is_running else "running",
                 f"{experiment.name} ({experiment.get_status_display()})",
                 reverse("experiment-detail", args=[experiment.pk]))  # fmt: skip


def _verdict_step(cycle: RetrainingCycle) -> dict:
    experiment = cycle.experiment
    if experiment is not None and not experiment.is_running:
        return _step("Verdict", "done", experiment.ended_reason or experiment.get_status_display())
    final = cycle.status in (Status.NOT_BETTER, Status.REJECTED, Status.FAILED)
    return _step("Verdict", "failed" if final else "pending",
                 cycle.message if final else "Not yet.")  # fmt: skip


def cycle_lineage(cycle: RetrainingCycle) -> list[dict]:
    return [
        _trigger_step(cycle),
        _version_step(cycle),
        _training_step(cycle),
        _evaluation_step(cycle),
        _deployment_step(cycle),
        _experiment_step(cycle),
        _verdict_step(cycle),
    ]
