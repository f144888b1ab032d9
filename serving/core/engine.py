"""The one interface every serving engine implements, and the values it speaks in.

An engine holds loaded models by *name* (a deployment's name). Several names may share one
base model (each with its own LoRA adapter): the engine loads the base once. Calls are
blocking and thread-safe: a web server calls `chat` / `classify` from many threads at once,
and the engine may batch concurrent calls together.

Nothing here imports Django, torch or an engine's SDK.
"""

from dataclasses import dataclass, field
from typing import Protocol

# One decoding dataclass for training's evaluation and every engine (greedy, beam, sampling).
from training.core.decoding import Decoding

__all__ = ["Decoding"]  # re-exported: engines and services import it from here

CLASSIFICATION = "classification"
GENERATION = "generation"


class EngineError(RuntimeError):
    """An engine could not load a model or answer; the message says what to do."""


class UnknownModel(EngineError):
    """A call named a model the engine has not loaded."""


@dataclass(frozen=True)
class ModelSpec:
    """What to load under ``name``.

    - ``base_model``: a local Hugging Face folder (for a full fine-tune, the trained weights).
    - ``adapter_path``: a PEFT LoRA adapter folder trained on ``base_model``, or None.
    - ``labels``: classification only, the label set in the order of the model's outputs.
    """

    name: str
    task_type: str
    base_model: str
    adapter_path: str | None = None
    labels: tuple[str, ...] = ()
    max_length: int = 512


@dataclass(frozen=True)
class ChatResult:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str = "stop"  # "stop" or "length"


@dataclass(frozen=True)
class ClassifyResult:
    label: str
    probabilities: dict[str, float] = field(default_factory=dict)
    tokens: int = 0


class Engine(Protocol):
    """A serving engine. Implementations: `serving.engines.builtin.BuiltinEngine`,
    `serving.engines.vllm.VllmEngine`."""

    name: str  # "builtin" or "vllm"

    def load(self, spec: ModelSpec) -> None:
        """Make ``spec.name`` answerable; loading a name again with the same spec is a no-op."""

    def unload(self, name: str) -> None:
        """Forget ``name``; a base model no other name uses is freed."""

    def loaded(self) -> list[str]: ...

    def chat(self, name: str, messages: list[dict], decoding: Decoding) -> ChatResult:
        """One chat completion (``messages``: OpenAI-style role/content dicts)."""

    def classify(self, name: str, texts: list[str]) -> list[ClassifyResult]:
        """One result per text, in order."""
