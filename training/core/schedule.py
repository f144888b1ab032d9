"""The learning-rate schedule as a pure function of how far the run has come.

A run's progress is the larger of its step share (step / planned steps) and, with a time
budget, its clock share (elapsed / the time the budget leaves for training). Without a
budget that is the usual step-based schedule; with one that ends the run before its
planned steps, the warm-up and the decay follow the clock, so the learning rate still
reaches 0 when the budget runs out instead of stopping half-way down its slope.
"""

import math


def run_progress(
    step: int, planned_steps: int, *, elapsed: float = 0.0, budget_seconds: float = 0.0
) -> float:
    """How far the run has come, in [0, 1]."""
    by_steps = step / planned_steps if planned_steps > 0 else 0.0
    by_clock = elapsed / budget_seconds if budget_seconds > 0 else 0.0
    return min(1.0, max(by_steps, by_clock))


def learning_rate_factor(progress: float, *, schedule: str, warmup: float) -> float:
    """The share of the peak learning rate at ``progress``: a linear warm-up over the
    first ``warmup`` of the run, then ``schedule`` (linear, cosine or constant) to 0."""
    progress = min(1.0, max(0.0, progress))
    if warmup > 0 and progress < warmup:
        return progress / warmup
    if schedule == "constant":
        return 1.0
    remaining = (1.0 - progress) / (1.0 - warmup) if warmup < 1 else 0.0
    if schedule == "cosine":
        return 0.5 * (1.0 - math.cos(math.pi * remaining))
    if schedule == "linear":
        return remaining
    raise ValueError(f"Unknown learning-rate schedule '{schedule}'.")
