"""A pre-launch estimate of memory and time, and the refusal when a run cannot fit.

Memory: weights (parameters × bytes per parameter), gradients and AdamW state for the
trainable parameters, and a rough upper bound for activations (batch × length × hidden ×
layers × a constant). Time: seconds per step from a measured probe when given, else a
FLOP bound (6 × parameters × tokens per step for full fine-tuning, 4 × for LoRA) at an
assumed sustained rate for the hardware. With a time budget, the estimate says how many
steps (and epochs) fit in it, and the run's time is the smaller of the two.
"""

from dataclasses import asdict, dataclass

from training.core.budget import steps_within

BYTES_PER_PARAMETER = {"float32": 4, "bfloat16": 2, "float16": 2, "4bit": 0.5}
# Activations kept for backward per token, per layer, per hidden unit (attention scores,
# MLP intermediates, norms): a deliberately generous constant.
ACTIVATION_FACTOR = 34
CPU_FLOPS_PER_CORE = 2.5e10  # sustained fp32 training throughput seen on 2 shared cores
GPU_FLOPS = 1.0e14


@dataclass(frozen=True)
class Hardware:
    device: str  # "cpu" or "cuda"
    memory_bytes: int
    cores: int = 1


@dataclass(frozen=True)
class ModelShape:
    parameters: int
    hidden_size: int
    layers: int


@dataclass(frozen=True)
class Estimate:
    parameters: int
    trainable_parameters: int
    weights_bytes: int
    optimizer_bytes: int
    activation_bytes: int
    total_bytes: int
    available_bytes: int
    seconds_per_step: float
    steps: int
    total_seconds: float
    measured: bool
    budget_seconds: float = 0.0  # 0: no time budget
    steps_in_budget: int | None = None
    epochs_in_budget: float | None = None

    @property
    def budget_limits(self) -> bool:
        """True when the budget, not steps/epochs, ends the run."""
        return self.steps_in_budget is not None and self.steps_in_budget < self.steps

    @property
    def fits(self) -> bool:
        return self.total_bytes <= self.available_bytes

    def as_dict(self) -> dict:
        return {
            **asdict(self),
            "fits": self.fits,
            "budget_limits": self.budget_limits,
            "budget_summary": self.budget_summary(),
        }

    def budget_summary(self) -> str:
        """What fits in the time budget ('' without one)."""
        if not self.budget_seconds:
            return ""
        epochs = f" (≈ {self.epochs_in_budget:.2f} epochs)" if self.epochs_in_budget else ""
        minutes = f"{self.budget_seconds / 60:g}-minute budget"
        if self.budget_limits:
            return (
                f"the {minutes} fits about {self.steps_in_budget} of the {self.steps} planned "
                f"steps{epochs}; the run stops there with its best checkpoint"
            )
        return f"all {self.steps} planned steps fit in the {minutes}{epochs}"

    def summary(self) -> str:
        how = "measured" if self.measured else "estimated"
        text = (
            f"needs about {_gib(self.total_bytes)} (weights {_gib(self.weights_bytes)}, "
            f"optimizer {_gib(self.optimizer_bytes)}, activations {_gib(self.activation_bytes)}) "
            f"of {_gib(self.available_bytes)} available; {self.steps} steps at "
            f"{self.seconds_per_step:.2f} s/step ({how}) ≈ {self.total_seconds / 60:.1f} min"
        )
        budget = self.budget_summary()
        return f"{text}; {budget}" if budget else text


def _gib(value: float) -> str:
    return f"{value / 2**30:.2f} GiB"


def trainable_share(shape: ModelShape, *, method: str, lora_r: int, targets: int = 2) -> int:
    """Trainable parameters: all for full fine-tuning; for LoRA, two r×hidden matrices per
    adapted module per layer (plus a small head)."""
    if method == "full":
        return shape.parameters
    return targets * shape.layers * 2 * lora_r * shape.hidden_size + 2 * shape.hidden_size


def estimate_run(
    shape: ModelShape,
    hardware: Hardware,
    *,
    method: str,
    lora_r: int,
    batch_size: int,
    max_length: int,
    steps: int,
    seconds_per_step: float | None = None,
    budget_seconds: float = 0.0,
    train_examples: int = 0,
) -> Estimate:
    weight_bytes_each = BYTES_PER_PARAMETER["4bit" if method == "qlora" else "float32"]
    trainable = trainable_share(shape, method=method, lora_r=lora_r)
    weights = int(shape.parameters * weight_bytes_each)
    optimizer = trainable * 4 * 3  # gradient + two AdamW moments, fp32
    activations = batch_size * max_length * shape.hidden_size * shape.layers * ACTIVATION_FACTOR
    total = int((weights + optimizer + activations) * 1.2)  # allocator and framework overhead
    measured = seconds_per_step is not None
    if seconds_per_step is None:
        factor = 6 if method == "full" else 4
        flops = factor * shape.parameters * batch_size * max_length
        rate = GPU_FLOPS if hardware.device == "cuda" else CPU_FLOPS_PER_CORE * hardware.cores
        seconds_per_step = flops / rate
    in_budget = None
    epochs_in_budget = None
    if budget_seconds > 0:
        in_budget = steps_within(budget_seconds, seconds_per_step=seconds_per_step)
        if train_examples > 0:
            epochs_in_budget = min(in_budget, steps) * batch_size / train_examples
    run_steps = min(steps, in_budget) if in_budget is not None else steps
    return Estimate(
        parameters=shape.parameters,
        trainable_parameters=trainable,
        weights_bytes=weights,
        optimizer_bytes=optimizer,
        activation_bytes=activations,
        total_bytes=total,
        available_bytes=hardware.memory_bytes,
        seconds_per_step=seconds_per_step,
        steps=steps,
        total_seconds=seconds_per_step * run_steps,
        measured=measured,
        budget_seconds=budget_seconds,
        steps_in_budget=in_budget,
        epochs_in_budget=epochs_in_budget,
    )


def planned_steps(*, train_examples: int, batch_size: int, epochs: float, max_steps: int) -> int:
    if max_steps > 0:
        return max_steps
    per_epoch = max(1, -(-train_examples // batch_size))
    return max(1, int(per_epoch * epochs + 0.999))
