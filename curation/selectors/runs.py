"""Run selectors."""

from django.core.cache import cache

from curation.models import Run
from curation.services.runs import live_cache_key


def run_live_state(run: Run) -> dict:
    """Status, progress and message as of now: the cache's live values while the run is
    active (the row is written less often), else the row's final ones."""
    state = {"status": run.status, "progress": run.progress, "message": run.message}
    if run.is_active:
        state.update(cache.get(live_cache_key(run.pk)) or {})
    return state


def project_runs(project, *, kind: str | None = None, limit: int = 20):
    runs = Run.objects.filter(project=project)
    if kind:
        runs = runs.filter(kind=kind)
    return runs.select_related("created_by")[:limit]
