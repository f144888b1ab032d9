"""Whether a running run's worker is alive: its heartbeat, and the process it runs in.

A `RunHeartbeat` thread writes the time to the cache every few seconds while a handler
runs; a run whose row and heartbeat are both older than RUN_STALE_AFTER_SECONDS is taken
as abandoned.

A run records its process as ``host|boot|pid-namespace|pid|start-time``. Another process
in the same PID namespace of the same boot (the web process beside a local worker, or a
second `assay_import`) can then tell for certain that a run's process is gone, and release
the run at once, instead of waiting for the heartbeat to go stale. Anywhere else (another
machine or container, a non-Linux system) the answer is "unknown" and the heartbeat alone
decides. The start time tells a reused pid from the original process.
"""

import functools
import logging
import os
import socket
import threading
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from curation.models import Run, RunStatus

logger = logging.getLogger(__name__)

PROC = Path("/proc")


@functools.cache
def _namespace() -> str:
    """This process's host, boot and PID namespace; empty when /proc cannot say."""
    try:
        boot_id = (PROC / "sys/kernel/random/boot_id").read_text().strip()
        pid_namespace = os.stat(PROC / "self/ns/pid").st_ino
    except OSError:
        return ""
    return f"{socket.gethostname()}|{boot_id}|{pid_namespace}"


def _process_start(pid: int) -> str | None:
    """The start time (in clock ticks since boot) of a live process; None for no process
    or a zombie (killed, not yet reaped: it will never report again)."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name in parentheses may hold spaces; the fields after it do not.
    fields = stat.rsplit(")", 1)[1].split()
    state, start_ticks = fields[0], fields[19]
    return None if state in ("Z", "X") else start_ticks


def worker_identity() -> str:
    """This process, as a run records it; empty where liveness cannot be checked."""
    namespace = _namespace()
    start = _process_start(os.getpid()) if namespace else None
    if not namespace or start is None:
        return ""
    return f"{namespace}|{os.getpid()}|{start}"


def worker_is_gone(identity: str) -> bool:
    """True only when ``identity`` is a process of this namespace that no longer runs."""
    namespace, _, process = identity.rpartition("|")
    namespace, _, pid = namespace.rpartition("|")
    if not identity or not pid.isdigit() or namespace != _namespace():
        return False
    return _process_start(int(pid)) != process


def _stale_after_seconds() -> float:
    return float(getattr(settings, "RUN_STALE_AFTER_SECONDS", 60))


def heartbeat_cache_key(run_id: int) -> str:
    return f"assay:run:{run_id}:heartbeat"


class RunHeartbeat:
    """Tells the cache, from a thread of its own, that a run's worker is alive.

    The handler's data transaction cannot carry this: its row writes stay invisible until
    commit, and on SQLite another connection cannot write while it holds the lock. The
    thread beats four times per stale limit (every 15 s at the default 60 s; at most every
    30 s) until the run ends, so a live run must miss four beats in a row to be taken as
    dead; it dies with the worker's process, which is what lets a dead run be released."""

    def __init__(self, run_id: int) -> None:
        self.key = heartbeat_cache_key(run_id)
        self.interval = min(30.0, max(0.05, _stale_after_seconds() / 4))
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._beat_until_stopped, daemon=True)

    def __enter__(self) -> "RunHeartbeat":
        self.beat()
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stopped.set()
        self._thread.join()
        cache.delete(self.key)

    def beat(self) -> None:
        cache.set(self.key, time.time(), timeout=int(_stale_after_seconds() * 2) + 60)

    def _beat_until_stopped(self) -> None:
        while not self._stopped.wait(self.interval):
            try:
                self.beat()
            except Exception:  # noqa: BLE001 - a cache hiccup must not kill the beat
                logger.warning("run heartbeat %s could not be written", self.key, exc_info=True)


def run_is_beating(run_id: int) -> bool:
    """Whether the run's heartbeat thread wrote within the stale limit."""
    last = cache.get(heartbeat_cache_key(run_id))
    return last is not None and time.time() - last < _stale_after_seconds()


def run_is_abandoned(run: Run) -> bool:
    """Whether a running run's worker is dead: its process is seen to be gone, or neither
    its row nor its heartbeat thread has reported for RUN_STALE_AFTER_SECONDS."""
    if worker_is_gone(run.worker):
        return True
    cutoff = timezone.now() - timedelta(seconds=_stale_after_seconds())
    silent = run.heartbeat_at is None or run.heartbeat_at < cutoff
    return silent and not run_is_beating(run.pk)


def retry_on_lost_connection(write, *, seconds: float = 60.0, wait: float = 1.0):
    """Call ``write()``; while the database is out of reach (a restarted or failed-over
    server), drop the dead connection and try again, for up to ``seconds``. How a run
    ended is recorded even when the database went away under it, instead of the run
    staying "running" until the stale limit. Inside a transaction the error is raised:
    the caller's transaction is lost anyway."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return write()
        except (OperationalError, InterfaceError):
            if connection.in_atomic_block or time.monotonic() >= deadline:
                raise
            logger.warning("database unreachable; retrying in %.0f s", wait, exc_info=True)
            connection.close()
            time.sleep(wait)


def runs_fail_abandoned(*, kind: str, target_type: ContentType, target_id: int) -> None:
    """A run whose worker died keeps its status forever; once abandoned (see
    `run_is_abandoned`) it is marked failed so it no longer blocks new runs. So is a queued
    run whose task the queue no longer holds (Redis restarted without persistence)."""
    runs = Run.objects.filter(
        kind=kind,
        target_type=target_type,
        target_id=target_id,
        status__in=(RunStatus.RUNNING, RunStatus.QUEUED),
    ).only("pk", "status", "worker", "heartbeat_at", "task_id")
    for status, test, error in (
        (RunStatus.RUNNING, run_is_abandoned, ABANDONED),
        (RunStatus.QUEUED, run_task_is_lost, LOST),
    ):
        dead = [run.pk for run in runs if run.status == status and test(run)]
        if dead:
            Run.objects.filter(pk__in=dead, status=status).update(
                status=RunStatus.FAILED, error=error, finished_at=timezone.now()
            )
            logger.warning("runs %s: %s", dead, error)


ABANDONED = "The worker stopped reporting progress; the run was abandoned."
LOST = (
    "The task queue lost this run before a worker took it (its server restarted without "
    "keeping its data); start it again."
)


def run_task_is_lost(run: Run) -> bool:
    """Whether the task backend says a queued run's task does not exist. A backend that
    cannot answer (down, or one that keeps no results) keeps the run queued."""
    from django_tasks.exceptions import TaskResultDoesNotExist

    from curation.tasks import run_execute_task

    if not run.task_id:
        return False  # enqueued when its transaction commits
    try:
        run_execute_task.get_backend().get_result(run.task_id)
    except TaskResultDoesNotExist:
        return True
    except Exception:  # noqa: BLE001 - cannot tell: the run keeps blocking, as before
        return False
    return False
