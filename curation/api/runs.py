"""Runs: a long operation's state, live while it is active."""

from ninja import Router

from curation.api.schemas import ErrorOut, RunOut
from curation.models import Run
from curation.selectors.access import run_for_user, run_to_cancel_for_user
from curation.selectors.runs import run_live_state
from curation.services.runs import run_cancel

router = Router()


def run_out(run: Run) -> dict:
    """A run as the API shows it: the row, with live status, progress and message."""
    run.refresh_from_db()
    fields = [
        "id", "kind", "error", "result", "project_id", "created_at", "started_at", "finished_at"
    ]  # fmt: skip
    state = run_live_state(run)
    cancel_requested = state.pop("cancel_requested_by", None) is not None
    return {
        **{name: getattr(run, name) for name in fields},
        **state,
        "cancel_requested": cancel_requested,
    }


@router.get("/{run_id}", response=RunOut)
def run_detail(request, run_id: int):
    return run_out(run_for_user(request.auth, run_id))


@router.post("/{run_id}/cancel", response={200: RunOut, 400: ErrorOut})
def run_cancel_endpoint(request, run_id: int):
    """Cancel a queued run at once, or ask a running one to stop at its next progress
    point (``cancel_requested`` is true until it has); 400 for a run that has ended.
    Needs what starting the run's kind needs (edit_data; export, train, serve)."""
    run = run_to_cancel_for_user(request.auth, run_id)
    return run_out(run_cancel(run=run, cancelled_by=request.auth))
