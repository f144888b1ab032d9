"""Run selectors."""

from django.core.cache import cache

from curation.models import Run, RunStatus
from curation.models.runs import ACTIVE_RUN_STATUSES
from curation.services.run_liveness import ABANDONED, run_is_abandoned
from curation.services.runs import live_cache_key, run_cancel_requested_by


def run_live_state(run: Run) -> dict:
    """Status, progress and message as of now: the cache's live values while the run is
    active (the row is written less often), else the row's final ones; and who asked to
    cancel it, while it has not stopped yet. A running run whose worker is dead (see
    `run_is_abandoned`) is failed, with the reason as ``error``."""
    state = {"status": run.status, "progress": run.progress, "message": run.message}
    if run.status == RunStatus.RUNNING and run_is_abandoned(run):
        # Shown as it is (its worker is dead) without writing here: the row is corrected
        # by the next start of its kind, or a cancel.
        return {**state, "status": RunStatus.FAILED, "error": ABANDONED}
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
