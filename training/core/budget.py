"""A wall-clock budget for training: "train for at most N minutes".

`TimeBudget` is the pure part (what fits, when to stop); `budget_callback` wraps it in a
transformers `TrainerCallback`. The callback stops *before* the budget would be overrun:
after each optimizer step it predicts the end of one more step plus the final evaluation
(the last evaluation's measured duration) and, when that would pass the budget, asks
Trainer for an evaluation and a checkpoint now (when that still fits) and then to stop.
The first evaluation's length cannot be predicted, so a budget shorter than one
evaluation can be overrun by it. Trainer's
``load_best_model_at_end`` then restores the best checkpoint by the chosen metric, so a
run cut short still hands over its best model, not its last.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class TimeBudget:
    """Stop decisions for a budget of ``seconds`` (fractions of a minute are fine)."""

    seconds: float
    clock: Callable[[], float] = time.monotonic
    started: float | None = None
    step_seconds: float = 0.0  # running mean of one optimizer step
    evaluation_seconds: float = 0.0  # the last evaluation's duration
    steps: int = 0
    evaluations: int = 0
    stopped_at_step: int | None = None
    _step_began: float | None = field(default=None, repr=False)
    _evaluation_began: float | None = field(default=None, repr=False)

    def start(self) -> None:
        """Start the clock (once: the runner starts it before Trainer sets up)."""
        if self.started is None:
            self.started = self.clock()

    @property
    def elapsed(self) -> float:
        return 0.0 if self.started is None else self.clock() - self.started

    def step_began(self) -> None:
        self._step_began = self.clock()

    def step_ended(self) -> None:
        if self._step_began is not None:
            took = self.clock() - self._step_began
            self.steps += 1
            self.step_seconds += (took - self.step_seconds) / self.steps
        self._step_began = None

    def evaluation_began(self) -> None:
        self._evaluation_began = self.clock()

    def evaluation_ended(self) -> None:
        if self._evaluation_began is not None:
            self.evaluation_seconds = self.clock() - self._evaluation_began
            self.evaluations += 1
        self._evaluation_began = None

    @property
    def reserve(self) -> float:
        """Kept back for what follows the last step (restoring the best checkpoint):
        5% of the budget, at most 30 s."""
        return min(0.05 * self.seconds, 30.0)

    @property
    def training_seconds(self) -> float:
        """The part of the budget left for optimizer steps: less the reserve and the
        closing evaluation (as long as the last one took)."""
        return max(1e-9, self.seconds - self.reserve - self.evaluation_seconds)

    def must_stop(self) -> bool:
        """True when one more step and the closing evaluation would not fit."""
        ahead = self.step_seconds + self.evaluation_seconds + self.reserve
        return self.elapsed + ahead >= self.seconds

    def closing_evaluation(self) -> bool:
        """Evaluate the step training stops at? Yes when it fits in what is left, or when
        nothing was evaluated yet (there would be no best checkpoint to keep)."""
        ahead = self.evaluation_seconds + self.reserve
        return self.evaluations == 0 or self.elapsed + ahead <= self.seconds


def steps_within(seconds: float, *, seconds_per_step: float) -> int:
    """Optimizer steps that fit in ``seconds`` (at least one: a run always takes a step)."""
    if seconds_per_step <= 0:
        return 1
    return max(1, int(seconds // seconds_per_step))


def budget_callback(budget: TimeBudget):
    """A `TrainerCallback` that enforces ``budget`` (see the module docstring)."""
    from transformers import TrainerCallback

    class TimeBudgetCallback(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            budget.start()

        def on_step_begin(self, args, state, control, **kwargs):
            budget.step_began()

        def on_step_end(self, args, state, control, **kwargs):
            budget.step_ended()
            stop, evaluate = _agreed(budget.must_stop(), budget.closing_evaluation())
            if stop and not control.should_training_stop:
                budget.stopped_at_step = state.global_step
                # Evaluate and checkpoint this step so it can compete for "best", unless
                # that would overrun the budget; the best evaluated checkpoint is kept.
                control.should_evaluate = evaluate
                control.should_save = evaluate
                control.should_training_stop = True
            if control.should_evaluate:
                budget.evaluation_began()
            return control

        def on_evaluate(self, args, state, control, **kwargs):
            budget.evaluation_ended()

    return TimeBudgetCallback()


def _agreed(stop: bool, evaluate: bool) -> tuple[bool, bool]:
    """Rank 0's decision, for every process of a multi-process run: processes whose own
    clocks stopped at different steps would wait for each other's gradients forever."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return stop, evaluate
    import torch

    device = "cuda" if dist.get_backend() == "nccl" else "cpu"  # NCCL moves GPU tensors only
    decision = torch.tensor([int(stop), int(evaluate)], device=device)
    dist.broadcast(decision, src=0)
    return bool(decision[0]), bool(decision[1])
