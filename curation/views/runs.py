"""A run's page, and the small fragment its progress bar polls while the run is active."""

from urllib.parse import urlparse

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from curation.exceptions import RunNotActive
from curation.models import DatasetVersion, Run
from curation.models.runs import ACTIVE_RUN_STATUSES
from curation.selectors.access import run_for_user, run_to_cancel_for_user, user_can_cancel_run
from curation.selectors.runs import run_live_state
from curation.services.runs import run_cancel, run_kind_title, run_result_links


def _result_rows(result: dict) -> tuple[list[tuple[str, object]], dict]:
    """Scalar results as (label, value) rows; lists and mappings apart, shown as detail."""
    rows, details = [], {}
    for key, value in result.items():
        if key == "error" or value in ([], {}, None):
            continue
        if isinstance(value, list | dict):
            details[key.replace("_", " ")] = value
        else:
            rows.append((key.replace("_", " ").capitalize(), value))
    return rows, details


def import_result_links(run: Run) -> list[tuple[str, str]]:
    return [("Browse examples", reverse("example-list", args=[run.project_id]))]


def version_result_links(run: Run) -> list[tuple[str, str]]:
    """A build links to the version it made; an export to the version it exported."""
    version = run.target if isinstance(run.target, DatasetVersion) else None
    if run.kind == "version_build" and run.result.get("version_id"):
        version = DatasetVersion.objects.filter(pk=run.result["version_id"]).first()
    if version is None:
        return [("Versions", reverse("version-list", args=[run.project_id]))]
    url = reverse("version-detail", args=[run.project_id, version.number])
    return [(f"Open version {version.number}", url)]


def _state_context(run: Run, user) -> dict:
    state = run_live_state(run)
    rows, details = _result_rows(run.result or {})
    error = (run.result or {}).get("error")
    active = state["status"] in ACTIVE_RUN_STATUSES
    return {
        "run": run,
        "state": state,
        "active": active,
        "can_cancel": active
        and not state.get("cancel_requested_by")
        and user_can_cancel_run(user, run),
        "result_rows": rows,
        "result_details": details,
        "error_detail": error if isinstance(error, dict) else None,
        "next_links": run_result_links(run),
        "title": run_kind_title(run.kind),
    }


@login_required
def run_detail(request, run_id: int):
    run = run_for_user(request.user, run_id)
    return render(request, "curation/run_detail.html", _state_context(run, request.user))


@login_required
def run_status(request, run_id: int):
    run = run_for_user(request.user, run_id)
    context = _state_context(run, request.user)
    # A page that embeds the panel (a training run's) must not offer a link to itself.
    here = urlparse(request.headers.get("HX-Current-URL", "")).path
    context["next_links"] = [(text, url) for text, url in context["next_links"] if url != here]
    return render(request, "curation/partials/run_state.html", context)


@login_required
@require_POST
def run_cancel_view(request, run_id: int):
    run = run_to_cancel_for_user(request.user, run_id)
    try:
        run = run_cancel(run=run, cancelled_by=request.user)
    except RunNotActive as exc:
        messages.error(request, str(exc))
    else:
        if run.is_active:
            messages.info(request, "Cancel requested: the run stops at its next progress point.")
        else:
            messages.success(request, f"Run #{run.pk} was cancelled.")
    return redirect("run-detail", run.pk)
