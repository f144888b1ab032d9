"""Which engine answers a deployment, in this process.

Each engine is one per process, created on first use. The built-in engine loads models
into this process; the vLLM engine finds (or starts) the vLLM server of the deployment's
base model and registers its adapter there, so the web processes and the worker that
started the deployment share one server per base model.
"""

import threading

from serving.core.engine import ChatResult, ClassifyResult, Decoding, Engine, ModelSpec
from serving.models import Deployment

_lock = threading.Lock()
_builtin: Engine | None = None
_vllm: Engine | None = None


def builtin_engine() -> Engine:
    """The process's built-in engine (created on first use: it imports torch)."""
    global _builtin
    with _lock:
        if _builtin is None:
            from serving.engines.builtin import BuiltinEngine

            _builtin = BuiltinEngine()
        return _builtin


def vllm_engine() -> Engine:
    """The process's vLLM engine (servers run on their own; see `serving_vllm`)."""
    global _vllm
    with _lock:
        if _vllm is None:
            from serving.engines.vllm import VllmEngine

            _vllm = VllmEngine()
        return _vllm


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
        engine = vllm_engine()
    else:
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
    engine = _builtin if deployment.engine == Deployment.Engine.BUILTIN else _vllm
    if engine is not None and deployment.name in engine.loaded():
        engine.unload(deployment.name)
