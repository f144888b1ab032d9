"""A run's page, and the small fragment its progress bar polls while the run is active."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse

from curation.models import DatasetVersion, Run
from curation.models.runs import ACTIVE_RUN_STATUSES
from curation.selectors.access import run_for_user
from curation.selectors.runs import run_live_state


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


def _next_links(run: Run) -> list[tuple[str, str]]:
    """Where a user goes after a run finished: the data it made."""
    if run.project_id is None:
        return []
    if run.kind == "import":
        return [("Browse examples", reverse("example-list", args=[run.project_id]))]
    version = run.target if isinstance(run.target, DatasetVersion) else None
    if run.kind == "version_build":
        version_id = run.result.get("version_id")
        version = DatasetVersion.objects.filter(pk=version_id).first() if version_id else None
    if version is not None:
        url = reverse("version-detail", args=[run.project_id, version.number])
        return [(f"Open version {version.number}", url)]
    return [("Versions", reverse("version-list", args=[run.project_id]))]


def _state_context(run: Run) -> dict:
    state = run_live_state(run)
    rows, details = _result_rows(run.result or {})
    error = (run.result or {}).get("error")
    return {
        "run": run,
        "state": state,
        "active": state["status"] in ACTIVE_RUN_STATUSES,
        "result_rows": rows,
        "result_details": details,
        "error_detail": error if isinstance(error, dict) else None,
        "next_links": [] if run.is_active else _next_links(run),
    }


@login_required
def run_detail(request, run_id: int):
    run = run_for_user(request.user, run_id)
    return render(request, "curation/run_detail.html", _state_context(run))


@login_required
def run_status(request, run_id: int):
    run = run_for_user(request.user, run_id)
    return render(request, "curation/partials/run_state.html", _state_context(run))
