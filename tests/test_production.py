"""Production mode: the prod settings pass Django's deployment checks, and gunicorn serves
the site with JSON logs, probes and metrics. Each case runs in its own Python process,
since settings are read once at import time."""

import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from curation.management.commands.assay_serve import served_processes
from tests.test_settings import SETTINGS_VARIABLES

REPO_ROOT = Path(__file__).resolve().parents[1]
PROD_VARIABLES = (
    *SETTINGS_VARIABLES,
    "ALLOWED_HOSTS",
    "LABEL_STUDIO_ENABLED",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "ASSAY_LOG_FORMAT",
    "ASSAY_WEB_SERVER",
    "PROMETHEUS_MULTIPROC_DIR",
)


def prod_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """What a production deployment must set, and nothing from the test process."""
    clean = {k: v for k, v in os.environ.items() if k not in PROD_VARIABLES}
    return {
        **clean,
        "DJANGO_SETTINGS_MODULE": "curation.settings.prod",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ASSAY_DATA_DIR": str(tmp_path / "data"),
        **extra,
    }


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_prod_settings_pass_the_deployment_checks_at_warning_level(tmp_path):
    checked = manage(prod_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "no issues" in checked.stdout


def test_turning_https_off_by_environment_shows_in_the_deployment_checks(tmp_path):
    env = prod_env(tmp_path, SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="0")

    checked = manage(env, "check", "--deploy", "--fail-level", "WARNING")

    assert checked.returncode != 0
    assert "security.W008" in checked.stderr  # SSL redirect
    assert "security.W004" in checked.stderr  # HSTS


def test_prod_serves_with_gunicorn_and_dev_with_runserver():
    gunicorn = served_processes(
        host="0.0.0.0", port=9000, task_backend="database", web_server="gunicorn"
    )
    runserver = served_processes(host="0.0.0.0", port=9000, task_backend="database")

    assert gunicorn[0].argv[1:5] == ["-m", "gunicorn", "-c", "python:curation.gunicorn_config"]
    assert gunicorn[0].argv[-3:] == ["--bind", "0.0.0.0:9000", "curation.wsgi:application"]
    assert "runserver" in runserver[0].argv


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(url)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def gunicorn_site(tmp_path):
    """gunicorn with the prod settings, two workers sharing Prometheus numbers, JSON logs."""
    port = free_port()
    env = prod_env(
        tmp_path,
        ASSAY_HOST="127.0.0.1",
        ASSAY_PORT=str(port),
        ASSAY_WEB_WORKERS="2",
        ASSAY_LOG_FORMAT="json",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
    )
    migrated = manage(env, "migrate", "--no-input")
    assert migrated.returncode == 0, migrated.stderr
    log = tmp_path / "gunicorn.log"
    with open(log, "w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:curation.gunicorn_config"]
            + ["curation.wsgi:application"],
            cwd=REPO_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        # Two workers import Django and the apps; on 2 busy cores that can take a minute.
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if get(f"{url}/healthz")[0] == 200:
                    break
            except OSError:
                assert server.poll() is None, log.read_text()
                time.sleep(0.2)
        else:
            pytest.fail(f"gunicorn did not answer /healthz within 180 s:\n{log.read_text()}")
        yield url, log
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
def test_gunicorn_serves_probes_metrics_and_redirects_pages_to_https(gunicorn_site):
    url, log = gunicorn_site
    # A connection left idle for a few seconds, as a proxy's or client's pool leaves it,
    # still answers: gunicorn's own 2 s keep-alive closed it under the load benchmark's
    # clients, one of which then sent its request into the closing socket.
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    idle_answers = []
    for pause in (0, 3):
        time.sleep(pause)
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
        idle_answers.append(response.status)
    connection.close()
    assert idle_answers == [200, 200]

    ready = get(f"{url}/readyz")
    page = get(f"{url}/login/")
    for _ in range(4):  # spread over both workers
        get(f"{url}/healthz")
    status, metrics, _ = get(f"{url}/metrics")

    assert ready[0] == 200, ready[1]
    assert json.loads(ready[1])["checks"]["database"]["ok"] is True
    assert page[0] == 301 and page[2]["Location"].startswith("https://")
    assert status == 200
    assert b"# HELP assay_runs " in metrics
    # Counted across gunicorn's worker processes: at least the five /healthz requests.
    healthz_count = next(
        line
        for line in metrics.decode().splitlines()
        if line.startswith("django_http_requests_latency_seconds_by_view_method_count")
        and 'view="healthz"' in line
    )
    assert float(healthz_count.rsplit(" ", 1)[1]) >= 5
    # Every line gunicorn and Django wrote is one JSON object; requests carry their fields.
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    access = [line for line in lines if line["logger"] == "gunicorn.access"]
    readyz = next(entry for entry in access if entry["path"] == "/readyz")
    assert (readyz["method"], readyz["status"]) == ("GET", 200)
    assert readyz["duration_ms"] >= 0
