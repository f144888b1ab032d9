"""Serving pages: deployments (status, engine, traffic, latency), applications and their
keys, experiments (setup, live results with charts, rollout controls)."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from curation.exceptions import AssayError
from curation.permissions import Action, project_for_user, user_can
from curation.selectors.runs import run_state_context
from serving.models import Application, Deployment, Experiment
from serving.selectors.deployments import (
    applications_for_project,
    deployment_stats,
    deployments_for_project,
    experiments_for_project,
    recent_requests,
)
from serving.services.applications import application_create, application_revoke
from serving.services.deployments import deployment_start, deployment_stop
from serving.services.experiments import (
    experiment_advance,
    experiment_create,
    experiment_evaluate,
    experiment_rollback,
    experiment_stop,
)
from serving.views.charts import effect_chart, units_chart
from training.models import TrainingRun


@login_required
def deployment_list(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for_user(request.user, project_id, Action.VIEW)
    rows = [
        {"deployment": d, "stats": deployment_stats(d)} for d in deployments_for_project(project)
    ]
    context = {
        "project": project,
        "rows": rows,
        "experiments": experiments_for_project(project),
        "can_serve": user_can(request.user, project, Action.SERVE),
    }
    return render(request, "serving/deployment_list.html", context)


@login_required
@require_POST
def deployment_create(request: HttpRequest, training_run_id: int) -> HttpResponse:
    """The run page's Deploy form."""
    training_run = get_object_or_404(TrainingRun.objects.select_related("run"), pk=training_run_id)
    project_for_user(request.user, training_run.project_id, Action.SERVE)
    try:
        deployment = deployment_start(
            training_run=training_run,
            name=request.POST.get("name", ""),
            engine=request.POST.get("engine", Deployment.Engine.BUILTIN),
            decoding=_posted_decoding(request.POST),
            created_by=request.user,
        )
    except AssayError as exc:
        messages.error(request, str(exc))
        return redirect(reverse("training-run-detail", args=[training_run.pk]) + "#deploy")
    messages.success(request, f"Deploying '{deployment.name}'; it answers once it has started.")
    return redirect("deployment-detail", deployment_id=deployment.pk)


DECODING_FIELDS = {"num_beams": int, "length_penalty": float, "temperature": float, "top_p": float}


def _posted_decoding(post) -> dict:
    """The Deploy form's decoding fields that were filled in (empty: the run's value)."""
    values = {}
    for name, kind in DECODING_FIELDS.items():
        raw = (post.get(name) or "").strip()
        if not raw:
            continue
        try:
            values[name] = kind(raw)
        except ValueError as exc:
            raise AssayError(f"'{name}' must be a number, got {raw!r}.") from exc
    return values


@login_required
def deployment_detail(request: HttpRequest, deployment_id: int) -> HttpResponse:
    deployment = get_object_or_404(
        Deployment.objects.select_related("training_run__version", "run"), pk=deployment_id
    )
    project = project_for_user(request.user, deployment.project_id, Action.VIEW)
    context = {
        "project": project,
        "deployment": deployment,
        "stats": deployment_stats(deployment),
        "requests": recent_requests(deployment=deployment),
        "can_serve": user_can(request.user, project, Action.SERVE),
        **run_state_context(deployment.run),
    }
    return render(request, "serving/deployment_detail.html", context)


@login_required
@require_POST
def deployment_stop_view(request: HttpRequest, deployment_id: int) -> HttpResponse:
    deployment = get_object_or_404(Deployment, pk=deployment_id)
    project_for_user(request.user, deployment.project_id, Action.SERVE)
    try:
        deployment_stop(deployment=deployment, user=request.user)
    except AssayError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"'{deployment.name}' stopped; it no longer answers.")
    return redirect("deployment-detail", deployment_id=deployment.pk)


@login_required
def application_list(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for_user(request.user, project_id, Action.VIEW)
    new_key = ""
    if request.method == "POST":
        project_for_user(request.user, project_id, Action.SERVE)
        try:
            _application, new_key = application_create(
                project=project, name=request.POST.get("name", ""), user=request.user
            )
        except AssayError as exc:
            messages.error(request, str(exc))
    context = {
        "project": project,
        "applications": applications_for_project(project),
        "new_key": new_key,
        "can_serve": user_can(request.user, project, Action.SERVE),
        "base_url": request.build_absolute_uri("/v1"),
    }
    return render(request, "serving/application_list.html", context)


@login_required
@require_POST
def application_revoke_view(request: HttpRequest, application_id: int) -> HttpResponse:
    application = get_object_or_404(Application, pk=application_id)
    project_for_user(request.user, application.project_id, Action.SERVE)
    try:
        application_revoke(application=application, user=request.user)
    except AssayError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Application '{application.name}' revoked.")
    return redirect("application-list", project_id=application.project_id)


def _experiment_form_values(post) -> dict:
    """The setup form: champion and challenger deployments, the challenger's start share,
    the metrics and the rollout steps, as `experiment_create` takes them."""
    share = _number(post.get("challenger_share", "10"), "Challenger share") / 100
    variants = [{"deployment": post.get("champion", ""), "weight": 1 - share}]
    variants.append({"deployment": post.get("challenger", ""), "weight": share})
    guardrails = [
        {
            "metric": name.strip(),
            "tolerance": _number(post.get(f"tolerance_{name.strip()}", "0"), "Tolerance"),
        }
        for name in post.getlist("guardrails")
        if name.strip()
    ]
    steps = [s.strip() for s in post.get("rollout_steps", "").split(",") if s.strip()]
    return {
        "name": post.get("name", ""),
        "variants": variants,
        "primary_metric": post.get("primary_metric", ""),
        "primary_higher_is_better": post.get("direction", "higher") == "higher",
        "guardrails": guardrails,
        "min_units": int(_number(post.get("min_units", "100"), "Minimum units")),
        "minimum_effect": _number(post.get("minimum_effect", "0.05"), "Minimum effect"),
        "rollout_steps": [_number(s, "Rollout step") for s in steps],
        "auto_advance": post.get("auto_advance") == "on",
    }


def _number(raw: str, name: str) -> float:
    try:
        return float(raw)
    except (TypeError, ValueError) as exc:
        raise AssayError(f"{name} must be a number, got '{raw}'.") from exc


@login_required
def experiment_list(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for_user(request.user, project_id, Action.VIEW)
    error = ""
    if request.method == "POST":
        project_for_user(request.user, project_id, Action.SERVE)
        try:
            experiment = experiment_create(
                project=project, user=request.user, **_experiment_form_values(request.POST)
            )
        except AssayError as exc:
            error = str(exc)
        else:
            messages.success(request, f"Experiment '{experiment.name}' is running.")
            return redirect("experiment-detail", experiment_id=experiment.pk)
    context = {
        "project": project,
        "experiments": experiments_for_project(project),
        "deployments": deployments_for_project(project).filter(status=Deployment.Status.ACTIVE),
        "can_serve": user_can(request.user, project, Action.SERVE),
        "error": error,
        "form": request.POST if request.method == "POST" else {},
    }
    return render(request, "serving/experiment_list.html", context, status=400 if error else 200)


@login_required
def experiment_detail(request: HttpRequest, experiment_id: int) -> HttpResponse:
    from serving.selectors.analysis import experiment_analysis

    experiment = get_object_or_404(Experiment, pk=experiment_id)
    project = project_for_user(request.user, experiment.project_id, Action.VIEW)
    analysis = experiment_analysis(experiment)
    variants = list(experiment.variants.select_related("deployment__training_run__version"))
    names = {str(v.pk): v.deployment.name for v in variants}
    for comparison in analysis["comparisons"]:
        comparison["chart"] = effect_chart(comparison["primary"]["path"])
    context = {
        "project": project,
        "experiment": experiment,
        "variants": variants,
        "analysis": analysis,
        "comparisons": analysis["comparisons"],
        "units_chart": units_chart(analysis["assignment_series"], names),
        "units": {names.get(k, k): v for k, v in analysis["units"].items()},
        "phases": [
            {
                "number": phase.number,
                "started_at": phase.started_at,
                "reason": phase.reason,
                "split": " / ".join(
                    f"{names.get(key, key)} {share:.2f}" for key, share in phase.weights.items()
                ),
            }
            for phase in experiment.phases.all()
        ],
        "requests": recent_requests(experiment=experiment, limit=10),
        "can_serve": user_can(request.user, project, Action.SERVE),
        "has_next_step": experiment.is_running and experiment.phase < len(experiment.rollout_steps),
        "next_step": experiment.rollout_steps[experiment.phase]
        if experiment.phase < len(experiment.rollout_steps)
        else None,
        "analysis_json": json.dumps(analysis["verdict"]),
    }
    return render(request, "serving/experiment_detail.html", context)


ACTIONS = {
    "advance": (experiment_advance, "Advanced to the next rollout step."),
    "rollback": (experiment_rollback, "Rolled back: all traffic goes to the champion."),
    "stop": (experiment_stop, "Stopped: all traffic goes to the champion."),
}


@login_required
@require_POST
def experiment_action(request: HttpRequest, experiment_id: int, action: str) -> HttpResponse:
    """Rollout controls: advance, roll back, kill switch, evaluate now."""
    experiment = get_object_or_404(Experiment, pk=experiment_id)
    project_for_user(request.user, experiment.project_id, Action.SERVE)
    try:
        if action == "evaluate":
            analysis = experiment_evaluate(experiment=experiment, user=request.user)
            messages.success(request, f"Evaluated: {analysis['verdict']['action']}.")
        elif action in ACTIONS:
            service, done = ACTIONS[action]
            service(experiment=experiment, user=request.user, reason=request.POST.get("reason", ""))
            messages.success(request, done)
        else:
            messages.error(request, f"Unknown action '{action}'.")
    except AssayError as exc:
        messages.error(request, str(exc))
    return redirect("experiment-detail", experiment_id=experiment.pk)


def run_result_links(run) -> list[tuple[str, str]]:
    """Where a finished deployment start leads: the deployment's page."""
    deployment_id = run.result.get("deployment_id") or run.target_id
    return [("Open deployment", reverse("deployment-detail", args=[deployment_id]))]
