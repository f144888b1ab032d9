"""Assay's `Trainer`: Hugging Face's, with two changes a training run notices.

- **The schedule** (`training.core.schedule`): warm-up and decay follow the run's
  progress, which a time budget advances by the clock, so a run the budget ends early
  still anneals to 0.
- **The loss** of a causal LM on its labelled positions only (`training.core.loss`), once
  the first batch has shown it equals the model's own loss; one process, as Trainer's own
  loss scaling across processes is not reproduced.
"""

from torch.optim.lr_scheduler import LambdaLR
from transformers import Trainer

from training.core.budget import TimeBudget
from training.core.config import TrainingConfig
from training.core.loss import labelled_loss, same_as_model_loss
from training.core.schedule import learning_rate_factor, run_progress


class AssayTrainer(Trainer):
    def __init__(self, *args, config: TrainingConfig, budget: TimeBudget | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.assay_config = config
        self.budget = budget
        # None: not checked yet; then whether the labelled-positions loss is in use.
        self.labelled_loss_checked: bool | None = None if not config.is_classification else False

    def _labelled_loss_applies(self, model, inputs) -> bool:
        if self.labelled_loss_checked is None:
            single = self.accelerator.num_processes == 1 and self.args.n_gpu <= 1
            unwrapped = self.accelerator.unwrap_model(model)
            # Under mixed precision the Accelerator runs the model's forward in bf16
            # autocast, so the labelled loss is checked in the same autocast. Checked in
            # float32, bf16 rounding (~1e-3 on a real model) failed the check, and the run
            # fell back to the full-vocabulary loss. Several processes: neither checked
            # nor used.
            with self.accelerator.autocast():
                self.labelled_loss_checked = single and same_as_model_loss(unwrapped, inputs)
        return self.labelled_loss_checked

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if (
            model.training
            and not return_outputs
            and "labels" in inputs
            and self._labelled_loss_applies(model, inputs)
        ):
            # The model's forward carries the mixed-precision autocast; the labelled loss
            # calls its decoder directly, so it enters the autocast itself.
            with self.accelerator.autocast():
                loss = labelled_loss(self.accelerator.unwrap_model(model), inputs)
            if num_items_in_batch is not None:  # Trainer's scaling: a sum over its items
                labelled = int((inputs["labels"][:, 1:] != -100).sum())
                loss = loss * labelled / num_items_in_batch
            return loss
        return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)

    def create_scheduler(self, num_training_steps: int, optimizer=None):
        if self.lr_scheduler is None:
            config, budget = self.assay_config, self.budget

            def factor(step: int) -> float:
                clock = {}
                if budget is not None and budget.started is not None:
                    clock = {"elapsed": budget.elapsed, "budget_seconds": budget.training_seconds}
                progress = run_progress(step, num_training_steps, **clock)
                return learning_rate_factor(
                    progress, schedule=config.lr_schedule, warmup=config.warmup_ratio
                )

            self.lr_scheduler = LambdaLR(optimizer or self.optimizer, factor)
            self._created_lr_scheduler = True
        return self.lr_scheduler
