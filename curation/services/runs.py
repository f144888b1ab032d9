"""Persisted runs of long operations: creation with a re-entry guard, execution, progress.

A run's work is done by a *handler* registered for its kind: a function
``handler(run, progress) -> dict`` whose return value becomes ``run.result``. The
management commands call `run_execute` inline (with a progress bar as listener), the
background task calls the same `run_execute` in the worker: one code path for both.

Progress is published to the cache on every update (cheap, and visible to the web
process even while the worker holds a database transaction open), and written to the run
row at most once a second when no transaction is open.

Liveness does not depend on either: while a handler runs, a `RunHeartbeat` thread writes
the time to the cache every few seconds, outside the handler's data transaction (which
may hold SQLite's write lock for an hour). The one-active-run guard takes a run as
abandoned only when neither its row nor this heartbeat has moved for
RUN_STALE_AFTER_SECONDS (60 s by default), so a live run blocks a second one however long
it takes, and a run whose worker died is released within that minute; at once when the
guard runs where it can see that the run's process is gone (`run_workers`).

Cancelling a queued run ends it at once. A running run is asked through the cache (the
row may sit behind the handler's write lock): its next `RunProgress.update` raises
`RunCancelled`, which unwinds the handler's data transaction, so nothing partial stays.
"""

import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any, Protocol

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.utils import timezone

from curation.exceptions import AssayError, RunAlreadyActive, RunCancelled, RunNotActive
from curation.models import Run, RunStatus
from curation.models.runs import ACTIVE_RUN_STATUSES
from curation.permissions import Action
from curation.services.audit import audit_record
from curation.services.run_liveness import (
    RunHeartbeat,
    retry_on_lost_connection,
    run_is_abandoned,
    runs_fail_abandoned,
    worker_identity,
)

logger = logging.getLogger(__name__)

ProgressListener = Callable[[float, str], None]


@dataclass(frozen=True)
class RunKind:
    """What the platform knows about one kind of run. Paths are dotted and imported on
    first use, so heavy modules stay out of the web process until a run needs them.

    - ``handler``: ``handler(run, progress) -> dict``; the dict becomes ``run.result``.
    - ``title``: how pages name the run ("Import", "Label model fit").
    - ``result_links``: ``links(run) -> [(text, url), ...]``, where a user goes once the run
      has finished (the data it made); empty when not given.
    - ``action``: what a user's role must allow to start the run, and so to cancel it.
    """

    handler: str
    title: str
    result_links: str = ""
    action: Action = Action.EDIT_DATA


RUN_KINDS: dict[str, RunKind] = {
    "import": RunKind(
        handler="curation.services.imports.import_run_handler",
        title="Import",
        result_links="curation.views.runs.import_result_links",
    ),
    "version_build": RunKind(
        handler="curation.services.versions.version_build_run_handler",
        title="Version build",
        result_links="curation.views.runs.version_result_links",
    ),
    "export": RunKind(
        handler="curation.services.exports.export_run_handler",
        title="Export",
        result_links="curation.views.runs.version_result_links",
        action=Action.EXPORT,
    ),
}


def register_run_kind(
    kind: str,
    *,
    handler: str,
    title: str,
    result_links: str = "",
    action: Action = Action.EDIT_DATA,
) -> None:
    """Other apps add their kinds here, from their AppConfig.ready()."""
    RUN_KINDS[kind] = RunKind(
        handler=handler, title=title, result_links=result_links, action=action
    )


def run_kind_action(kind: str) -> Action:
    """The action that starts (and cancels) runs of ``kind``."""
    known = RUN_KINDS.get(kind)
    return known.action if known else Action.EDIT_DATA


def _import_path(dotted_path: str):
    module_path, name = dotted_path.rsplit(".", 1)
    return getattr(import_module(module_path), name)


def _handler_for(kind: str) -> Callable[[Run, "RunProgress"], dict]:
    if kind not in RUN_KINDS:
        raise AssayError(f"No handler is registered for runs of kind '{kind}'.")
    return _import_path(RUN_KINDS[kind].handler)


def run_kind_title(kind: str) -> str:
    known = RUN_KINDS.get(kind)
    return known.title if known else kind.replace("_", " ").capitalize()


def run_result_links(run: Run) -> list[tuple[str, str]]:
    """Links to what a finished run made, as its kind defines them."""
    known = RUN_KINDS.get(run.kind)
    if run.is_active or known is None or not known.result_links:
        return []
    return _import_path(known.result_links)(run)


class Progress(Protocol):
    """What a long service reports through; `RunProgress` is the implementation."""

    def update(self, percent: float, message: str = "") -> None: ...

    def log(self, line: str) -> None: ...


class SilentProgress:
    """Progress that goes nowhere, for service calls made without a run."""

    def update(self, percent: float, message: str = "") -> None:
        pass

    def log(self, line: str) -> None:
        pass


def live_cache_key(run_id: int) -> str:
    return f"assay:run:{run_id}:live"


def cancel_cache_key(run_id: int) -> str:
    return f"assay:run:{run_id}:cancel"


def run_cancel_requested_by(run_id: int) -> str | None:
    """Who asked to cancel the run, while the request waits for its next progress point."""
    return cache.get(cancel_cache_key(run_id))


class RunProgress:
    """Reports a run's progress to the cache, the run row and any listeners (a CLI bar)."""

    ROW_WRITE_INTERVAL = 1.0

    def __init__(self, run: Run, *, listeners: tuple[ProgressListener, ...] = ()) -> None:
        self.run = run
        self.listeners = listeners
        self._last_row_write = 0.0
        self._pending_log: list[str] = []

    def update(self, percent: float, message: str = "") -> None:
        """Publish progress; raises `RunCancelled` when someone asked to cancel the run."""
        cancelled_by = run_cancel_requested_by(self.run.pk)
        if cancelled_by is not None:
            raise RunCancelled(cancelled_by)
        self.publish(percent, message)

    def publish(self, percent: float, message: str = "") -> None:
        percent = max(0.0, min(100.0, percent))
        self.run.progress = int(percent)
        if message:
            self.run.message = message[:500]
        cache.set(
            live_cache_key(self.run.pk),
            {"progress": self.run.progress, "message": self.run.message},
            timeout=24 * 3600,
        )
        for listener in self.listeners:
            listener(percent, self.run.message)
        self._maybe_write_row()

    def log(self, line: str, *, write: bool = True) -> None:
        """Add a line to the run's log; ``write=False`` keeps it for the next flush."""
        logger.info("run %s: %s", self.run.pk, line)
        self._pending_log.append(line)
        if write:
            self._maybe_write_row()

    def _maybe_write_row(self, force: bool = False) -> None:
        # Inside the caller's transaction a write would stay invisible until commit and,
        # on SQLite, is pointless: the cache carries live progress meanwhile.
        if connection.in_atomic_block:
            return
        now = time.monotonic()
        if not force and now - self._last_row_write < self.ROW_WRITE_INTERVAL:
            return
        self._last_row_write = now
        self.flush()

    def flush(self) -> None:
        if self._pending_log:
            self.run.log += "".join(f"{line}\n" for line in self._pending_log)
            self._pending_log = []
        self.run.heartbeat_at = timezone.now()
        Run.objects.filter(pk=self.run.pk).update(
            progress=self.run.progress,
            message=self.run.message,
            log=self.run.log,
            heartbeat_at=self.run.heartbeat_at,
        )


def run_create(
    *,
    kind: str,
    target: Model,
    project=None,
    params: dict[str, Any] | None = None,
    created_by=None,
) -> Run:
    """Create a queued run, refusing while one of the same kind runs on the same target."""
    target_type = ContentType.objects.get_for_model(target)
    runs_fail_abandoned(kind=kind, target_type=target_type, target_id=target.pk)
    try:
        with transaction.atomic():
            return Run.objects.create(
                kind=kind,
                target_type=target_type,
                target_id=target.pk,
                project=project,
                params=params or {},
                created_by=created_by,
            )
    except IntegrityError as exc:
        active = Run.objects.filter(
            kind=kind,
            target_type=target_type,
            target_id=target.pk,
            status__in=ACTIVE_RUN_STATUSES,
        ).first()
        if active is None:
            raise
        title = run_kind_title(kind).lower()
        article = "An" if title[:1] in "aeiou" else "A"
        raise RunAlreadyActive(
            f"{article} {title} run (#{active.pk}) is already {active.status} "
            f"for {target}; wait for it to finish."
        ) from exc


def run_enqueue(
    *,
    kind: str,
    target: Model,
    project=None,
    params: dict[str, Any] | None = None,
    created_by=None,
) -> Run:
    """Create a run and hand it to the task worker once the surrounding transaction commits."""
    run = run_create(
        kind=kind, target=target, project=project, params=params, created_by=created_by
    )
    transaction.on_commit(lambda: _enqueue(run.pk, kind))
    return run


def run_queue_name(kind: str) -> str:
    """The task queue runs of ``kind`` go to (RUN_QUEUES; "default" when not routed)."""
    return getattr(settings, "RUN_QUEUES", {}).get(kind, "default")


def _enqueue(run_id: int, kind: str) -> None:
    from curation.tasks import run_execute_task

    queue = run_queue_name(kind)
    known = run_execute_task.get_backend().queues
    if known and queue not in known:
        # A TASKS setting written by hand without the routed queue: run it, where it can.
        logger.warning("queue %r is not in TASKS; run %s goes to 'default'", queue, run_id)
        queue = "default"
    result = run_execute_task.using(queue_name=queue).enqueue(run_id)
    Run.objects.filter(pk=run_id, task_id="").update(task_id=str(result.id))


def run_execute(run_id: int, *, listeners: tuple[ProgressListener, ...] = ()) -> Run:
    """Do a queued run's work and record how it ended. A run that is not queued any more
    (delivered twice, already taken, or cancelled) is left alone."""
    started = Run.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        worker=worker_identity(),
    )
    run = Run.objects.get(pk=run_id)
    if not started:
        logger.warning("run %s is %s, not queued; not executing it again", run_id, run.status)
        return run
    progress = RunProgress(run, listeners=listeners)
    try:
        with RunHeartbeat(run.pk):
            # A cancel that found the run queued but could not write its row ends it here.
            cancelled_by = run_cancel_requested_by(run.pk)
            if cancelled_by is not None:
                raise RunCancelled(cancelled_by)
            result = _handler_for(run.kind)(run, progress)
    except RunCancelled as cancel:
        _finish(run, progress, RunStatus.CANCELLED, error=str(cancel))
        user = get_user_model().objects.filter(username=cancel.cancelled_by).first()
        _audit_cancel(run, actor=user or cancel.cancelled_by, was=RunStatus.RUNNING)
        logger.info("run %s cancelled by %s", run_id, cancel.cancelled_by)
    except AssayError as exc:
        _finish(run, progress, RunStatus.FAILED, error=str(exc), details=_details(exc))
    except Exception as exc:  # noqa: BLE001 - any crash must end the run as failed, not hang it
        progress.log(traceback.format_exc(), write=False)  # the database may be what failed
        _finish(run, progress, RunStatus.FAILED, error=f"Unexpected error: {exc!r}")
        logger.exception("run %s crashed", run_id)
    else:
        run.result = result or {}
        # publish, not update: the work is committed, a late cancel no longer applies.
        progress.publish(100, run.message or "Done")
        _finish(run, progress, RunStatus.SUCCEEDED)
    return run


def _details(exc: AssayError) -> dict:
    as_dict = getattr(exc, "as_dict", None)
    return {"error": as_dict()} if callable(as_dict) else {}


def _finish(run: Run, progress: RunProgress, status: str, *, error: str = "", details=None) -> None:
    run.status = status
    run.error = error
    if details:
        run.result = {**run.result, **details}
    run.finished_at = timezone.now()

    def record() -> None:
        progress.flush()
        Run.objects.filter(pk=run.pk).update(
            status=run.status, error=run.error, result=run.result, finished_at=run.finished_at
        )

    retry_on_lost_connection(record)
    cache.delete_many([live_cache_key(run.pk), cancel_cache_key(run.pk)])


def run_cancel(*, run: Run, cancelled_by=None) -> Run:
    """Cancel a queued or running run. A queued run (or a running one whose worker is
    dead) ends cancelled at once; a live running run is asked to stop, and does at its
    next progress point, rolling its data transaction back. Raises `RunNotActive` for a
    run that has already ended. Callers check `run_kind_action` first."""
    run.refresh_from_db()
    if not run.is_active:
        raise RunNotActive(f"Run #{run.pk} has already ended ({run.status}); nothing to cancel.")
    name = cancelled_by.get_username() if cancelled_by is not None else "the system"
    # The worker reads the request from the cache, which holds even when the row below is
    # not written: the worker took the queued run meanwhile, or holds SQLite's write lock.
    cache.set(cancel_cache_key(run.pk), name, timeout=7 * 24 * 3600)
    if run.status == RunStatus.QUEUED or run_is_abandoned(run):
        was = run.status
        ended = Run.objects.filter(pk=run.pk, status=was).update(
            status=RunStatus.CANCELLED, error=f"Cancelled by {name}.", finished_at=timezone.now()
        )
        if ended:
            _audit_cancel(run, actor=cancelled_by or name, was=was)
    run.refresh_from_db()
    return run


def _audit_cancel(run: Run, *, actor, was: str) -> None:
    """A cancel goes to the project's audit log once the run has ended cancelled: at once
    for a queued (or dead) run, from the worker for a live one, whose data transaction may
    hold SQLite's write lock until it reaches its next progress point."""
    if run.project_id is None:
        return
    audit_record(
        project=run.project,
        actor=actor,
        action="run.cancel",
        target=run,
        before={"kind": run.kind, "status": was},
        after={"status": RunStatus.CANCELLED},
        message=f"Cancelled {run_kind_title(run.kind).lower()} run #{run.pk}",
    )
