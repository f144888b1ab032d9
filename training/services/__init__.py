"""Training services: launching (from approved versions only), resuming, and the run handler."""

from training.services.execution import training_run_handler
from training.services.launch import (
    training_estimate,
    training_run_prepare,
    training_run_resume,
    training_run_start,
)

__all__ = [
    "training_estimate",
    "training_run_handler",
    "training_run_prepare",
    "training_run_resume",
    "training_run_start",
]
