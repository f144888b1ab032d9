"""The training runner: a plain function of (config, data folder, output folder).

`train` fine-tunes with Hugging Face `Trainer` (LoRA through PEFT, or every weight),
evaluates on the validation split every ``eval_steps`` with task metrics from real
predictions or generations, keeps the best checkpoint by the chosen metric, stops early,
resumes from the last checkpoint in the output folder when a previous attempt was killed,
then runs the final evaluation on the test split. Progress goes to a `Reporter` through a
`TrainerCallback`. Output folder layout::

    checkpoints/checkpoint-<step>/   Trainer checkpoints (the last two, and the best)
    model/                           the best model: a LoRA adapter or full weights
    result.json                      history, metrics, comparison, forgetting check

Run as ``python -m training.core.runner CONFIG.json DATA_DIR OUTPUT_DIR`` for a worker
process of its own, or under torchrun for several (`training.core.distributed`).
"""

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from training.core import data as training_data
from training.core import distributed, evaluation, tracking
from training.core.budget import TimeBudget, budget_callback
from training.core.config import TrainingConfig, config_from_dict
from training.core.models import (
    default_base_model,
    load_base_model,
    load_tokenizer,
    prepare_for_training,
)
from training.core.progress import (
    TRAIN_SHARE,
    History,
    Reporter,
    SilentReporter,
    history_from_logs,
    progress_callback,
)


def resolve_base_model(config: TrainingConfig, *, model_cache_dir: Path) -> str:
    return config.base_model or default_base_model(config.task_type, cache_dir=model_cache_dir)


def last_checkpoint(output_dir: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    folder = Path(output_dir) / "checkpoints"
    return get_last_checkpoint(str(folder)) if folder.is_dir() else None


@dataclass
class Prepared:
    """Tokenized splits and what the evaluation needs."""

    train: list
    validation: list
    validation_records: list
    collator: object


def _prepare(config: TrainingConfig, tokenizer, data_dir: Path) -> Prepared:
    from transformers import DataCollatorWithPadding

    train_records = training_data.read_split(data_dir, "train")
    validation = training_data.sample(
        training_data.read_split(data_dir, "validation"), config.eval_max_examples, seed=config.seed
    )
    if not train_records or not validation:
        raise ValueError("Training needs examples in both the train and validation splits.")
    if config.is_classification:
        features = training_data.classification_features
        kwargs = {"labels": config.labels, "max_length": config.max_length}
        return Prepared(
            train=features(train_records, tokenizer, **kwargs),
            validation=features(validation, tokenizer, **kwargs),
            validation_records=validation,
            collator=DataCollatorWithPadding(tokenizer),
        )
    train = training_data.generation_features(
        train_records, tokenizer, max_length=config.max_length
    )
    general = training_data.general_mix(len(train), config.general_mix_ratio)
    train += training_data.plain_text_features(general, tokenizer, max_length=config.max_length)
    return Prepared(
        train=train,
        validation=training_data.generation_features(
            validation, tokenizer, max_length=config.max_length
        ),
        validation_records=validation,
        collator=training_data.PackedCollator()
        if config.batching == "packed"
        else training_data.CausalCollator(pad_token_id=tokenizer.pad_token_id),
    )


def _metrics_function(config: TrainingConfig, prepared: Prepared, tokenizer, holder: dict):
    """compute_metrics for Trainer: from the logits (classification), or by generating
    responses to the validation prompts with the model being trained (generation)."""
    import numpy as np

    from training.core import metrics

    if config.is_classification:

        def classification(eval_prediction):
            logits = eval_prediction.predictions
            logits = logits[0] if isinstance(logits, tuple) else logits
            shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
            probabilities = shifted / shifted.sum(axis=1, keepdims=True)
            result = metrics.classification_metrics(
                eval_prediction.label_ids, probabilities.argmax(axis=1), probabilities
            )
            return {k: (v if v is not None else 0.0) for k, v in result.items()}

        return classification
    groups = training_data.prompt_groups(prepared.validation_records)

    def generation(_eval_prediction):
        outputs = evaluation.generate(
            holder["trainer"].model, tokenizer, [g.record for g in groups], config=config
        )
        return metrics.generation_metrics(outputs, [g.references for g in groups])

    return generation


def _arguments(config: TrainingConfig, output_dir: Path, strategy: str):
    import torch
    from transformers import TrainingArguments

    best = config.best_metric
    processes = distributed.world_size()
    # batch_size is per optimizer step: several processes share it.
    per_process = max(1, config.batch_size // processes)
    extra = (
        distributed.strategy_arguments(strategy, cuda=torch.cuda.is_available())
        if processes > 1
        else {}
    )
    return TrainingArguments(
        output_dir=str(output_dir / "checkpoints"),
        per_device_train_batch_size=per_process,
        per_device_eval_batch_size=per_process,
        learning_rate=config.learning_rate,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps if config.max_steps > 0 else -1,
        train_sampling_strategy="group_by_length" if config.batching == "by_length" else "random",
        eval_strategy="steps",
        eval_steps=config.eval_steps,
        save_strategy="steps",
        save_steps=config.checkpoint_steps,
        save_total_limit=2,
        load_best_model_at_end=True,
        metric_for_best_model=best,
        greater_is_better=best != "loss",
        logging_steps=max(1, min(10, config.eval_steps)),
        seed=config.seed,
        data_seed=config.seed,
        report_to=[],
        label_names=["labels"],
        use_cpu=not torch.cuda.is_available(),
        bf16=config.precision in ("bfloat16", "mixed_bfloat16"),
        dataloader_num_workers=0,
        disable_tqdm=True,
        remove_unused_columns=False,
        **extra,
    )


def _trainer(
    config, model, tokenizer, prepared: Prepared, output_dir: Path, callbacks, strategy, budget
):
    from transformers import EarlyStoppingCallback

    from training.core.trainer import AssayTrainer

    holder: dict = {}
    if config.early_stopping_patience > 0:
        callbacks = [*callbacks, EarlyStoppingCallback(config.early_stopping_patience)]
    trainer = AssayTrainer(
        config=config,
        budget=budget,
        model=model,
        args=_arguments(config, output_dir, strategy),
        train_dataset=prepared.train,
        eval_dataset=prepared.validation,
        data_collator=prepared.collator,
        processing_class=tokenizer,
        compute_metrics=_metrics_function(config, prepared, tokenizer, holder),
        # Generation metrics come from generated text; keep only argmax ids, not logits.
        preprocess_logits_for_metrics=None
        if config.is_classification
        else (lambda logits, labels: logits.argmax(dim=-1)),
        callbacks=callbacks,
    )
    holder["trainer"] = trainer
    return trainer


def train(
    config: TrainingConfig,
    data_dir: Path,
    output_dir: Path,
    *,
    reporter: Reporter | None = None,
    model_cache_dir: Path | None = None,
    on_record=None,
    tracking_uri: str | None = None,
    strategy: str = "ddp",
) -> dict:
    """Fine-tune, keep the best checkpoint, evaluate on the test split; returns (and writes
    to ``result.json``) the history, validation metrics, comparison and forgetting check.
    ``on_record(kind, record)`` sees every history record as it is made. With an MLflow
    ``tracking_uri`` (None: ``ASSAY_MLFLOW_TRACKING_URI``; empty: off) the run is logged
    there too (`training.core.tracking`) and the result carries ``mlflow_run_id``.

    Started by torchrun in several processes (`training.core.distributed`), every process
    trains its share with ``strategy``; only rank 0 reports, records and evaluates, and
    the others return an empty dict."""
    if distributed.process_rank() != 0:
        reporter, on_record, tracking_uri = SilentReporter(), None, ""
    reporter = reporter or SilentReporter()
    data_dir, output_dir = Path(data_dir), Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    base_path = resolve_base_model(config, model_cache_dir=model_cache_dir or output_dir / "models")
    if tracking_uri is None:
        tracking_uri = tracking.tracking_uri_from_environment()
    tracker = tracking.MlflowTracker(tracking_uri, warn=reporter.log)
    tracker.start(config=config.to_dict(), base_model=base_path, output_dir=output_dir)
    try:
        result = _train(
            config, data_dir, output_dir, base_path, reporter, on_record, tracker, strategy
        )
        if distributed.process_rank() != 0:
            return result
    except BaseException:
        tracker.fail()
        raise
    tracker.finish(result, output_dir=output_dir)
    if tracker.run_id:
        reporter.log(f"Logged to MLflow run {tracker.run_id} at {tracking_uri}")
    return result


def _train(config, data_dir, output_dir, base_path, reporter, on_record, tracker, strategy):
    import torch
    from transformers import set_seed

    set_seed(config.seed)
    reporter.update(1, f"Loading {base_path}")
    tokenizer = load_tokenizer(base_path)
    prepared = _prepare(config, tokenizer, data_dir)
    model = prepare_for_training(
        load_base_model(config, base_path, num_labels=len(config.labels)), config
    )

    def record(kind: str, point: dict) -> None:
        tracker.log_record(kind, point)
        if callable(on_record):
            on_record(kind, point)

    history = History(on_record=record)
    callbacks = [progress_callback(reporter, history)]
    budget = TimeBudget(config.max_minutes * 60) if config.max_minutes > 0 else None
    if budget is not None:
        callbacks.append(budget_callback(budget))
    trainer = _trainer(config, model, tokenizer, prepared, output_dir, callbacks, strategy, budget)
    resume_from = last_checkpoint(output_dir)
    if resume_from:
        reporter.log(f"Resuming from {resume_from}")
    started = time.monotonic()
    if budget is not None:
        budget.start()
    outcome = trainer.train(resume_from_checkpoint=resume_from)
    seconds = time.monotonic() - started
    if distributed.process_rank() != 0:
        return {}  # rank 0 saves, evaluates and records
    stopped_at_budget = budget is not None and budget.stopped_at_step is not None
    if stopped_at_budget:
        reporter.log(
            f"Stopped at the {config.max_minutes:g}-minute budget after step "
            f"{budget.stopped_at_step}; kept the best checkpoint by {config.best_metric}"
        )
    trainer.model.save_pretrained(output_dir / "model")
    tokenizer.save_pretrained(output_dir / "model")
    reporter.update(TRAIN_SHARE, "Final evaluation on the test split")
    with torch.no_grad():
        final = final_evaluation(config, trainer.model, tokenizer, base_path, data_dir, reporter)
    result = {
        "base_model": base_path,
        "resumed_from": resume_from,
        "global_step": outcome.global_step,
        "train_seconds": seconds,
        "stopped_at_budget": stopped_at_budget,
        "budget_minutes": config.max_minutes or None,
        "train_samples_per_second": outcome.metrics.get("train_samples_per_second"),
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "best_metric": {config.best_metric: trainer.state.best_metric},
        "history": history_from_logs(trainer.state.log_history),
        "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "artifact": str(output_dir / "model"),
        "artifact_kind": "full weights" if config.method == "full" else "LoRA adapter",
        "processes": distributed.world_size(),
        **final,
        "mlflow_run_id": tracker.run_id,
    }
    (output_dir / "result.json").write_text(json.dumps(result, indent=2, default=float))
    return result


def final_evaluation(config, model, tokenizer, base_path, data_dir: Path, reporter) -> dict:
    """The test-split comparison and the forgetting check."""
    test = training_data.read_split(data_dir, "test")
    if not test:
        return {"comparison": None, "forgetting": None, "note": "The test split is empty."}
    base = load_base_model(config, base_path, num_labels=len(config.labels))
    base.to(next(model.parameters()).device)
    if config.is_classification:
        test = training_data.sample(test, config.test_max_examples, seed=config.seed)
        texts = [r["text"] for r in test]
        tuned_probs = evaluation.classify(model, tokenizer, texts, max_length=config.max_length)
        reporter.update(TRAIN_SHARE + 8, "Scoring the untouched base model")
        base_probs = evaluation.classify(base, tokenizer, texts, max_length=config.max_length)
        comparison = evaluation.classification_comparison(
            test, tuned_probs=tuned_probs, base_probs=base_probs, config=config
        )
        forgetting = {
            "applicable": False,
            "reason": "A classification head has no language-model output to score.",
        }
        return {"comparison": comparison, "forgetting": forgetting}
    groups = training_data.sample(
        training_data.prompt_groups(test), config.test_max_examples, seed=config.seed
    )
    records = [g.record for g in groups]
    tuned = evaluation.generate(model, tokenizer, records, config=config)
    reporter.update(TRAIN_SHARE + 8, "Generating with the untouched base model")
    base_outputs = evaluation.generate(base, tokenizer, records, config=config)
    comparison = evaluation.generation_comparison(
        groups, tuned_outputs=tuned, base_outputs=base_outputs, config=config
    )
    reporter.update(TRAIN_SHARE + 16, "Forgetting check: perplexity on general text")
    return {"comparison": comparison, "forgetting": forgetting_check(model, base, tokenizer)}


def forgetting_check(model, base, tokenizer) -> dict:
    _mixed, holdout = training_data.general_passages()
    before = evaluation.perplexity(base, tokenizer, holdout)
    after = evaluation.perplexity(model, tokenizer, holdout)
    return {
        "applicable": True,
        "holdout_passages": len(holdout),
        "perplexity_before": before,
        "perplexity_after": after,
        "change_percent": 100 * (after - before) / before,
    }


def main(argv: list[str]) -> int:
    """Run one training job from files: [--events] [--strategy S] CONFIG.json DATA_DIR
    OUTPUT_DIR. ``--events`` reports to the launching process (`distributed.EventReporter`)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m training.core.runner")
    parser.add_argument("--events", action="store_true")
    parser.add_argument("--strategy", choices=distributed.STRATEGIES, default="ddp")
    parser.add_argument("config")
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("output_dir", type=Path)
    args = parser.parse_args(argv)
    config = config_from_dict(json.loads(Path(args.config).read_text()))
    events = distributed.EventReporter() if args.events else None
    cache = os.environ.get("ASSAY_TRAINING_MODEL_CACHE")
    try:
        train(
            config,
            args.data_dir,
            args.output_dir,
            reporter=events,
            on_record=events.record if events else None,
            model_cache_dir=Path(cache) if cache else None,
            strategy=args.strategy,
        )
    except Exception as exc:
        if events:
            events.error(exc)
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
