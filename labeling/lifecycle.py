"""Installing, starting and stopping a local Label Studio server.

Label Studio pins its own Django, redis and SDK versions, so it lives in its own
virtualenv (``var/label-studio-venv``) and runs as a separate process; Assay only talks
to it over HTTP. Everything is configured through the environment:

- ``LABEL_STUDIO_PORT``      port to bind on 127.0.0.1 (default 8081)
- ``LABEL_STUDIO_URL``       base URL Assay calls (default ``http://127.0.0.1:<port>``)
- ``LABEL_STUDIO_TOKEN``     the admin's legacy API token (40 hex) or a personal access token
- ``LABEL_STUDIO_USERNAME`` / ``LABEL_STUDIO_PASSWORD``  the admin account (an e-mail)
- ``LABEL_STUDIO_SECRET_KEY``  Django secret of the LS server; fixed, because a random one
  invalidates every token on restart
- ``LABEL_STUDIO_VENV`` / ``LABEL_STUDIO_DATA_DIR``  where it is installed / keeps its data

The defaults are for development and tests only. This module imports no Django model and
no Label Studio code: the management command and the test fixture both call it.
"""

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
REQUIREMENTS_FILE = REPO_DIR / "requirements-labelstudio.txt"

DEV_TOKEN = "a55a7de7a55a7de7a55a7de7a55a7de7a55a7de7"
DEV_USERNAME = "admin@assay.local"
DEV_PASSWORD = "assay-dev-password"
DEV_SECRET_KEY = "assay-label-studio-dev-only-secret-key"


class LabelStudioServerError(RuntimeError):
    """The local Label Studio could not be installed, started or stopped."""


def _data_dir() -> Path:
    try:
        from django.conf import settings

        return Path(settings.DATA_DIR)
    except Exception:  # noqa: BLE001 - usable without configured Django settings too
        return Path(os.environ.get("ASSAY_DATA_DIR", REPO_DIR / "var"))


@dataclass(frozen=True)
class LabelStudioServerConfig:
    """Where the local server is installed, where it keeps its data and how it is reached."""

    port: int
    url: str
    token: str
    username: str
    password: str
    secret_key: str
    venv_dir: Path
    data_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> "LabelStudioServerConfig":
        env = os.environ
        port = int(env.get("LABEL_STUDIO_PORT", "8081"))
        var = _data_dir()
        return cls(
            port=port,
            url=env.get("LABEL_STUDIO_URL", f"http://127.0.0.1:{port}").rstrip("/"),
            token=env.get("LABEL_STUDIO_TOKEN", DEV_TOKEN),
            username=env.get("LABEL_STUDIO_USERNAME", DEV_USERNAME),
            password=env.get("LABEL_STUDIO_PASSWORD", DEV_PASSWORD),
            secret_key=env.get("LABEL_STUDIO_SECRET_KEY", DEV_SECRET_KEY),
            venv_dir=Path(env.get("LABEL_STUDIO_VENV", var / "label-studio-venv")),
            data_dir=Path(env.get("LABEL_STUDIO_DATA_DIR", var / "label-studio")),
        )

    @property
    def executable(self) -> Path:
        return self.venv_dir / "bin" / "label-studio"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "label-studio.pid"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "label-studio.log"

    def server_env(self) -> dict[str, str]:
        """The environment the server runs with (see ../shared/STACK.md for why each)."""
        env = {
            **os.environ,
            "LABEL_STUDIO_BASE_DATA_DIR": str(self.data_dir / "data"),
            "SECRET_KEY": self.secret_key,
            "LABEL_STUDIO_USERNAME": self.username,
            "LABEL_STUDIO_PASSWORD": self.password,
            # Legacy tokens are off by default in 1.23; the admin's token is set from ours.
            "LABEL_STUDIO_USER_TOKEN": self.token,
            "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
            # Webhooks go to Assay on 127.0.0.1, which SSRF protection would refuse.
            "SSRF_PROTECTION_ENABLED": "false",
            "SENTRY_DSN": "",
            "FRONTEND_SENTRY_DSN": "",
            "LATEST_VERSION_CHECK": "false",
            "COLLECT_ANALYTICS": "false",
            **self.extra_env,
        }
        # Assay's own Django settings must not leak into Label Studio's Django.
        env.pop("DJANGO_SETTINGS_MODULE", None)
        env.pop("DATABASE_URL", None)
        return env


def server_health(url: str, *, timeout: float = 2.0) -> bool:
    """True when ``GET /health`` answers ``{"status": "UP"}``."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout) as response:
            return json.loads(response.read() or b"{}").get("status") == "UP"
    except (OSError, ValueError, urllib.error.URLError):
        return False


def server_is_installed(config: LabelStudioServerConfig) -> bool:
    return config.executable.exists()


def server_install(config: LabelStudioServerConfig, *, python: str = "python3.11") -> None:
    """Create the Label Studio virtualenv and install the pinned release (a few minutes)."""
    if not config.venv_dir.exists():
        _check_call([python, "-m", "venv", str(config.venv_dir)], "create the virtualenv")
    pip = config.venv_dir / "bin" / "pip"
    _check_call(
        [str(pip), "install", "--disable-pip-version-check", "-q", "-r", str(REQUIREMENTS_FILE)],
        "install label-studio",
    )


def _check_call(command: list[str], what: str) -> None:
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        raise LabelStudioServerError(
            f"Could not {what} ({' '.join(command)}): {completed.stderr.strip()[-2000:]}"
        )


def server_pid(config: LabelStudioServerConfig) -> int | None:
    """The pid of the server this module started, if it is still alive."""
    try:
        pid = int(config.pid_file.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def server_start(config: LabelStudioServerConfig, *, timeout: float = 240.0) -> int | None:
    """Start the server in its own process group and wait until it is healthy.

    Returns the new pid, or None when a server already answers at the configured URL.
    The first start applies Label Studio's migrations (about a minute)."""
    if server_health(config.url):
        return None
    if not server_is_installed(config):
        raise LabelStudioServerError(
            f"Label Studio is not installed in {config.venv_dir}; "
            "run `manage.py labeling_server install` first."
        )
    config.data_dir.mkdir(parents=True, exist_ok=True)
    command = _start_command(config)
    with open(config.log_file, "ab") as log:
        process = subprocess.Popen(
            command,
            env=config.server_env(),
            cwd=config.data_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    config.pid_file.write_text(str(process.pid))
    _wait_until_healthy(config, process, timeout)
    return process.pid


def server_run_foreground(config: LabelStudioServerConfig) -> None:
    """Become the Label Studio server (exec), for a supervisor that watches this process
    (`assay_serve`). When one already answers at the URL, wait instead of starting a second
    one, so stopping this process never stops a server something else started."""
    if server_health(config.url):
        while True:
            time.sleep(3600)
    if not server_is_installed(config):
        raise LabelStudioServerError(
            f"Label Studio is not installed in {config.venv_dir}; "
            "run `manage.py labeling_server install` first."
        )
    config.data_dir.mkdir(parents=True, exist_ok=True)
    os.chdir(config.data_dir)
    os.execve(str(config.executable), _start_command(config), config.server_env())


def _start_command(config: LabelStudioServerConfig) -> list[str]:
    return [
        str(config.executable),
        "start",
        "--no-browser",
        "--internal-host",
        "127.0.0.1",
        "--port",
        str(config.port),
    ]


def _wait_until_healthy(
    config: LabelStudioServerConfig, process: subprocess.Popen, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server_health(config.url):
            return
        if process.poll() is not None:
            config.pid_file.unlink(missing_ok=True)
            raise LabelStudioServerError(
                f"Label Studio exited with status {process.returncode} while starting; "
                f"see {config.log_file}:\n{_log_tail(config)}"
            )
        time.sleep(1.0)
    server_stop(config)
    raise LabelStudioServerError(
        f"Label Studio did not become healthy at {config.url} within {timeout:.0f} s; "
        f"see {config.log_file}:\n{_log_tail(config)}"
    )


def _log_tail(config: LabelStudioServerConfig, lines: int = 20) -> str:
    try:
        return "\n".join(config.log_file.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def server_stop(config: LabelStudioServerConfig, *, timeout: float = 20.0) -> bool:
    """Terminate the process group this module started. False if none was running."""
    pid = server_pid(config)
    if pid is None:
        config.pid_file.unlink(missing_ok=True)
        return False
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)
    if _alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    config.pid_file.unlink(missing_ok=True)
    return True


def _alive(pid: int) -> bool:
    try:
        # Reap it if it is our child, so a zombie does not count as alive.
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def server_status(config: LabelStudioServerConfig) -> dict:
    return {
        "url": config.url,
        "healthy": server_health(config.url),
        "pid": server_pid(config),
        "installed": server_is_installed(config),
        "log": str(config.log_file),
    }
