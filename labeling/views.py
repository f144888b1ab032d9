"""The Label Studio panel of a project (link, push, pull, overlap, agreement) and the
webhook endpoint Label Studio calls."""

import hmac
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseForbidden, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from curation.exceptions import AssayError
from curation.permissions import Action, project_for_user, user_can
from labeling.selectors.agreement import project_agreement
from labeling.selectors.links import (
    project_consensus_summary,
    project_label_studio_link,
    project_label_studio_runs,
)
from labeling.services.links import label_studio_overlap_set, label_studio_project_link
from labeling.services.pull import label_studio_pull_start
from labeling.services.push import label_studio_push_start
from labeling.services.webhooks import WEBHOOK_SECRET_HEADER, label_studio_webhook_receive


@login_required
def label_studio_panel(request, project_id: int):
    project = project_for_user(request.user, project_id, Action.VIEW)
    link = project_label_studio_link(project)
    context = {
        "project": project,
        "link": link,
        "agreement": project_agreement(project) if link else None,
        "consensus": project_consensus_summary(project) if link else None,
        "runs": project_label_studio_runs(project),
        "can_manage": user_can(request.user, project, Action.MANAGE),
        "can_sync": user_can(request.user, project, Action.EDIT_DATA),
    }
    template = "labeling/partials/panel.html" if request.htmx else "labeling/panel.html"
    return render(request, template, context)


def _act(request, project_id: int, action: Action, act):
    """Run ``act(project)``; a run goes to its live page, anything else back to the panel."""
    project = project_for_user(request.user, project_id, action)
    try:
        outcome = act(project)
    except AssayError as exc:
        messages.error(request, str(exc))
        return redirect("label-studio-panel", project_id=project.pk)
    if hasattr(outcome, "kind"):
        return redirect("run-detail", run_id=outcome.pk)
    messages.success(request, outcome)
    return redirect("label-studio-panel", project_id=project.pk)


@login_required
@require_POST
def label_studio_link_create(request, project_id: int):
    overlap = _int(request.POST.get("overlap"), 1)
    return _act(
        request,
        project_id,
        Action.MANAGE,
        lambda p: (
            f"Linked to Label Studio project "
            f"{label_studio_project_link(project=p, overlap=overlap).ls_project_id}."
        ),
    )


@login_required
@require_POST
def label_studio_overlap_update(request, project_id: int):
    overlap = _int(request.POST.get("overlap"), 0)
    return _act(
        request,
        project_id,
        Action.MANAGE,
        lambda p: (
            f"{label_studio_overlap_set(project=p, overlap=overlap).overlap} annotators per task."
        ),
    )


@login_required
@require_POST
def label_studio_push_create(request, project_id: int):
    return _act(
        request,
        project_id,
        Action.EDIT_DATA,
        lambda p: label_studio_push_start(project=p, created_by=request.user),
    )


@login_required
@require_POST
def label_studio_pull_create(request, project_id: int):
    full = request.POST.get("full") == "1"
    return _act(
        request,
        project_id,
        Action.EDIT_DATA,
        lambda p: label_studio_pull_start(project=p, full=full, created_by=request.user),
    )


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@csrf_exempt
@require_POST
def label_studio_webhook(request):
    """Label Studio's webhook: 403 without the shared secret; otherwise a pull is queued
    and the answer is immediate (LS waits at most 1 s and never retries)."""
    given = request.headers.get(WEBHOOK_SECRET_HEADER, "")
    expected = settings.LABEL_STUDIO_WEBHOOK_SECRET
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        return HttpResponseForbidden("Missing or wrong webhook secret.")
    try:
        payload = json.loads(request.body or b"{}")
        ls_project_id = int((payload.get("project") or {}).get("id"))
    except (ValueError, TypeError, AttributeError):
        return JsonResponse({"queued": None, "detail": "No project id in the payload."})
    run = label_studio_webhook_receive(
        ls_project_id=ls_project_id, action=str(payload.get("action", ""))
    )
    return JsonResponse({"queued": run.pk if run else None})


def run_result_links(run) -> list[tuple[str, str]]:
    """Where a finished push or pull leads: the project's Label Studio panel."""
    return [("Label Studio panel", reverse("label-studio-panel", args=[run.project_id]))]
