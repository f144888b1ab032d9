"""Which engine answers a deployment, in this process.

The built-in engine is one per process (models loaded once, on first use); a vLLM
deployment is answered by its own server at ``deployment.engine_url``.
"""

import threading

from serving.core.engine import ChatResult, ClassifyResult, Decoding, Engine, ModelSpec
from serving.models import Deployment

_lock = threading.Lock()
_builtin: Engine | None = None
_vllm_clients: dict[str, Engine] = {}


def builtin_engine() -> Engine:
    """The process's built-in engine (created on first use: it imports torch)."""
    global _builtin
    with _lock:
        if _builtin is None:
            from serving.engines.builtin import BuiltinEngine

            _builtin = BuiltinEngine()
        return _builtin


def vllm_engine(url: str) -> Engine:
    """A client of the vLLM server at ``url`` (it runs on its own; see `serving_vllm`)."""
    with _lock:
        if url not in _vllm_clients:
            from serving.engines.vllm import VllmEngine

            _vllm_clients[url] = VllmEngine.attached(url)
        return _vllm_clients[url]


def model_spec(deployment: Deployment) -> ModelSpec:
    return ModelSpec(
        name=deployment.name,
        task_type=deployment.task_type,
        base_model=deployment.base_model,
        adapter_path=deployment.adapter_path or None,
        labels=tuple(deployment.labels or ()),
        max_length=deployment.max_length,
    )


def engine_for(deployment: Deployment) -> Engine:
    """The engine answering ``deployment``, with its model loaded."""
    if deployment.engine == Deployment.Engine.VLLM:
        return vllm_engine(deployment.engine_url)
    engine = builtin_engine()
    if deployment.name not in engine.loaded():
        engine.load(model_spec(deployment))
    return engine


def engine_chat(deployment: Deployment, messages: list[dict], decoding: Decoding) -> ChatResult:
    return engine_for(deployment).chat(deployment.name, messages, decoding)


def engine_classify(deployment: Deployment, texts: list[str]) -> list[ClassifyResult]:
    return engine_for(deployment).classify(deployment.name, texts)


def engine_release(deployment: Deployment) -> None:
    """Forget a stopped deployment in this process (the built-in engine frees its model)."""
    if deployment.engine == Deployment.Engine.BUILTIN and _builtin is not None:
        if deployment.name in _builtin.loaded():
            _builtin.unload(deployment.name)
