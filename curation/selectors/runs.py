"""Run selectors."""

from django.core.cache import cache

from curation.models import Run
from curation.models.runs import ACTIVE_RUN_STATUSES
from curation.services.runs import live_cache_key, run_cancel_requested_by


def run_live_state(run: Run) -> dict:
    """Status, progress and message as of now: the cache's live values while the run is
    active (the row is written less often), else the row's final ones; and who asked to
    cancel it, while it has not stopped yet."""
    state = {"status": run.status, "progress": run.progress, "message": run.message}
    if run.is_active:
        state.update(cache.get(live_cache_key(run.pk)) or {})
        state["cancel_requested_by"] = run_cancel_requested_by(run.pk)
    return state


def project_runs(project, *, kind: str | None = None, limit: int = 20):
    runs = Run.objects.filter(project=project)
    if kind:
        runs = runs.filter(kind=kind)
    return runs.select_related("created_by")[:limit]


def run_state_context(run: Run | None) -> dict:
    """What the run-state fragment needs on a page's first render (it then polls
    `run-status`): the run, its live state, and whether it is still active."""
    if run is None:
        return {}
    state = run_live_state(run)
    return {"run": run, "state": state, "active": state["status"] in ACTIVE_RUN_STATUSES}
