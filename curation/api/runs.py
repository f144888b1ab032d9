"""Runs: a long operation's state, live while it is active."""

from ninja import Router

from curation.api.schemas import RunOut
from curation.models import Run
from curation.selectors.access import run_for_user
from curation.selectors.runs import run_live_state

router = Router()


def run_out(run: Run) -> dict:
    """A run as the API shows it: the row, with live status, progress and message."""
    run.refresh_from_db()
    fields = [
        "id", "kind", "error", "result", "project_id", "created_at", "started_at", "finished_at"
    ]  # fmt: skip
    return {**{name: getattr(run, name) for name in fields}, **run_live_state(run)}


@router.get("/{run_id}", response=RunOut)
def run_detail(request, run_id: int):
    return run_out(run_for_user(request.auth, run_id))
