"""Training configuration as dataclasses whose fields carry help text (PEFT's style).

`TrainingConfig` is what a run is launched with; `config_from_dict` validates a mapping
(from a form, the API or the command line) and `config_fields` lists the fields with
their defaults and help for the launch page.
"""

from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any

from training.core.decoding import Decoding, DecodingError, decoding_validate
from training.core.hardware import cpu_has_fast_bfloat16

CLASSIFICATION = "classification"
GENERATION = "generation"
METHODS = ("lora", "full", "qlora")
PRECISIONS = ("float32", "mixed_bfloat16", "bfloat16")
LR_SCHEDULES = ("linear", "cosine", "constant")
BATCHINGS = ("random", "by_length", "packed")
CLASSIFICATION_METRICS = ("accuracy", "macro_f1", "auc_roc", "loss")
GENERATION_METRICS = ("rouge_l", "bleu", "loss")


class TrainingConfigError(ValueError):
    """A configuration value is missing, out of range or unknown; the message names it."""


def _help(text: str, default: Any = MISSING, **kwargs) -> Any:
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"help": text}, **kwargs)
    return field(default=default, metadata={"help": text}, **kwargs)


@dataclass
class TrainingConfig:
    """Everything a training run needs besides its data and output folder."""

    task_type: str = _help("classification or generation (from the project).", CLASSIFICATION)
    base_model: str = _help(
        "A local model folder or a Hugging Face id. Empty: the bundled default for the task "
        "(MiniLM for classification, SmolLM2-135M-Instruct for generation).",
        "",
    )
    method: str = _help(
        "lora (PEFT adapters, default), full (all weights) or qlora (4-bit base; needs CUDA "
        "and bitsandbytes).",
        "lora",
    )
    precision: str = _help(
        "float32; mixed_bfloat16: float32 weights, bf16 matrix products (autocast), "
        "faster steps on CPUs with native bf16 (AVX-512 BF16 or AMX; there the bundled "
        "generation model's default) and on bf16 "
        "GPUs; bfloat16: the weights loaded in bf16 too (half the memory; for LoRA on GPUs "
        "such as A100/H100).",
        "float32",
    )
    lora_r: int = _help("LoRA rank: size of the low-rank update matrices.", 8)
    lora_alpha: int = _help("LoRA alpha: the update is scaled by alpha / r.", 16)
    lora_dropout: float = _help("Dropout on the LoRA input.", 0.05)
    lora_targets: list[str] = _help(
        "Module names LoRA adapts. Empty: PEFT's default for the architecture "
        "(query,value for BERT-like, q_proj,v_proj for Llama-like).",
        [],
    )
    learning_rate: float = _help("Peak learning rate (reached after the warm-up).", 2e-4)
    lr_schedule: str = _help(
        "How the learning rate decays after the warm-up: linear or cosine (to 0 at the end "
        "of the run) or constant. With a time budget that ends the run first, the decay "
        "follows the budget's clock, so it still reaches 0 when the budget runs out.",
        "linear",
    )
    warmup_ratio: float = _help(
        "Share of the run (steps, or the time budget) spent warming the learning rate up "
        "from 0, in [0, 0.5).",
        0.0,
    )
    batching: str = _help(
        "random: shuffled batches; by_length: shuffled groups of similar length, so less "
        "padding is computed (faster steps on the same examples); packed (generation): each "
        "shuffled batch is one row without padding, every example attending only to itself "
        "(the same loss, about a fifth fewer tokens on E2E NLG; on CPU the attention over the "
        "whole row can cost what the padding saved).",
        "random",
    )
    epochs: float = _help("Passes over the training split (ignored when max_steps > 0).", 1.0)
    max_steps: int = _help("Stop after this many optimizer steps; 0 = use epochs.", 0)
    max_minutes: float = _help(
        "Time budget: train for at most this many minutes (fractions allowed), whichever of "
        "steps/epochs or the budget ends first; the run evaluates, keeps its best checkpoint "
        "and stops before the budget is spent. 0 = no budget. The final test evaluation "
        "comes after it.",
        0.0,
    )
    batch_size: int = _help("Examples per optimizer step.", 8)
    max_length: int = _help("Tokens per example; longer examples are truncated.", 128)
    eval_steps: int = _help("Evaluate on the validation split every this many steps.", 50)
    save_steps: int = _help(
        "Save a checkpoint every this many steps (a multiple of eval_steps; 0 = eval_steps).", 0
    )
    eval_max_examples: int = _help(
        "Validation examples used per evaluation (generation is slow on CPU).", 200
    )
    early_stopping_patience: int = _help(
        "Stop after this many evaluations without improvement; 0 = never stop early.", 3
    )
    metric_for_best_model: str = _help(
        "Metric that picks the best checkpoint. Empty: macro_f1 (classification) or rouge_l "
        "(generation); loss is also allowed.",
        "",
    )
    seed: int = _help("Random seed for initialisation, shuffling and dropout.", 42)
    general_mix_ratio: float = _help(
        "Share of general-domain examples mixed into training (0 = none), against forgetting.",
        0.0,
    )
    max_new_tokens: int = _help("Generation: most tokens generated per response.", 64)
    num_beams: int = _help(
        "Generation: beam search width for evaluation and the deployment (1 = greedy).", 1
    )
    length_penalty: float = _help(
        "Generation, beam search: scores are divided by length^length_penalty, so larger "
        "values favour longer outputs and smaller (or negative) ones shorter.",
        1.0,
    )
    temperature: float = _help(
        "Generation: 0 = no sampling (greedy or beam); >0 samples at this temperature "
        "(seeded by 'seed' in evaluation).",
        0.0,
    )
    top_p: float = _help("Generation, sampling: nucleus probability mass kept, in (0, 1].", 1.0)
    generation_batch_size: int = _help("Generation: prompts generated together.", 16)
    test_max_examples: int = _help(
        "Final evaluation: most test examples (or prompts) scored; 0 = all.", 0
    )
    bootstrap_samples: int = _help("Resamples for the confidence intervals.", 1000)
    labels: list[str] = _help("Classification: the label set, in order (from the project).", [])

    @property
    def is_classification(self) -> bool:
        return self.task_type == CLASSIFICATION

    @property
    def best_metric(self) -> str:
        if self.metric_for_best_model:
            return self.metric_for_best_model
        return "macro_f1" if self.is_classification else "rouge_l"

    @property
    def decoding(self) -> Decoding:
        """How evaluation generates (and what a deployment of the run starts with)."""
        return Decoding(
            max_tokens=self.max_new_tokens,
            num_beams=self.num_beams,
            length_penalty=self.length_penalty,
            temperature=self.temperature,
            top_p=self.top_p,
            seed=self.seed if self.temperature > 0 else None,
        )

    @property
    def checkpoint_steps(self) -> int:
        return self.save_steps or self.eval_steps

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# What the launch page, the API and the CLI start from for the bundled generation model
# (SmolLM2-135M) unless the user says otherwise: the settings that won the E2E NLG
# ablation on this 2-core CPU (benchmarks/e2e_nlg.py, README "E2E NLG").
SMALL_GENERATION_DEFAULTS: dict[str, Any] = {
    "method": "full",
    "learning_rate": 1e-4,
    "lr_schedule": "cosine",
    "warmup_ratio": 0.05,
    # Validation loss, not ROUGE-L from 48 generations: the latter moved by ±2 points
    # between evaluations, kept a mid-run checkpoint and stopped a 45-minute run early.
    "metric_for_best_model": "loss",
    "eval_steps": 100,
    "eval_max_examples": 48,
    "test_max_examples": 200,
}


def task_defaults(task_type: str, base_model: str = "") -> dict[str, Any]:
    """Defaults that differ by task and model, beneath whatever the user gives."""
    if task_type == GENERATION and not base_model:
        defaults = dict(SMALL_GENERATION_DEFAULTS)
        if cpu_has_fast_bfloat16():
            # 1.28x the steps in a 6-minute budget and +2.9 BLEU on 200 dev MRs
            # (benchmarks/results/e2e_nlg_bf16fix_dev.json).
            defaults["precision"] = "mixed_bfloat16"
        return defaults
    return {}


def config_fields() -> list[dict[str, Any]]:
    """Each field's name, default and help text, in declaration order (for the launch page)."""
    defaults = TrainingConfig()
    return [
        {"name": f.name, "default": getattr(defaults, f.name), "help": f.metadata["help"]}
        for f in fields(TrainingConfig)
    ]


def _coerce(name: str, value: Any, default: Any) -> Any:
    if isinstance(default, list):
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return [str(part) for part in value]
    try:
        return type(default)(value)
    except (TypeError, ValueError) as exc:
        kind = type(default).__name__
        raise TrainingConfigError(f"'{name}' must be a {kind}, got {value!r}.") from exc


def config_from_dict(values: dict[str, Any]) -> TrainingConfig:
    """A validated config from a mapping; unknown keys and bad values raise
    `TrainingConfigError` naming the field."""
    defaults = TrainingConfig()
    known = {f.name for f in fields(TrainingConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise TrainingConfigError(f"Unknown training option(s): {', '.join(unknown)}.")
    cleaned = {
        name: _coerce(name, value, getattr(defaults, name))
        for name, value in values.items()
        if value is not None
    }
    config = TrainingConfig(**cleaned)
    config_validate(config)
    return config


def config_validate(config: TrainingConfig) -> None:
    if config.task_type not in (CLASSIFICATION, GENERATION):
        raise TrainingConfigError(f"Unknown task type '{config.task_type}'.")
    if config.method not in METHODS:
        raise TrainingConfigError(
            f"Unknown method '{config.method}'; expected one of {', '.join(METHODS)}."
        )
    if config.precision not in PRECISIONS:
        raise TrainingConfigError(
            f"'precision' must be one of {', '.join(PRECISIONS)}, got '{config.precision}'."
        )
    positive = ("lora_r", "lora_alpha", "batch_size", "max_length", "eval_steps")
    for name in positive:
        if getattr(config, name) <= 0:
            raise TrainingConfigError(f"'{name}' must be positive, got {getattr(config, name)}.")
    for name, allowed_values in (("lr_schedule", LR_SCHEDULES), ("batching", BATCHINGS)):
        if getattr(config, name) not in allowed_values:
            raise TrainingConfigError(
                f"'{name}' must be one of {', '.join(allowed_values)}, "
                f"got '{getattr(config, name)}'."
            )
    if config.batching == "packed" and config.is_classification:
        raise TrainingConfigError(
            "'batching' packed is for generation; classification uses random or by_length."
        )
    if not 0 <= config.warmup_ratio < 0.5:
        raise TrainingConfigError(f"'warmup_ratio' must be in [0, 0.5), got {config.warmup_ratio}.")
    if not 0 < config.learning_rate < 1:
        raise TrainingConfigError(f"'learning_rate' must be in (0, 1), got {config.learning_rate}.")
    if config.max_minutes < 0:
        raise TrainingConfigError(
            f"'max_minutes' must be 0 (no budget) or positive, got {config.max_minutes}."
        )
    if config.max_steps <= 0 and config.epochs <= 0:
        raise TrainingConfigError("Give 'epochs' > 0 or 'max_steps' > 0.")
    if config.checkpoint_steps % config.eval_steps:
        raise TrainingConfigError(
            f"'save_steps' ({config.save_steps}) must be a multiple of 'eval_steps' "
            f"({config.eval_steps}) so the best checkpoint is always saved."
        )
    if not 0 <= config.general_mix_ratio < 1:
        raise TrainingConfigError("'general_mix_ratio' must be in [0, 1).")
    allowed = CLASSIFICATION_METRICS if config.is_classification else GENERATION_METRICS
    if config.best_metric not in allowed:
        raise TrainingConfigError(
            f"'metric_for_best_model' must be one of {', '.join(allowed)} for "
            f"{config.task_type}, got '{config.best_metric}'."
        )
    try:
        decoding_validate(config.decoding)
    except DecodingError as exc:
        name = {"max_tokens": "max_new_tokens"}.get(exc.field, exc.field)
        raise TrainingConfigError(str(exc).replace(f"'{exc.field}'", f"'{name}'", 1)) from exc
    if config.is_classification and len(config.labels) < 2:
        raise TrainingConfigError("Classification needs at least two labels.")
