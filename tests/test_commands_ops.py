"""assay_bootstrap (first admin) and assay_serve (web server + worker under one command)."""

import functools
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.db import connection

from curation.management.commands import assay_serve
from curation.management.commands.assay_serve import (
    ServedProcess,
    Supervisor,
    served_processes,
)
from tests.factories import UserFactory

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def credentials_file(settings, tmp_path) -> Path:
    settings.ADMIN_CREDENTIALS_FILE = tmp_path / "data" / "admin-credentials.txt"
    return settings.ADMIN_CREDENTIALS_FILE


def bootstrap(**options) -> str:
    out = StringIO()
    call_command("assay_bootstrap", stdout=out, **options)
    return out.getvalue()


# --- assay_bootstrap -------------------------------------------------------------------


@pytest.mark.django_db
def test_bootstrap_creates_an_admin_whose_password_is_printed_and_kept_private(
    credentials_file,
):
    output = bootstrap()

    admin = get_user_model().objects.get(is_superuser=True)
    password = output.split("password: ")[1].split()[0]
    assert f"Admin user: {admin.username}" in output
    assert authenticate(username=admin.username, password=password) == admin
    assert stat.S_IMODE(credentials_file.stat().st_mode) == 0o600
    assert password in credentials_file.read_text()


@pytest.mark.django_db
def test_bootstrap_again_prints_the_same_credentials_and_creates_nobody(credentials_file):
    first = bootstrap()
    second = bootstrap()

    assert get_user_model().objects.count() == 1
    assert "Created" in first and "Created" not in second
    assert first.splitlines()[-1] == second.splitlines()[-1]


@pytest.mark.django_db
def test_bootstrap_leaves_an_existing_superuser_alone(credentials_file):
    UserFactory(username="boss", is_superuser=True, is_staff=True)

    output = bootstrap()

    assert get_user_model().objects.count() == 1
    assert "Admin user: boss (password set by hand" in output
    assert not credentials_file.exists()


@pytest.mark.django_db
def test_bootstrap_says_when_the_stored_password_was_changed(credentials_file):
    bootstrap()
    admin = get_user_model().objects.get()
    admin.set_password("a different password 123")
    admin.save()

    assert "out of date" in bootstrap()


@pytest.mark.django_db
def test_bootstrap_creates_no_admin_when_the_credentials_cannot_be_written(settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings.ADMIN_CREDENTIALS_FILE = blocker / "admin-credentials.txt"

    with pytest.raises(OSError):
        bootstrap()

    assert not get_user_model().objects.exists()


# --- assay_serve: the process list and the supervisor ----------------------------------


def test_served_processes_follow_the_task_backend():
    database = served_processes(host="0.0.0.0", port=9000, task_backend="database")
    rq = served_processes(host="127.0.0.1", port=8000, task_backend="rq")
    inline = served_processes(host="127.0.0.1", port=8000, task_backend="immediate")

    assert [p.name for p in database] == ["web", "worker", "experiments"]
    assert database[0].argv[-3:] == ["runserver", "0.0.0.0:9000", "--noreload"]
    # One machine: its worker takes every queue runs are routed to.
    assert database[1].argv[-4:] == ["assay_db_worker", "--no-reload", "--queue-name",
                                     "cpu-heavy,default,gpu"]  # fmt: skip
    assert rq[1].argv[-6:] == ["rqworker", "--job-class", "django_tasks_rq.Job",
                               "cpu-heavy", "default", "gpu"]  # fmt: skip
    assert [p.name for p in inline] == ["web", "experiments"]
    assert inline[1].argv[-6:-2] == ["serving_experiment", "evaluate", "--all", "--loop"]


def test_served_processes_run_the_loop_tick_when_it_has_an_interval():
    with_loop = served_processes(host="127.0.0.1", port=8000, task_backend="database",
                                 label_studio=True, loop_seconds=600)  # fmt: skip
    without = served_processes(host="127.0.0.1", port=8000, task_backend="database",
                               loop_seconds=0)  # fmt: skip

    assert [p.name for p in with_loop] == [
        "label-studio",
        "web",
        "worker",
        "experiments",
        "reconcile",
        "loop",
    ]
    assert with_loop[-1].argv[-4:] == ["loop_tick", "--loop", "--interval", "600"]
    assert "loop" not in [p.name for p in without]


def sleeper(name: str) -> ServedProcess:
    return ServedProcess(name, [sys.executable, "-c", "import time; time.sleep(60)"])


def quitter(name: str, *, restartable: bool = True) -> ServedProcess:
    argv = [sys.executable, "-c", "raise SystemExit(3)"]
    return ServedProcess(name, argv, restartable=restartable)


def test_supervisor_without_restarts_stops_everything_when_one_process_dies_and_names_it():
    supervisor = Supervisor([sleeper("web"), quitter("quitter")], poll_interval=0.05)

    with supervisor.signals_caught():
        supervisor.start()
        outcome = supervisor.watch()

    assert (outcome.died, outcome.returncode) == ("quitter", 3)
    assert supervisor.children["web"].returncode == -signal.SIGTERM


def test_supervisor_restarts_a_dead_worker_saying_so_and_gives_up_when_it_keeps_dying():
    said: list[str] = []
    supervisor = Supervisor([sleeper("web"), quitter("worker")], poll_interval=0.02,
                            restart=True, say=said.append, backoff_first=0.01)  # fmt: skip

    with supervisor.signals_caught():
        supervisor.start()
        outcome = supervisor.watch()

    assert (outcome.died, outcome.returncode, outcome.restarts) == ("worker", 3, 5)
    deaths = [m for m in said if m.startswith("The worker process exited with status 3")]
    assert len(deaths) == 5
    assert deaths[0].endswith("restarting it in 0.01 s (restart 1 of at most 5 in 60 s).")
    assert "restarting it in 0.02 s (restart 2 of" in deaths[1]  # the pause doubles
    assert sum(m.startswith("restarted worker (pid ") for m in said) == 5
    assert supervisor.children["web"].returncode == -signal.SIGTERM


def test_supervisor_with_restarts_still_stops_everything_when_the_web_server_dies():
    said: list[str] = []
    web = quitter("web", restartable=False)
    supervisor = Supervisor([web, sleeper("worker")], poll_interval=0.05,
                            restart=True, say=said.append)  # fmt: skip

    with supervisor.signals_caught():
        supervisor.start()
        outcome = supervisor.watch()

    assert (outcome.died, outcome.returncode, outcome.restarts) == ("web", 3, 0)
    assert said == []
    assert supervisor.children["worker"].returncode == -signal.SIGTERM


def test_served_processes_never_restart_the_web_server():
    processes = served_processes(host="127.0.0.1", port=8000, task_backend="database",
                                 label_studio=True, loop_seconds=600)  # fmt: skip

    assert [p.name for p in processes if not p.restartable] == ["web"]


def test_serve_command_gives_up_naming_the_worker_that_keeps_dying(
    monkeypatch, settings, credentials_file
):
    settings.SERVE_RESTART = True
    monkeypatch.setattr(assay_serve, "served_processes",
                        lambda **_: [sleeper("web"), quitter("worker")])  # fmt: skip
    monkeypatch.setattr(assay_serve, "Supervisor",
                        functools.partial(Supervisor, backoff_first=0.01))  # fmt: skip
    out = StringIO()

    with pytest.raises(CommandError) as refused:
        call_command("assay_serve", stdout=out)

    assert str(refused.value) == (
        "The worker process exited with status 3 after 5 restarts in 60 s; "
        "gave up and stopped the others."
    )
    assert "The worker process exited with status 3; restarting it in 0.01 s" in out.getvalue()


def test_supervisor_forwards_a_signal_to_every_process():
    supervisor = Supervisor([sleeper("web"), sleeper("worker")], poll_interval=0.05)
    threading.Timer(0.5, os.kill, args=(os.getpid(), signal.SIGINT)).start()

    with supervisor.signals_caught():
        supervisor.start()
        outcome = supervisor.watch()

    assert outcome.signal_name == "SIGINT"
    assert {c.returncode for c in supervisor.children.values()} == {-signal.SIGINT}


# --- assay_serve end to end ------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_serve(port: int, database_name: str, **extra_env: str) -> subprocess.Popen:
    env = {
        **os.environ,
        **extra_env,
        "DJANGO_SETTINGS_MODULE": "curation.settings.test",
        "ASSAY_TASK_BACKEND": "database",
        "ASSAY_DATABASE_NAME": database_name,
        "ASSAY_PORT": str(port),
        "PYTHONUNBUFFERED": "1",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "assay_serve"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def answers_http(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=2)
    except urllib.error.HTTPError:
        return True  # any HTTP answer means the server is up
    except OSError:
        return False
    return True


@pytest.mark.django_db(transaction=True)
def test_serve_runs_web_and_worker_until_interrupted():
    port = free_port()
    serve = start_serve(port, str(connection.settings_dict["NAME"]))
    try:
        deadline = time.monotonic() + 60
        while not answers_http(port) and serve.poll() is None and time.monotonic() < deadline:
            time.sleep(0.3)
        assert answers_http(port), "the web server never answered"
        serve.send_signal(signal.SIGINT)
        output, _ = serve.communicate(timeout=30)
    finally:
        if serve.poll() is None:
            serve.kill()

    assert serve.returncode == 0, output
    assert f"Assay is at http://127.0.0.1:{port}/" in output
    assert "Received SIGINT; stopped web, worker, experiments, loop." in output
    assert not answers_http(port)


@pytest.fixture
def empty_database(transactional_db, tmp_path):
    """A database without tables: an SQLite file, or a new PostgreSQL database (a name that
    does not exist would stop the web server too, not only the worker)."""
    if connection.vendor != "postgresql":
        yield str(tmp_path / "empty.sqlite3")
        return
    name = f"assay_empty_{os.getpid()}"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield name
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_serve_in_production_exits_with_an_error_naming_the_worker_when_it_dies(empty_database):
    # An empty database: the web server starts, the worker fails on its missing table; with
    # restarts off (production) that death stops everything at once.
    serve = start_serve(free_port(), empty_database, ASSAY_SERVE_RESTART="false")
    output, _ = serve.communicate(timeout=60)

    assert serve.returncode == 1, output
    assert "The worker process exited with status 1; stopped the others." in output
    assert "restarting" not in output


class OutputLines:
    """Reads a process's output on a thread, so a test can wait for a line while it runs."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._reader.start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            self.lines.append(line)

    def wait_for(self, pattern: str, *, timeout: float = 60) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines:
                if found := re.search(pattern, line):
                    return found
            time.sleep(0.1)
        raise AssertionError(f"no line matched {pattern!r}:\n{self.text()}")

    def text(self) -> str:
        self._reader.join(timeout=30)
        return "".join(self.lines)


@pytest.mark.django_db(transaction=True)
def test_serve_in_development_restarts_a_killed_worker_and_says_so():
    serve = start_serve(free_port(), str(connection.settings_dict["NAME"]))
    output = OutputLines(serve)
    try:
        first = int(output.wait_for(r"started worker \(pid (\d+)\)").group(1))
        os.kill(first, signal.SIGKILL)
        second = int(output.wait_for(r"restarted worker \(pid (\d+)\)").group(1))
        serve.send_signal(signal.SIGINT)
        serve.wait(timeout=30)
    finally:
        if serve.poll() is None:
            serve.kill()

    text = output.text()
    assert second != first
    assert "The worker process exited with status -9; restarting it in 0.5 s" in text
    assert serve.returncode == 0, text
    assert "Received SIGINT; stopped web, worker, experiments, loop." in text
