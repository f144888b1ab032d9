"""Checks the built-in engine makes before it touches a model, so that a wrong spec, adapter
or request fails with an `EngineError` that names the problem (PEFT's and transformers' own
errors name tensors, not what to do). Pure Python, except `adapter_fits`, which reads the
adapter's tensor shapes (not its values) with safetensors.
"""

import json
from pathlib import Path

from serving.core.engine import CLASSIFICATION, GENERATION, Decoding, EngineError, ModelSpec
from training.core.decoding import DecodingError, decoding_validate

PEFT_TASK_TYPES = {GENERATION: "CAUSAL_LM", CLASSIFICATION: "SEQ_CLS"}
# What must agree between the base an adapter was trained on and the base it is put on.
ARCHITECTURE_FIELDS = ("model_type", "hidden_size", "num_hidden_layers", "vocab_size")
ADAPTER_PREFIX = "base_model.model."


def check_messages(messages: list[dict]) -> list[dict]:
    """OpenAI-style messages as role/content strings (content parts joined)."""
    if not isinstance(messages, list) or not messages:
        raise EngineError("messages is empty: send at least one {'role', 'content'} message")
    turns = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or "role" not in message:
            raise EngineError(f"messages[{index}] needs a 'role' and a 'content'")
        content = message.get("content") or ""
        if isinstance(content, list):  # [{"type": "text", "text": ...}, ...]
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        if not isinstance(content, str):
            raise EngineError(f"messages[{index}].content must be text")
        turns.append({"role": str(message["role"]), "content": content})
    return turns


def check_decoding(decoding: Decoding) -> None:
    try:
        decoding_validate(decoding)
    except DecodingError as error:
        raise EngineError(str(error)) from error


def check_spec(spec: ModelSpec) -> None:
    if not spec.name:
        raise EngineError("A model needs a name")
    if spec.task_type not in PEFT_TASK_TYPES:
        raise EngineError(
            f"Unknown task type {spec.task_type!r}: use {GENERATION!r} or {CLASSIFICATION!r}"
        )
    if spec.max_length < 1:
        raise EngineError(f"max_length must be at least 1 (got {spec.max_length})")


def base_location(base_model: str) -> str:
    """A local folder (resolved, so two spellings share one base) or a hub id to be found
    in the local cache; a path that does not exist is an error, not a hub lookup."""
    path = Path(base_model).expanduser()
    if path.is_dir():
        if not (path / "config.json").exists():
            raise EngineError(f"{path} has no config.json: not a Hugging Face model folder")
        return str(path.resolve())
    if path.is_absolute() or base_model.startswith(".") or base_model.count("/") != 1:
        raise EngineError(f"The base model folder {base_model} does not exist")
    return base_model


def read_config(location: str) -> dict | None:
    config = Path(location) / "config.json"
    return json.loads(config.read_text()) if config.exists() else None


def labels_of(spec: ModelSpec) -> tuple[str, ...]:
    """The spec's labels, or for a full classification fine-tune those saved with it."""
    if spec.task_type != CLASSIFICATION:
        return ()
    if spec.labels:
        return tuple(spec.labels)
    config = read_config(base_location(spec.base_model)) or {}
    saved = config.get("id2label") or {}
    if spec.adapter_path or not saved:
        raise EngineError(f"{spec.name!r}: a classification model needs its labels")
    return tuple(saved[key] for key in sorted(saved, key=int))


def check_adapter(spec: ModelSpec) -> Path:
    """The adapter folder, after the checks that give a clearer error than PEFT's."""
    folder = Path(spec.adapter_path or "").expanduser()
    if not folder.is_dir():
        raise EngineError(f"The adapter folder {folder} does not exist")
    config_file = folder / "adapter_config.json"
    if not config_file.exists():
        raise EngineError(f"{folder} is not a PEFT adapter (no adapter_config.json)")
    config = json.loads(config_file.read_text())
    expected = PEFT_TASK_TYPES[spec.task_type]
    if config.get("task_type") and config["task_type"] != expected:
        raise EngineError(
            f"The adapter {folder} is a {config['task_type']} adapter; a {spec.task_type} "
            f"model needs {expected}"
        )
    trained_on = config.get("base_model_name_or_path")
    if trained_on and architecture(trained_on) not in (None, architecture(spec.base_model)):
        raise EngineError(
            f"The adapter {folder} was trained on another base model ({trained_on}), "
            f"not {spec.base_model}"
        )
    return folder


def architecture(location: str) -> tuple | None:
    config = read_config(location) if Path(location).is_dir() else None
    if config is None:
        return None
    return tuple(config.get(name) for name in ARCHITECTURE_FIELDS)


def adapter_fits(model, folder: Path) -> str | None:
    """Why the adapter's weights do not fit ``model`` (the plain base), or None.

    Checked before PEFT wraps the model: PEFT injects its layers first and fails while
    loading the weights, which would leave a shared base model altered.
    """
    weights = folder / "adapter_model.safetensors"
    if not weights.exists():
        return None  # an older .bin adapter: PEFT's own load is the check
    from safetensors import safe_open

    modules = dict(model.named_modules())
    parameters = dict(model.named_parameters())
    with safe_open(str(weights), framework="pt") as handle:
        for key in handle.keys():
            shape = tuple(handle.get_slice(key).get_shape())
            problem = _weight_problem(key.removeprefix(ADAPTER_PREFIX), shape, modules, parameters)
            if problem:
                return problem
    return None


def _weight_problem(name: str, shape: tuple, modules: dict, parameters: dict) -> str | None:
    for part, dimension in ((".lora_A.weight", 1), (".lora_B.weight", 0)):
        if name.endswith(part):
            target = name.removesuffix(part)
            module = modules.get(target)
            weight = getattr(module, "weight", None)
            if weight is None:
                return f"the base model has no layer {target}"
            if weight.ndim != 2 or weight.shape[dimension] != shape[dimension]:
                return f"{target} is {tuple(weight.shape)} in the base, {shape} in the adapter"
            return None
    if name in parameters and tuple(parameters[name].shape) != shape:  # e.g. a class head
        return f"{name} is {tuple(parameters[name].shape)} in the base, {shape} in the adapter"
    return None
