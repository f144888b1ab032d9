"""Progress of a training run: the `Reporter` protocol the runner reports to, the curve
`History`, and the `TrainerCallback` that feeds both from Trainer's logs."""

from dataclasses import dataclass, field
from typing import Protocol

TRAIN_SHARE = 80.0  # percent of the progress bar for training; the rest is final evaluation


class Reporter(Protocol):
    def update(self, percent: float, message: str = "") -> None: ...

    def log(self, line: str) -> None: ...


class SilentReporter:
    def update(self, percent: float, message: str = "") -> None:
        pass

    def log(self, line: str) -> None:
        pass


@dataclass
class History:
    """Training loss and validation metrics by step, for the curves."""

    train: list[dict] = field(default_factory=list)
    validation: list[dict] = field(default_factory=list)
    on_record: object = None

    def add(self, kind: str, record: dict) -> None:
        getattr(self, kind).append(record)
        if callable(self.on_record):
            self.on_record(kind, record)


def progress_callback(reporter: Reporter, history: History):
    from transformers import TrainerCallback

    class ProgressCallback(TrainerCallback):
        """Forwards Trainer logs to the reporter and the history."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            logs = logs or {}
            step = state.global_step
            if "loss" in logs:
                history.add("train", {"step": step, "loss": float(logs["loss"])})
            if any(key.startswith("eval_") for key in logs):
                record = {k[5:]: v for k, v in logs.items() if k.startswith("eval_")}
                history.add("validation", {"step": step, **_numbers(record)})
                reporter.log(f"step {step}: validation {_format(record)}")
            total = max(state.max_steps, 1)
            reporter.update(TRAIN_SHARE * step / total, f"Training: step {step} of {total}")

    return ProgressCallback()


def _numbers(record: dict) -> dict:
    """Metric values only (not eval timings)."""
    return {
        k: float(v)
        for k, v in record.items()
        if isinstance(v, int | float) and "runtime" not in k and "per_second" not in k
    }


def _format(record: dict) -> str:
    keep = ("loss", "accuracy", "macro_f1", "auc_roc", "rouge_l", "bleu")
    return ", ".join(f"{k} {record[k]:.4g}" for k in keep if record.get(k) is not None)


def history_from_logs(log_history: list[dict]) -> dict[str, list[dict]]:
    """Curves from Trainer's log history, which survives a resume (it is checkpointed)."""
    history: dict[str, list[dict]] = {"train": [], "validation": []}
    for entry in log_history:
        step = entry.get("step", 0)
        if "loss" in entry:
            point = {"step": step, "loss": float(entry["loss"])}
            if "learning_rate" in entry:
                point["learning_rate"] = float(entry["learning_rate"])
            history["train"].append(point)
        evaluation_record = {k[5:]: v for k, v in entry.items() if k.startswith("eval_")}
        if evaluation_record:
            history["validation"].append({"step": step, **_numbers(evaluation_record)})
    return history
