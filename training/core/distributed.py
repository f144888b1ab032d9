"""Multi-process training: the same runner (`training.core.runner`) started once per
process by ``torchrun`` (``python -m torch.distributed.run``, shipped with torch), with
Hugging Face ``Trainer`` doing the data-parallel work.

Strategies (``ASSAY_TRAINING_STRATEGY``):

- ``ddp``: DistributedDataParallel, each process holds the whole model (the default; on CPU
  over the gloo backend, on GPUs over NCCL).
- ``fsdp``: Fully Sharded Data Parallel (``full_shard auto_wrap``): parameters, gradients
  and optimizer state are split across the GPUs, for models too large for one.
- ``deepspeed``: DeepSpeed ZeRO stage 3 with Trainer's ``auto`` values; needs the
  ``deepspeed`` package on the GPU worker (not in requirements.txt).

Only rank 0 reports: its progress, log lines and curve points come back to the launching
process as ``ASSAY-EVENT <json>`` lines on its standard output, and only rank 0 saves the
model, runs the final evaluation, logs to MLflow and writes ``result.json``; the launching
process records that result like any other run's.
"""

import json
import os
import signal
import subprocess
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path

STRATEGIES = ("ddp", "fsdp", "deepspeed")
EVENT_PREFIX = "ASSAY-EVENT "

# ZeRO-3 with every size left to Trainer ("auto" values are filled from TrainingArguments).
DEEPSPEED_ZERO3 = {
    "zero_optimization": {
        "stage": 3,
        "overlap_comm": True,
        "stage3_gather_16bit_weights_on_model_save": True,
    },
    "bf16": {"enabled": "auto"},
    "fp16": {"enabled": "auto"},
    "train_micro_batch_size_per_gpu": "auto",
    "train_batch_size": "auto",
    "gradient_accumulation_steps": "auto",
    "gradient_clipping": "auto",
}


class TrainingLaunchError(RuntimeError):
    """The processes of a multi-process run failed; the message carries their last words."""


@dataclass(frozen=True)
class LaunchOptions:
    """How many processes train together, and how they share the model."""

    processes: int = 1
    strategy: str = "ddp"

    def __post_init__(self) -> None:
        if self.processes < 1:
            raise ValueError(f"Training needs at least one process, not {self.processes}.")
        if self.strategy not in STRATEGIES:
            raise ValueError(
                f"Unknown training strategy '{self.strategy}'; use {', '.join(STRATEGIES)}."
            )


def process_rank() -> int:
    """This process's rank among the training processes (0 outside a launch)."""
    return int(os.environ.get("RANK", "0"))


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def strategy_arguments(strategy: str, *, cuda: bool) -> dict:
    """Extra ``TrainingArguments`` for ``strategy`` in a launch of several processes."""
    if strategy == "fsdp":
        # use_orig_params lets FSDP shard a model whose LoRA weights alone are trainable.
        return {"fsdp": "full_shard auto_wrap", "fsdp_config": {"use_orig_params": True}}
    if strategy == "deepspeed":
        return {"deepspeed": DEEPSPEED_ZERO3}
    return {"ddp_backend": "nccl" if cuda else "gloo"}


class EventReporter:
    """A runner `Reporter` that writes progress, log lines and curve points as event lines
    for the launching process."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stdout

    def _emit(self, event: dict) -> None:
        self.stream.write(EVENT_PREFIX + json.dumps(event, default=float) + "\n")
        self.stream.flush()

    def update(self, percent: float, message: str = "") -> None:
        self._emit({"type": "update", "percent": percent, "message": message})

    def log(self, line: str) -> None:
        self._emit({"type": "log", "line": line})

    def record(self, kind: str, record: dict) -> None:
        self._emit({"type": "record", "kind": kind, "record": record})

    def error(self, exc: BaseException) -> None:
        """What made this process fail (every rank says it; the launcher keeps each once)."""
        self._emit({"type": "error", "rank": process_rank(), "message": f"{exc}"})


def launch_command(
    config_path: Path, data_dir: Path, output_dir: Path, *, options: LaunchOptions
) -> list[str]:
    """The torchrun command that runs `training.core.runner` in ``options.processes``
    processes on this machine."""
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={options.processes}",
        "-m",
        "training.core.runner",
        "--events",
        f"--strategy={options.strategy}",
        str(config_path),
        str(data_dir),
        str(output_dir),
    ]


def train_in_processes(
    config,
    data_dir: Path,
    output_dir: Path,
    *,
    options: LaunchOptions,
    reporter,
    on_record=None,
    tracking_uri: str = "",
    model_cache_dir: Path | None = None,
    cwd: Path | None = None,
) -> dict:
    """Train ``config`` in ``options.processes`` processes and return rank 0's result
    (``result.json``), forwarding its events to ``reporter`` and ``on_record`` as they
    come. Whatever ``reporter`` raises (a cancel) stops every process first."""
    output_dir = Path(output_dir)
    launch_dir = output_dir / "launch"
    launch_dir.mkdir(parents=True, exist_ok=True)
    config_path = launch_dir / "config.json"
    config_path.write_text(json.dumps(config.to_dict()))
    (output_dir / "result.json").unlink(missing_ok=True)
    env = {
        **os.environ,
        "ASSAY_MLFLOW_TRACKING_URI": tracking_uri,
        "ASSAY_TRAINING_MODEL_CACHE": str(model_cache_dir or ""),
        "PYTHONUNBUFFERED": "1",
    }
    command = launch_command(config_path, Path(data_dir), output_dir, options=options)
    reporter.log(f"Launching {options.processes} training processes ({options.strategy})")
    stderr_path = launch_dir / "stderr.log"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=env,
            cwd=cwd,
            start_new_session=True,  # one signal reaches torchrun and every rank
        )
        try:
            other_lines, errors = _forward_events(process.stdout, reporter, on_record)
            code = process.wait()
        except BaseException:
            _stop(process)
            raise
    if code != 0:
        why = "; ".join(errors) or "\n".join([*other_lines, *_tail(stderr_path)][-20:])
        raise TrainingLaunchError(
            f"The training processes failed (exit code {code}; their output is in "
            f"{stderr_path}): {why}"
        )
    return json.loads((output_dir / "result.json").read_text())


def _forward_events(stream, reporter, on_record) -> tuple[deque, list[str]]:
    other_lines: deque = deque(maxlen=20)
    errors: list[str] = []
    for line in stream:
        if not line.startswith(EVENT_PREFIX):
            other_lines.append(line.rstrip())
            continue
        event = json.loads(line[len(EVENT_PREFIX) :])
        if event["type"] == "update":
            reporter.update(event["percent"], event["message"])
        elif event["type"] == "log":
            reporter.log(event["line"])
        elif event["type"] == "record" and callable(on_record):
            on_record(event["kind"], event["record"])
        elif event["type"] == "error" and event["message"] not in errors:
            errors.append(event["message"])
    return other_lines, errors


def _stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def _tail(path: Path, lines: int = 20) -> list[str]:
    with path.open(errors="replace") as handle:
        return [line.rstrip() for line in deque(handle, maxlen=lines)]
