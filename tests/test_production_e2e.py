"""The production commands, run natively, carry a user's whole flow over HTTP.

The processes are the README's "Run in production" list, each started as its own command:
migrate, assay_bootstrap, gunicorn with Assay's configuration, one RQ worker per named queue
(`assay_worker --queues ...`), the experiment evaluator and the loop's job, on a fresh
PostgreSQL database and Redis. Then, as a script would: create a project through the API,
import a file, build a version, submit and approve it, train a tiny model, deploy it, call it
through /v1/, and read the probes and metrics. Marked `production`: it runs in CI's
production stage (`bash .ci/run`), or with `pytest -m production` where PostgreSQL and Redis
run locally.
"""

import csv
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest
import redis

from tests.test_production import REPO_ROOT, free_port, prod_env
from tests.training.conftest import (  # noqa: F401 - the tiny model fixture, re-exported
    classification_records,
    tiny_bert,
    tiny_values,
)

pytestmark = [pytest.mark.production, pytest.mark.slow]

POSTGRES_ADMIN_URL = os.environ.get(
    "ASSAY_PRODUCTION_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("ASSAY_PRODUCTION_REDIS", "redis://127.0.0.1:6379/12")
QUEUES = ("default", "cpu-heavy", "gpu")


@pytest.fixture
def fresh_postgres():
    """A database of its own, dropped afterwards."""
    name = f"assay_production_{os.getpid()}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {POSTGRES_ADMIN_URL} is needed: {exc}")
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def production_site(tmp_path, fresh_postgres):
    """The README's production processes against ``fresh_postgres`` and Redis; yields the
    site's URL and an API token of the bootstrap admin."""
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()  # no job of an earlier run may reach these workers
    port = free_port()
    env = prod_env(
        tmp_path,
        DATABASE_URL=fresh_postgres,
        ASSAY_TASK_BACKEND="rq",
        REDIS_URL=REDIS_URL,
        ALLOWED_HOSTS="127.0.0.1",
        ASSAY_HOST="127.0.0.1",
        ASSAY_PORT=str(port),
        ASSAY_WEB_WORKERS="2",
        # Plain HTTP inside CI: the site would redirect pages to HTTPS otherwise.
        SECURE_SSL_REDIRECT="false",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
    )
    (tmp_path / "prometheus").mkdir()
    manage = [sys.executable, "manage.py"]
    for step in (["migrate", "--no-input"], ["assay_bootstrap"]):
        done = subprocess.run(
            [*manage, *step], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stdout + done.stderr
    token = subprocess.run(
        [*manage, "assay_token", "admin", "--name", "ci"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    commands = {
        "web": [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "python:curation.gunicorn_config",
            "curation.wsgi:application",
        ],
        **{f"worker-{queue}": [*manage, "assay_worker", "--queues", queue] for queue in QUEUES},
        "experiments": [
            *manage,
            "serving_experiment",
            "evaluate",
            "--all",
            "--loop",
            "--interval",
            "30",
        ],
        "loop": [*manage, "loop_tick", "--loop", "--interval", "900"],
    }
    processes, logs = {}, {}
    for name, argv in commands.items():
        logs[name] = tmp_path / f"{name}.log"
        with open(logs[name], "w") as output:
            processes[name] = subprocess.Popen(
                argv, cwd=REPO_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
            )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: _answers(f"{url}/healthz"), 180, "gunicorn answering /healthz", logs)
        yield url, token.stdout.strip().splitlines()[-1], processes, logs
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _wait(predicate, seconds: float, what: str, logs: dict[str, Path]):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    tails = "\n".join(f"--- {n}\n{p.read_text()[-2000:]}" for n, p in logs.items())
    pytest.fail(f"waited {seconds} s for {what}\n{tails}")


def test_production_processes_carry_a_project_from_import_to_a_served_model(
    production_site,
    tiny_bert,  # noqa: F811 - the imported fixture
    tmp_path,
):
    url, token, processes, logs = production_site
    api = httpx.Client(
        base_url=f"{url}/api", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )

    def finished(path: str, done=("succeeded",)):
        def check():
            body = api.get(path).json()
            assert body["status"] not in {"failed", "cancelled"}, body
            return body if body["status"] in done else None

        return check

    project = api.post(
        "/projects",
        json={"name": "CI spam", "task_type": "classification", "labels": ["ham", "spam"]},
    )
    assert project.status_code == 201, project.text
    project_id = project.json()["id"]
    data = tmp_path / "spam.csv"
    with open(data, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["text", "label"])
        writer.writeheader()
        for n, record in enumerate(classification_records(60, seed=7)):
            writer.writerow({"text": f"{record['text']} {n}", "label": record["label"]})
    with open(data, "rb") as handle:
        started = api.post(f"/projects/{project_id}/imports", files={"file": handle})
    assert started.status_code == 202, started.text
    _wait(finished(f"/runs/{started.json()['id']}"), 120, "the import (default queue)", logs)

    built = api.post(f"/projects/{project_id}/versions", json={"note": "ci"})
    assert built.status_code == 202, built.text
    _wait(finished(f"/runs/{built.json()['id']}"), 120, "the version build", logs)
    version = api.get(f"/projects/{project_id}/versions").json()[0]
    assert version["status"] == "draft"
    assert api.post(f"/versions/{version['id']}/submit").status_code == 200
    approved = api.post(
        f"/versions/{version['id']}/approve",
        json={"override_reason": "60 examples: a CI smoke test"},
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text

    training = api.post(
        f"/versions/{version['id']}/training-runs", json={"config": tiny_values(tiny_bert)}
    )
    assert training.status_code == 202, training.text
    trained = _wait(
        finished(f"/training-runs/{training.json()['id']}"),
        300,
        "the training run (gpu queue)",
        logs,
    )
    assert trained["best_metric"], trained

    deployed = api.post(f"/training-runs/{trained['id']}/deployments", json={"name": "ci-spam"})
    assert deployed.status_code == 202, deployed.text
    _wait(
        finished(f"/deployments/{deployed.json()['id']}", done=("active",)),
        180,
        "the deployment start (gpu queue)",
        logs,
    )
    application = api.post(f"/projects/{project_id}/applications", json={"name": "ci-app"})
    assert application.status_code == 201, application.text
    answer = httpx.post(
        f"{url}/v1/classifications",
        json={"model": "ci-spam", "input": ["win a free prize now", "lunch by the river"]},
        headers={"Authorization": f"Bearer {application.json()['key']}"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    assert [item["label"] in {"ham", "spam"} for item in answer.json()["data"]] == [True, True]

    ready = httpx.get(f"{url}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    assert {"database", "cache", "queue"} <= {
        k for k, v in ready.json()["checks"].items() if v["ok"]
    }
    metrics = httpx.get(f"{url}/metrics", timeout=10).text
    for kind in ("import", "version_build", "training", "deployment_start"):
        assert f'assay_runs{{kind="{kind}",status="succeeded"}} 1.0' in metrics, kind
    # Counted by the gunicorn worker that answered, added up over the workers at the scrape.
    served = 'deployment="ci-spam",endpoint="classify"'
    assert f'assay_serving_request_seconds_count{{{served},outcome="ok"}} 1.0' in metrics
    tokens = re.escape(f'assay_serving_tokens_total{{{served},kind="prompt"}} ')
    assert re.search(tokens + "[1-9]", metrics), "no prompt tokens counted"
    # Training and the deployment start ran on the gpu queue's worker, the rest elsewhere.
    assert "gpu: " in logs["worker-gpu"].read_text()
    assert "default: " in logs["worker-default"].read_text()
    assert all(process.poll() is None for process in processes.values())
