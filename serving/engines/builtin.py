"""The built-in serving engine: Hugging Face transformers in this process, dynamic batching,
and several LoRA adapters on one copy of their base model.

- A base model is loaded once per process, keyed by (folder, task type, and for
  classification the number of labels, since the head's shape is fixed at load). Every
  adapter on it is added with PEFT's multi-adapter API; a full fine-tune is a plain base.
- Each loaded name has a `DynamicBatcher`; chat requests are keyed by their `Decoding`, so
  a batch shares one `generate` call. One lock per base model serializes forward passes,
  and the adapter is switched per batch under it.
- Prompts are rendered the way training evaluated (`training.core.data.prompt_text`): the
  tokenizer's chat template with the assistant turn opened, or ``User: ...\\nAssistant: ``
  without one; left padding with an attention mask, so a batched greedy answer is the same
  tokens as the answer alone; text stripped as evaluation strips it.
- An adapter's tensor shapes are checked against the base before PEFT touches it: a
  misfit is refused with a clear `EngineError` and leaves a shared base as it was.
- Sampling with a seed is reproducible per request: such requests are generated one at a
  time with the seed set before each (a shared batch would share one random stream).

torch, transformers and peft are imported inside the functions that need them, so importing
this module (to register the engine) costs nothing.
"""

import contextlib
import gc
import os
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any

from serving.core.batching import BatcherClosed, DynamicBatcher
from serving.core.engine import (
    CLASSIFICATION,
    GENERATION,
    ChatResult,
    ClassifyResult,
    Decoding,
    EngineError,
    ModelSpec,
    UnknownModel,
)
from serving.engines import forward, validation
from serving.engines.forward import render_prompt

THREADS_ENV = "ASSAY_SERVING_THREADS"


@dataclass
class _Base:
    """One loaded base model and the names (deployments) that use it."""

    key: tuple
    model: Any  # a transformers model, or the PeftModel wrapping it once an adapter is on
    tokenizer: Any
    device: str
    eos_ids: list[int]
    lock: threading.Lock = field(default_factory=threading.Lock)
    users: set[str] = field(default_factory=set)
    adapters: set[str] = field(default_factory=set)

    @property
    def has_peft(self) -> bool:
        return hasattr(self.model, "peft_config")


@dataclass
class _Loaded:
    spec: ModelSpec
    base: _Base
    adapter: str | None  # the PEFT adapter name on the base; None answers with the base
    labels: tuple[str, ...]
    batcher: Any  # the DynamicBatcher, made once this exists (its batches need it)


@dataclass(frozen=True)
class _ChatRequest:
    prompt: str
    decoding: Decoding


class BuiltinEngine:
    """`serving.core.engine.Engine` on transformers + PEFT, in this process.

    ``max_batch_size`` / ``max_wait_ms`` shape each name's batches; ``request_timeout``
    (seconds, None: wait forever) bounds how long a call waits for its batch. Torch uses
    ``$ASSAY_SERVING_THREADS`` threads when that is set (torch's default otherwise).
    """

    name = "builtin"

    def __init__(
        self,
        *,
        max_batch_size: int = 32,
        max_wait_ms: float = 5.0,
        request_timeout: float | None = None,
        device: str | None = None,
    ) -> None:
        self.max_batch_size = max_batch_size
        self.max_wait_ms = max_wait_ms
        self.request_timeout = request_timeout
        self._device = device
        self._registry = threading.RLock()  # loads and unloads, one at a time
        self._bases: dict[tuple, _Base] = {}
        self._loaded: dict[str, _Loaded] = {}
        self._adapter_counter = 0
        self.base_loads = 0  # how many times a base model was read from disk
        _apply_thread_setting()

    # -- loading ---------------------------------------------------------------------------

    def load(self, spec: ModelSpec) -> None:
        """Load ``spec`` under ``spec.name``. The same spec again is a no-op; a different
        spec under a loaded name replaces it (the old one is unloaded first)."""
        validation.check_spec(spec)
        with self._registry:
            current = self._loaded.get(spec.name)
            if current is not None and current.spec == spec:
                return
            if current is not None:
                self.unload(spec.name)
            labels = validation.labels_of(spec)
            base = self._base_for(spec, labels)
            try:
                adapter = self._attach_adapter(base, spec) if spec.adapter_path else None
            except BaseException:
                self._release_base_if_unused(base)
                raise
            base.users.add(spec.name)
            loaded = _Loaded(spec, base, adapter, labels, batcher=None)
            loaded.batcher = self._batcher(loaded)
            self._loaded[spec.name] = loaded

    def _batcher(self, loaded: "_Loaded") -> DynamicBatcher:
        # The batch functions hold the _Loaded itself, not its name: a batch never looks
        # the name up, so it cannot race an unload or a replacement of that name.
        name = loaded.spec.name
        if loaded.spec.task_type == GENERATION:
            return DynamicBatcher(
                lambda requests: _chat_batch(loaded, requests),
                max_batch_size=self.max_batch_size,
                max_wait_ms=self.max_wait_ms,
                name=f"{name}:chat",
                key=lambda request: request.decoding,
            )
        return DynamicBatcher(
            lambda texts: _classify_batch(loaded, texts),
            max_batch_size=self.max_batch_size,
            max_wait_ms=self.max_wait_ms,
            name=f"{name}:classify",
        )

    def _base_for(self, spec: ModelSpec, labels: tuple[str, ...]) -> _Base:
        location = validation.base_location(spec.base_model)
        key = (location, spec.task_type, len(labels))
        base = self._bases.get(key)
        if base is None:
            base = self._read_base(location, spec.task_type, labels, key)
            self._bases[key] = base
        return base

    def _read_base(self, location: str, task_type: str, labels: tuple, key: tuple) -> _Base:
        import torch
        from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

        from training.core.models import load_tokenizer

        device = self._device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = torch.float32 if device == "cpu" else "auto"
        try:
            tokenizer = load_tokenizer(
                location, padding_side="left" if task_type == GENERATION else "right"
            )
            if task_type == GENERATION:
                model = AutoModelForCausalLM.from_pretrained(location, dtype=dtype)
            else:
                model = AutoModelForSequenceClassification.from_pretrained(
                    location,
                    dtype=dtype,
                    num_labels=len(labels),
                    id2label=dict(enumerate(labels)),
                    label2id={label: i for i, label in enumerate(labels)},
                )
        except (OSError, ValueError, RuntimeError) as error:
            raise EngineError(f"Cannot load the base model {location}: {error}") from error
        model.to(device).eval()
        self.base_loads += 1
        return _Base(key, model, tokenizer, device, _eos_ids(model, tokenizer))

    def _attach_adapter(self, base: _Base, spec: ModelSpec) -> str:
        folder = validation.check_adapter(spec)
        self._adapter_counter += 1
        # PEFT keys modules by adapter name, so deployment names (dots, spaces) are not used.
        adapter = f"deployment_{self._adapter_counter}"
        with base.lock:
            plain = base.model.get_base_model() if base.has_peft else base.model
            problem = validation.adapter_fits(plain, folder)
            if problem is None:
                problem = _add_adapter(base, folder, adapter)
            if problem is not None:
                raise EngineError(
                    f"The adapter {folder} does not fit the base model {spec.base_model} "
                    f"(was it trained on another base?): {problem}"
                )
            base.model.eval()
            base.adapters.add(adapter)
        return adapter

    def unload(self, name: str) -> None:
        """Forget ``name`` (a name not loaded is a no-op, so undeploying is idempotent).
        Requests still queued for it fail with `UnknownModel`; a batch already running
        finishes. Its adapter is removed, and its base freed when no other name uses it."""
        with self._registry:
            loaded = self._loaded.pop(name, None)
            if loaded is None:
                return
            loaded.batcher.close()
            base = loaded.base
            base.users.discard(name)
            if loaded.adapter is not None:
                with base.lock:
                    _remove_adapter(base, loaded.adapter)
            self._release_base_if_unused(base)

    def close(self) -> None:
        """Unload every name (process shutdown, tests)."""
        with self._registry:
            for name in list(self._loaded):
                self.unload(name)

    def _release_base_if_unused(self, base: _Base) -> None:
        if base.users or self._bases.get(base.key) is not base:
            return
        del self._bases[base.key]
        base.model = None
        gc.collect()
        if base.device.startswith("cuda"):
            import torch

            torch.cuda.empty_cache()

    def loaded(self) -> list[str]:
        with self._registry:
            return sorted(self._loaded)

    def bases(self) -> dict[str, list[str]]:
        """Each loaded base model (folder and task) with the names answering from it."""
        with self._registry:
            return {f"{b.key[0]} ({b.key[1]})": sorted(b.users) for b in self._bases.values()}

    def stats(self, name: str) -> dict:
        """Batching counters of ``name`` for its deployment page."""
        loaded = self._get(name)
        return {
            **loaded.batcher.stats().as_dict(),
            "base_model": loaded.base.key[0],
            "shares_base_with": sorted(loaded.base.users - {name}),
        }

    # -- answering -------------------------------------------------------------------------

    def chat(self, name: str, messages: list[dict], decoding: Decoding) -> ChatResult:
        loaded = self._get(name, task_type=GENERATION)
        validation.check_decoding(decoding)
        prompt = render_prompt(loaded.base.tokenizer, messages)
        return self._submit(loaded, [_ChatRequest(prompt, decoding)])[0]

    def classify(self, name: str, texts: list[str]) -> list[ClassifyResult]:
        loaded = self._get(name, task_type=CLASSIFICATION)
        if isinstance(texts, str) or not all(isinstance(text, str) for text in texts):
            raise EngineError("classify takes a list of strings")
        if not texts:
            return []
        return self._submit(loaded, list(texts))

    def _submit(self, loaded: _Loaded, items: list) -> list:
        try:
            return loaded.batcher.submit_all(items, timeout=self.request_timeout)
        except BatcherClosed as error:
            raise UnknownModel(f"{loaded.spec.name!r} was unloaded while waiting") from error
        except TimeoutError as error:
            raise EngineError(f"{loaded.spec.name!r} did not answer in time: {error}") from error

    def _get(self, name: str, *, task_type: str | None = None) -> _Loaded:
        loaded = self._loaded.get(name)
        if loaded is None:
            known = sorted(self._loaded.copy())  # no lock: a batch thread may call this too
            raise UnknownModel(f"No model named {name!r} is loaded (loaded: {known})")
        if task_type is not None and loaded.spec.task_type != task_type:
            call = "chat" if loaded.spec.task_type == GENERATION else "classify"
            raise EngineError(f"{name!r} is a {loaded.spec.task_type} model: call {call}")
        return loaded


def _chat_batch(loaded: _Loaded, requests: list[_ChatRequest]) -> list[ChatResult]:
    """One batch of one name, all with the same decoding (the batcher's key)."""
    base, decoding = loaded.base, requests[0].decoding
    prompts = [request.prompt for request in requests]
    max_length = loaded.spec.max_length
    with base.lock, _active(base, loaded.adapter) as model:
        if decoding.temperature > 0 and decoding.seed is not None:
            return [
                forward.generate(model, base, [prompt], decoding, max_length)[0]
                for prompt in prompts
            ]
        return forward.generate(model, base, prompts, decoding, max_length)


def _classify_batch(loaded: _Loaded, texts: list[str]) -> list[ClassifyResult]:
    base = loaded.base
    with base.lock, _active(base, loaded.adapter) as model:
        return forward.classify(model, base, texts, loaded.labels, loaded.spec.max_length)


# -- helpers (pure where they can be) ------------------------------------------------------


@contextlib.contextmanager
def _active(base: _Base, adapter: str | None):
    """The model to call with ``adapter`` switched on (or every adapter off)."""
    if not base.has_peft:
        yield base.model
    elif adapter is None:
        with base.model.disable_adapter():
            yield base.model
    else:
        base.model.set_adapter(adapter)
        yield base.model


def _add_adapter(base: _Base, folder, adapter: str) -> str | None:
    """Put the adapter on the base; on failure, leave the base as it was and say why."""
    from peft import PeftModel

    try:
        if base.has_peft:
            base.model.load_adapter(str(folder), adapter_name=adapter)
        else:
            base.model = PeftModel.from_pretrained(base.model, str(folder), adapter_name=adapter)
    except (OSError, ValueError, RuntimeError, KeyError) as error:
        if base.has_peft and adapter in base.model.peft_config:
            base.model.delete_adapter(adapter)
        return str(error)
    return None


def _remove_adapter(base: _Base, adapter: str) -> None:
    base.adapters.discard(adapter)
    if base.adapters:
        with warnings.catch_warnings():  # "active adapter deleted": each batch sets its own
            warnings.simplefilter("ignore", UserWarning)
            base.model.delete_adapter(adapter)
    else:  # the last adapter: give the plain base back to any name still using it
        base.model = base.model.unload()


def _eos_ids(model, tokenizer) -> list[int]:
    """The tokenizer's end-of-sequence token and any the model's generation config adds
    (chat models often end a turn with their own token)."""
    ids = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    for token in configured if isinstance(configured, list) else [configured]:
        if token is not None and token not in ids:
            ids.append(token)
    return ids


def _apply_thread_setting() -> None:
    value = os.environ.get(THREADS_ENV, "").strip()
    if not value:
        return
    if not value.isdigit() or int(value) < 1:
        raise EngineError(f"{THREADS_ENV} must be a whole number of threads (got {value!r})")
    import torch

    torch.set_num_threads(int(value))
