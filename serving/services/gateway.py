"""The front door: requests from applications, routed to a deployment (directly, or
through an experiment's sticky assignment), answered by its engine, and logged.

Validation errors raise `GatewayError` with the HTTP status and an OpenAI-style body, so
the official `openai` client raises its usual exceptions. Nothing is stored for a request
refused before routing.
"""

import time
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from serving.core.assignment import assign, unit_point
from serving.core.engine import CLASSIFICATION, GENERATION, Decoding, EngineError
from serving.exceptions import GatewayError
from serving.models import Application, Deployment, Experiment, Variant
from serving.services.engines import engine_chat, engine_classify
from serving.services.request_log import new_request_id, request_log_enqueue
from serving.telemetry import serving_request_observe
from training.core.decoding import DecodingError, decoding_from_dict

ROLES = ("system", "user", "assistant")
MAX_TOKENS_LIMIT = 4096
MAX_INPUTS = 256


@dataclass(frozen=True)
class Route:
    """Where one request goes: the deployment, and the experiment arm when there is one."""

    deployment: Deployment
    experiment: Experiment | None = None
    variant: Variant | None = None
    phase: int | None = None


def _available_models(application: Application) -> str:
    names = sorted(
        [
            *Deployment.objects.filter(
                project=application.project, status=Deployment.Status.ACTIVE
            ).values_list("name", flat=True),
            *Experiment.objects.filter(project=application.project).values_list("name", flat=True),
        ]
    )
    return ", ".join(names) or "none yet"


def _experiment_route(experiment: Experiment, unit_key: str) -> Route:
    variants = list(experiment.variants.select_related("deployment"))
    if not experiment.is_running:
        # Ended: everyone gets the arm that kept the traffic; no longer part of the analysis.
        winner = max(variants, key=lambda v: (v.weight, v.role == Variant.Role.CHAMPION))
        return Route(deployment=winner.deployment)
    if not unit_key:
        raise GatewayError(
            f"'{experiment.name}' is an experiment: pass a unit key (the end user's or "
            "session's id) as 'user' so the same person always gets the same variant.",
            param="user",
            code="missing_unit_key",
        )
    layout = sorted(variants, key=lambda v: (v.role == Variant.Role.CHAMPION, v.position))
    chosen = assign(unit_point(experiment.salt, unit_key), [(str(v.pk), v.weight) for v in layout])
    variant = next(v for v in variants if str(v.pk) == chosen)
    return Route(
        deployment=variant.deployment,
        experiment=experiment,
        variant=variant,
        phase=experiment.phase,
    )


def route(*, application: Application, model: Any, unit_key: str) -> Route:
    """The deployment (and experiment arm) answering ``model`` for this unit."""
    if not isinstance(model, str) or not model.strip():
        raise GatewayError("'model' is required: a deployment or experiment name.", param="model")
    experiment = Experiment.objects.filter(project=application.project, name=model).first()
    if experiment is not None:
        return _experiment_route(experiment, unit_key)
    deployment = Deployment.objects.filter(project=application.project, name=model).first()
    if deployment is None or not deployment.is_active:
        state = "is not active" if deployment else "does not exist"
        raise GatewayError(
            f"The model '{model}' {state} for application '{application.name}'. "
            f"Available: {_available_models(application)}.",
            status=404,
            code="model_not_found",
            param="model",
        )
    return Route(deployment=deployment)


def _unit_key(payload: dict, header_unit: str) -> str:
    unit = payload.get("user", header_unit) or ""
    if not isinstance(unit, str) or len(unit) > 200:
        raise GatewayError("'user' must be a string of at most 200 characters.", param="user")
    return unit.strip()


def _messages(payload: dict) -> list[dict]:
    messages = payload.get("messages")
    if not isinstance(messages, list) or not messages:
        raise GatewayError("'messages' must be a non-empty list.", param="messages")
    cleaned = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise GatewayError(
                f"messages[{index}] needs a 'role' of {', '.join(ROLES)}.",
                param=f"messages[{index}].role",
            )
        content = message.get("content")
        if isinstance(content, list):  # OpenAI's content parts: keep the text parts
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        if not isinstance(content, str):
            raise GatewayError(
                f"messages[{index}].content must be a string.", param=f"messages[{index}].content"
            )
        cleaned.append({"role": message["role"], "content": content})
    if cleaned[-1]["role"] == "assistant":
        raise GatewayError("The last message must not be the assistant's.", param="messages")
    return cleaned


def _number(payload: dict, name: str, default, low, high, kind=float):
    value = payload.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise GatewayError(f"'{name}' must be a number.", param=name)
    if kind is int and int(value) != value:
        raise GatewayError(f"'{name}' must be a whole number.", param=name)
    if not low <= value <= high:
        raise GatewayError(f"'{name}' must be between {low} and {high}, got {value}.", param=name)
    return kind(value)


def _decoding(payload: dict, deployment: Deployment) -> Decoding:
    """The deployment's decoding, with the request's OpenAI fields (max_tokens,
    temperature, top_p, seed) over it. A request that samples (temperature > 0) on a beam
    deployment samples with one beam: OpenAI's fields have no beams to mix with."""
    stored = dict(deployment.decoding or {})
    max_tokens = payload.get("max_completion_tokens", payload.get("max_tokens"))
    temperature = _number(payload, "temperature", stored.get("temperature", 0.0), 0, 2)
    overrides = {
        "max_tokens": _number(
            {"max_tokens": max_tokens},
            "max_tokens",
            stored.get("max_tokens", 64),
            1,
            MAX_TOKENS_LIMIT,
            int,
        ),
        "temperature": temperature,
        "top_p": _number(payload, "top_p", stored.get("top_p", 1.0), 0.0001, 1),
        "seed": _number(payload, "seed", None, 0, 2**63 - 1, int),
    }
    if temperature > 0:
        overrides["num_beams"] = 1
    try:
        return decoding_from_dict(stored, **overrides)
    except DecodingError as exc:
        raise GatewayError(str(exc), param=exc.field) from exc


def _log(
    application: Application,
    target: Route,
    request_id: str,
    unit_key: str,
    endpoint: str,
    started: float,
    **fields,
):
    seconds = time.perf_counter() - started
    serving_request_observe(
        deployment=target.deployment.name,
        endpoint=endpoint,
        seconds=seconds,
        failed="error" in fields,
        prompt_tokens=fields.get("prompt_tokens") or 0,
        completion_tokens=fields.get("completion_tokens") or 0,
    )
    request_log_enqueue(
        {
            "request_id": request_id,
            "project_id": application.project_id,
            "application_id": application.pk,
            "unit_key": unit_key,
            "experiment_id": target.experiment.pk if target.experiment else None,
            "variant_id": target.variant.pk if target.variant else None,
            "phase": target.phase,
            "deployment_id": target.deployment.pk,
            "training_run_id": target.deployment.training_run_id,
            "endpoint": endpoint,
            "latency_ms": seconds * 1000,
            "created_at": timezone.now(),
            **fields,
        }
    )


def _check_task(target: Route, model: str, wanted: str) -> None:
    if target.deployment.task_type != wanted:
        other = "/v1/classifications" if wanted == GENERATION else "/v1/chat/completions"
        raise GatewayError(
            f"'{model}' is a {target.deployment.task_type} model; call {other} instead.",
            param="model",
            code="wrong_endpoint",
        )


def _assay_fields(request_id: str, target: Route) -> dict:
    return {
        "request_id": request_id,
        "deployment": target.deployment.name,
        "experiment": target.experiment.name if target.experiment else None,
        "variant": target.variant.role if target.variant else None,
    }


def _engine_failure(exc: EngineError) -> GatewayError:
    return GatewayError(
        f"The model could not answer: {exc}",
        status=503,
        code="engine_error",
        error_type="server_error",
    )


def chat_completion(*, application: Application, payload: Any, header_unit: str = "") -> dict:
    """Answer an OpenAI-style chat completion request; returns the response body."""
    if not isinstance(payload, dict):
        raise GatewayError("The request body must be a JSON object.")
    if payload.get("stream"):
        raise GatewayError("Streaming is not supported yet; send stream=false.", param="stream")
    if payload.get("n", 1) != 1:
        raise GatewayError("Only n=1 is supported.", param="n")
    messages = _messages(payload)
    unit_key = _unit_key(payload, header_unit)
    target = route(application=application, model=payload.get("model"), unit_key=unit_key)
    _check_task(target, payload["model"], GENERATION)
    decoding = _decoding(payload, target.deployment)
    request_id, started = new_request_id(), time.perf_counter()
    try:
        result = engine_chat(target.deployment, messages, decoding)
    except EngineError as exc:
        _log(application, target, request_id, unit_key, "chat", started,
             input={"messages": messages}, error=str(exc))  # fmt: skip
        raise _engine_failure(exc) from exc
    _log(
        application,
        target,
        request_id,
        unit_key,
        "chat",
        started,
        input={"messages": messages},
        output={"text": result.text, "finish_reason": result.finish_reason},
        prompt_tokens=result.prompt_tokens,
        completion_tokens=result.completion_tokens,
    )
    return {
        "id": request_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": payload["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": result.text},
                "finish_reason": result.finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens,
            "total_tokens": result.prompt_tokens + result.completion_tokens,
        },
        "assay": _assay_fields(request_id, target),
    }


def _texts(payload: dict) -> list[str]:
    texts = payload.get("input")
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list) or not texts:
        raise GatewayError("'input' must be a text or a non-empty list of texts.", param="input")
    if len(texts) > MAX_INPUTS:
        raise GatewayError(f"At most {MAX_INPUTS} texts per request.", param="input")
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise GatewayError(f"input[{index}] must be a string.", param=f"input[{index}]")
    return texts


def classification(*, application: Application, payload: Any, header_unit: str = "") -> dict:
    """Classify one text or a list of texts; returns the response body."""
    if not isinstance(payload, dict):
        raise GatewayError("The request body must be a JSON object.")
    texts = _texts(payload)
    unit_key = _unit_key(payload, header_unit)
    target = route(application=application, model=payload.get("model"), unit_key=unit_key)
    _check_task(target, payload["model"], CLASSIFICATION)
    request_id, started = new_request_id(), time.perf_counter()
    try:
        results = engine_classify(target.deployment, texts)
    except EngineError as exc:
        _log(application, target, request_id, unit_key, "classify", started,
             input={"texts": texts}, error=str(exc))  # fmt: skip
        raise _engine_failure(exc) from exc
    data = [
        {"index": i, "label": r.label, "probabilities": r.probabilities}
        for i, r in enumerate(results)
    ]
    tokens = sum(r.tokens for r in results)
    _log(
        application,
        target,
        request_id,
        unit_key,
        "classify",
        started,
        input={"texts": texts},
        output={"labels": [r.label for r in results]},
        prompt_tokens=tokens,
    )
    return {
        "id": request_id,
        "object": "classification",
        "created": int(time.time()),
        "model": payload["model"],
        "data": data,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        "assay": _assay_fields(request_id, target),
    }
