"""Training pages: the launch form on an approved version (with the estimate), a training
run's page (live progress, curves, comparison, blind preference, model card) and the
model list."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from curation.exceptions import AssayError
from curation.models import DatasetVersion
from curation.permissions import Action, project_for_user, user_can
from curation.selectors.runs import run_state_context
from training.core.config import config_fields
from training.models import TrainingRun

HIDDEN_FIELDS = ("task_type", "labels")  # taken from the project, not the form


def _launch_fields(version: DatasetVersion, values: dict | None = None) -> list[dict]:
    from training.services.launch import launch_values

    values = values or {}
    offered = launch_values(version=version)
    rows = []
    for row in config_fields():
        if row["name"] in HIDDEN_FIELDS:
            continue
        default = offered[row["name"]]
        shown = ",".join(default) if isinstance(default, list) else default
        rows.append({**row, "default": default, "value": values.get(row["name"], shown)})
    return rows


def _posted_values(post) -> dict:
    names = [row["name"] for row in config_fields() if row["name"] not in HIDDEN_FIELDS]
    return {name: post[name].strip() for name in names if name in post}


@login_required
def training_launch(request, project_id: int, number: int):
    from training.services import training_estimate, training_run_start
    from training.services.launch import training_config_for

    project = project_for_user(request.user, project_id, Action.TRAIN)
    version = get_object_or_404(DatasetVersion, project=project, number=number)
    values = _posted_values(request.POST) if request.method == "POST" else {}
    estimate_only = request.method == "POST" and "estimate" in request.POST
    error = ""
    if request.method == "POST" and not estimate_only:
        try:
            training_run = training_run_start(
                version=version, values=values, created_by=request.user
            )
        except AssayError as exc:
            error = str(exc)
        else:
            return redirect("training-run-detail", training_run_id=training_run.pk)
    estimate = None
    if version.is_approved and not error:
        try:  # the posted values when asked for ("Estimate"), else the defaults
            config = training_config_for(version=version, values=values)
            estimate = training_estimate(version=version, config=config)
        except AssayError as exc:
            error = str(exc)
    context = {
        "project": project,
        "version": version,
        "fields": _launch_fields(version, values),
        "estimate": estimate,
        "estimated_with_values": estimate_only,
        "error": error,
    }
    return render(request, "training/launch.html", context, status=400 if error else 200)


@login_required
def training_run_detail(request, training_run_id: int):
    from training.selectors import comparison_rows, training_run_curves
    from training.selectors.preference import preference_summary

    training_run = get_object_or_404(
        TrainingRun.objects.select_related("run", "version", "project"), pk=training_run_id
    )
    project = project_for_user(request.user, training_run.project_id, Action.VIEW)
    context = {
        "project": project,
        "training_run": training_run,
        "curves": training_run_curves(training_run),
        "comparison_rows": comparison_rows(training_run),
        "preference": preference_summary(training_run),
        "can_train": user_can(request.user, project, Action.TRAIN),
        "can_serve": user_can(request.user, project, Action.SERVE),
        **run_state_context(training_run.run),
    }
    return render(request, "training/run_detail.html", context)


@login_required
def training_run_curves_fragment(request, training_run_id: int):
    """The curves alone, polled by the run page while training runs."""
    from training.selectors import training_run_curves

    training_run = get_object_or_404(TrainingRun.objects.select_related("run"), pk=training_run_id)
    project_for_user(request.user, training_run.project_id, Action.VIEW)
    context = {"training_run": training_run, "curves": training_run_curves(training_run)}
    return render(request, "training/partials/curves.html", context)


@login_required
@require_POST
def training_run_resume(request, training_run_id: int):
    from training.services import training_run_resume as resume

    training_run = get_object_or_404(TrainingRun, pk=training_run_id)
    project_for_user(request.user, training_run.project_id, Action.TRAIN)
    try:
        resume(training_run=training_run, created_by=request.user)
    except AssayError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Resuming from the last checkpoint.")
    return redirect("training-run-detail", training_run_id=training_run.pk)


def _posted_int(post, name: str, default: int) -> int:
    raw = (post.get(name) or "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise AssayError(f"{name.replace('_', ' ').capitalize()} must be a whole number.") from exc


@login_required
@require_POST
def preference_study_create(request, training_run_id: int):
    """Send a blind sample of the run's test outputs to Label Studio."""
    from training.services.preference import preference_study_create as create

    training_run = get_object_or_404(TrainingRun, pk=training_run_id)
    project_for_user(request.user, training_run.project_id, Action.TRAIN)
    try:
        study = create(
            training_run=training_run,
            user=request.user,
            sample_size=_posted_int(request.POST, "sample_size", 20),
            annotators_per_item=_posted_int(request.POST, "annotators_per_item", 1),
        )
    except AssayError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"Sent {study.sample_size} blind pairs to Label Studio project {study.ls_project_id}.",
        )
    return redirect(_preference_anchor(training_run))


@login_required
@require_POST
def preference_study_pull(request, training_run_id: int):
    """Read the votes of the run's latest preference study from Label Studio."""
    from training.selectors.preference import preference_study_latest
    from training.services.preference import preference_study_pull as pull

    training_run = get_object_or_404(TrainingRun, pk=training_run_id)
    project_for_user(request.user, training_run.project_id, Action.TRAIN)
    study = preference_study_latest(training_run)
    if study is None:
        messages.error(request, "This run has no preference study yet; send outputs first.")
        return redirect(_preference_anchor(training_run))
    try:
        outcome = pull(study=study, user=request.user)
    except AssayError as exc:
        messages.error(request, str(exc))
    else:
        report = outcome["report"]
        messages.success(
            request,
            f"Pulled {outcome['stats']['votes']['total']} votes "
            f"({report['votes_created']} new, {report['votes_updated']} changed, "
            f"{report['votes_removed']} removed).",
        )
    return redirect(_preference_anchor(training_run))


def _preference_anchor(training_run: TrainingRun) -> str:
    return reverse("training-run-detail", args=[training_run.pk]) + "#preference"


@login_required
def model_list(request, project_id: int):
    from training.selectors import model_comparison

    project = project_for_user(request.user, project_id, Action.VIEW)
    context = {"project": project, "rows": model_comparison(project)}
    return render(request, "training/model_list.html", context)


def run_result_links(run) -> list[tuple[str, str]]:
    """Where a finished training run leads: its page with curves and comparison."""
    training_run_id = run.result.get("training_run_id")
    if not training_run_id:
        return [("Models", reverse("model-list", args=[run.project_id]))]
    return [("Open training run", reverse("training-run-detail", args=[training_run_id]))]
