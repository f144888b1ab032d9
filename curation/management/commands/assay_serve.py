"""Start the web server and the task worker as child processes and watch them.

The processes are a plain list of `ServedProcess` built by `served_processes`; a new
service (Label Studio) is one more entry. SIGINT/SIGTERM are forwarded to every child.
When the web server exits on its own the others are stopped and the command says so. Any
other child (worker, experiments, loop, reconcile) that dies is restarted when
``ASSAY_SERVE_RESTART`` is on (the default outside production), with a growing pause, and the
command says which died and how; one that keeps dying (more than `RESTART_LIMIT` restarts in
`RESTART_WINDOW_SECONDS`) stops everything. With restarts off any death stops everything.
"""

import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from curation.services.bootstrap import admin_credentials_describe, admin_credentials_read

STOP_GRACE_SECONDS = 10.0
# A child that died more than RESTART_LIMIT times in RESTART_WINDOW_SECONDS is broken, not
# unlucky (a missing migration, a bad setting): restarting it forever would hide that.
RESTART_LIMIT = 5
RESTART_WINDOW_SECONDS = 60.0
# The pause before restart n (counted in the window) is FIRST * 2**(n-1), at most MAX.
RESTART_BACKOFF_FIRST_SECONDS = 0.5
RESTART_BACKOFF_MAX_SECONDS = 8.0


@dataclass(frozen=True)
class ServedProcess:
    """One child of `assay_serve`. ``restartable``: whether it is restarted when it dies (the
    web server is not: without it there is nothing to serve, so its death stops everything)."""

    name: str
    argv: list[str]
    restartable: bool = True


def worker_argv(task_backend: str, queues: list[str] | None = None) -> list[str] | None:
    """The worker command for the configured task backend, taking ``queues`` (default:
    every queue runs are routed to, TASK_QUEUES); None when tasks run inline."""
    queues = sorted(queues or settings.TASK_QUEUES)
    if task_backend == "database":
        # No autoreloader: it would run the worker as a grandchild our signals never reach.
        return ["assay_db_worker", "--no-reload", "--queue-name", ",".join(queues)]
    if task_backend == "rq":
        return ["rqworker", "--job-class", "django_tasks_rq.Job", *queues]
    return None


def web_argv(web_server: str, *, host: str, port: int) -> list[str]:
    """Django's development server, or gunicorn with Assay's configuration
    (curation/gunicorn_config.py: workers, threads, timeouts, JSON logs)."""
    if web_server == "runserver":
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        return [*manage, "runserver", f"{host}:{port}", "--noreload"]
    if web_server == "gunicorn":
        return [
            *(sys.executable, "-m", "gunicorn", "-c", "python:curation.gunicorn_config"),
            *("--chdir", str(settings.BASE_DIR), "--bind", f"{host}:{port}"),
            "curation.wsgi:application",
        ]
    raise CommandError(f"ASSAY_WEB_SERVER={web_server!r}: expected 'runserver' or 'gunicorn'")


def served_processes(
    *,
    host: str,
    port: int,
    task_backend: str,
    label_studio: bool = False,
    web_server: str = "runserver",
    loop_seconds: int = 0,
) -> list[ServedProcess]:
    manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
    web = ServedProcess("web", web_argv(web_server, host=host, port=port), restartable=False)
    processes = [web]
    worker = worker_argv(task_backend)
    if worker:
        processes.append(ServedProcess("worker", [*manage, *worker]))
    # Experiments roll out and back on schedule even when no feedback arrives.
    interval = str(settings.SERVING_EVALUATE_SECONDS)
    evaluate = ["serving_experiment", "evaluate", "--all", "--loop", "--interval", interval]
    processes.append(ServedProcess("experiments", [*manage, *evaluate]))
    if label_studio:
        # Label Studio first (the pages and runs talk to it), then web and worker; the
        # reconcile loop pulls whatever webhooks missed.
        reconcile = [*manage, "labeling_reconcile", "--loop"]
        ls_server = ServedProcess("label-studio", [*manage, "labeling_server", "run"])
        processes = [ls_server, *processes, ServedProcess("reconcile", reconcile)]
    if loop_seconds > 0:
        # The loop's periodic job: feedback to review, monitoring windows and alerts,
        # triggers, and the next step of each open retraining cycle.
        tick = [*manage, "loop_tick", "--loop", "--interval", str(loop_seconds)]
        processes.append(ServedProcess("loop", tick))
    return processes


@dataclass(frozen=True)
class ServeOutcome:
    """How supervision ended: a signal we forwarded, or the child whose death ended it
    (``restarts``: how often it had been restarted in the window before it gave up)."""

    signal_name: str | None = None
    died: str | None = None
    returncode: int | None = None
    restarts: int = 0


class Supervisor:
    """Starts the children, forwards SIGINT/SIGTERM to them, and restarts (``restart=True``)
    the restartable ones that die, announcing each death and restart through ``say``."""

    def __init__(
        self,
        processes: list[ServedProcess],
        *,
        poll_interval: float = 0.2,
        restart: bool = False,
        say: Callable[[str], None] = print,
        backoff_first: float = RESTART_BACKOFF_FIRST_SECONDS,
        backoff_max: float = RESTART_BACKOFF_MAX_SECONDS,
    ) -> None:
        self.processes = {process.name: process for process in processes}
        self.poll_interval = poll_interval
        self.restart = restart
        self.say = say
        self.backoff_first = backoff_first
        self.backoff_max = backoff_max
        self.children: dict[str, subprocess.Popen] = {}
        self._received: int | None = None
        self._restarted_at: dict[str, deque[float]] = {name: deque() for name in self.processes}
        self._restart_due: dict[str, float] = {}

    def _on_signal(self, signum, frame) -> None:
        self._received = signum

    def start(self) -> None:
        for name in self.processes:
            self._spawn(name)

    def _spawn(self, name: str) -> None:
        # A session of its own: Ctrl+C reaches the child once, through us, instead of
        # twice (db_worker treats a second SIGINT as "abort the running task").
        argv = self.processes[name].argv
        self.children[name] = subprocess.Popen(argv, start_new_session=True)

    @contextmanager
    def signals_caught(self):
        """Record SIGINT/SIGTERM instead of dying on them, so `watch` can forward them."""
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def watch(self) -> ServeOutcome:
        while True:
            if self._received is not None:
                name = signal.Signals(self._received).name
                self.stop(self._received)
                return ServeOutcome(signal_name=name)
            for name, child in self.children.items():
                if name in self._restart_due or child.poll() is None:
                    continue
                outcome = self._on_death(name, child.returncode)
                if outcome is not None:
                    self.stop(signal.SIGTERM)
                    return outcome
            self._restart_the_due()
            time.sleep(self.poll_interval)

    def _on_death(self, name: str, returncode: int) -> ServeOutcome | None:
        """Schedule a restart of the child that died, or say supervision ends (an outcome)."""
        if not (self.restart and self.processes[name].restartable):
            return ServeOutcome(died=name, returncode=returncode)
        now = time.monotonic()
        recent = self._restarted_at[name]
        while recent and now - recent[0] > RESTART_WINDOW_SECONDS:
            recent.popleft()
        if len(recent) >= RESTART_LIMIT:
            return ServeOutcome(died=name, returncode=returncode, restarts=len(recent))
        pause = min(self.backoff_first * 2 ** len(recent), self.backoff_max)
        recent.append(now + pause)
        self._restart_due[name] = now + pause
        self.say(
            f"The {name} process exited with status {returncode}; restarting it in "
            f"{pause:g} s (restart {len(recent)} of at most {RESTART_LIMIT} "
            f"in {RESTART_WINDOW_SECONDS:g} s)."
        )
        return None

    def _restart_the_due(self) -> None:
        now = time.monotonic()
        for name, due in list(self._restart_due.items()):
            if now >= due:
                del self._restart_due[name]
                self._spawn(name)
                self.say(f"restarted {name} (pid {self.children[name].pid})")

    def stop(self, signum: int) -> None:
        alive = [child for child in self.children.values() if child.poll() is None]
        for child in alive:
            child.send_signal(signum)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in alive:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


class Command(BaseCommand):
    help = (
        "Run the web server (runserver, or gunicorn in production: ASSAY_WEB_SERVER) and the "
        "task worker together (ASSAY_HOST, ASSAY_PORT); Ctrl+C stops both. A worker that dies is "
        "restarted in development (ASSAY_SERVE_RESTART)."
    )

    def handle(self, *args, **options):
        host, port = settings.SERVE_HOST, settings.SERVE_PORT
        processes = served_processes(
            host=host,
            port=port,
            task_backend=settings.TASK_BACKEND,
            label_studio=settings.LABEL_STUDIO_ENABLED,
            web_server=settings.WEB_SERVER,
            loop_seconds=settings.LOOP_TICK_SECONDS,
        )
        supervisor = Supervisor(processes, restart=settings.SERVE_RESTART, say=self._say)
        with supervisor.signals_caught():
            supervisor.start()
            self._announce(supervisor, url=f"http://{host}:{port}/")
            outcome = supervisor.watch()
        if outcome.died is not None and outcome.restarts:
            raise CommandError(
                f"The {outcome.died} process exited with status {outcome.returncode} after "
                f"{outcome.restarts} restarts in {RESTART_WINDOW_SECONDS:g} s; gave up and "
                "stopped the others."
            )
        if outcome.died is not None:
            raise CommandError(
                f"The {outcome.died} process exited with status {outcome.returncode}; "
                "stopped the others."
            )
        self.stdout.write(
            f"Received {outcome.signal_name}; stopped {', '.join(supervisor.children)}."
        )

    def _say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def _announce(self, supervisor: Supervisor, *, url: str) -> None:
        for name, child in supervisor.children.items():
            self.stdout.write(f"started {name} (pid {child.pid})")
        credentials_file = settings.ADMIN_CREDENTIALS_FILE
        credentials = admin_credentials_read(credentials_file=credentials_file)
        self.stdout.write(f"\nAssay is at {url}")
        self.stdout.write(
            admin_credentials_describe(credentials, credentials_file=credentials_file)
        )
        if settings.LABEL_STUDIO_ENABLED:
            from labeling.lifecycle import LabelStudioServerConfig

            annotators = LabelStudioServerConfig.from_env()
            self.stdout.write(
                f"Label Studio is at {settings.LABEL_STUDIO_URL} "
                f"(login {annotators.username} / {annotators.password})"
            )
        self.stdout.write("Press Ctrl+C to stop.\n")
        self.stdout.flush()
