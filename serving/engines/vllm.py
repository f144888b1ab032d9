"""The vLLM engine: `Engine` over vLLM's OpenAI-compatible HTTP API.

One vLLM server runs per base model, each on its own port (`vllm_server` starts them).
A deployment with a LoRA adapter is registered on its base model's server at runtime
(``POST /v1/load_lora_adapter``), so many deployments share one server; a full
fine-tune is its own server, serving the trained folder under the deployment's name.
Servers recorded in the run directory by another process are reused, not started twice.

Only the standard library speaks HTTP here; nothing imports vLLM.
"""

import json
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from serving.core.engine import (
    CLASSIFICATION,
    ChatResult,
    ClassifyResult,
    Decoding,
    EngineError,
    ModelSpec,
    UnknownModel,
)
from serving.engines import vllm_server
from serving.engines.vllm_server import VllmServerConfig, VllmServerError

CLASSIFY_UNSUPPORTED = (
    "vLLM serves generation models here; deploy classification models on the built-in engine"
)


class ServerUnavailable(EngineError):
    """The vLLM server for a model does not answer."""


class EndpointMissing(EngineError):
    """The server has no such route (for the adapter routes: runtime loading is off)."""


@dataclass
class _Server:
    """A server this engine routes to. ``owned``: started by this engine (stop_all stops
    it). ``registered``: adapters this engine loaded at runtime (unload removes them)."""

    base_model: str
    port: int
    url: str
    owned: bool
    served_model_names: tuple[str, ...]
    lora_modules: dict[str, str] = field(default_factory=dict)
    registered: set[str] = field(default_factory=set)


class VllmEngine:
    """Serves generation models through local vLLM servers; see the module docstring."""

    name = "vllm"

    def __init__(
        self,
        config: VllmServerConfig | None = None,
        *,
        start_timeout: float = 600.0,
        request_timeout: float = 300.0,
    ):
        self.config = config or VllmServerConfig.from_env()
        self.start_timeout = start_timeout
        self.request_timeout = request_timeout
        self._lock = threading.RLock()
        self._servers: dict[str, _Server] = {}  # by base model
        self._specs: dict[str, ModelSpec] = {}  # by deployment name

    # -- Engine ---------------------------------------------------------------------------

    def load(self, spec: ModelSpec) -> None:
        if spec.task_type == CLASSIFICATION:
            raise EngineError(CLASSIFY_UNSUPPORTED)
        # The file lock makes a second process (another web worker) wait for this start
        # and then reuse the server, instead of starting its own.
        with self._lock, vllm_server.start_lock(self.config):
            if self._specs.get(spec.name) == spec:
                return
            if spec.name in self._specs:
                self.unload(spec.name)
            if spec.adapter_path:
                self._load_adapter(spec)
            else:
                self._load_full_weights(spec)
            self._specs[spec.name] = spec

    def unload(self, name: str) -> None:
        with self._lock:
            spec = self._specs.pop(name, None)
            if spec is None:
                return
            server = self._servers.get(spec.base_model)
            if server is None:
                return
            if name in server.registered:
                server.registered.discard(name)
                server.lora_modules.pop(name, None)
                try:
                    _post(server.url, "/v1/unload_lora_adapter", {"lora_name": name}, 60.0)
                except EngineError:
                    pass  # a server that is gone or forgot it already has nothing to free
            still_used = any(s.base_model == spec.base_model for s in self._specs.values())
            if not still_used:
                if server.owned:
                    vllm_server.server_stop(self.config.on_port(server.port))
                del self._servers[spec.base_model]

    def loaded(self) -> list[str]:
        return sorted(self._specs)

    def chat(self, name: str, messages: list[dict], decoding: Decoding) -> ChatResult:
        url = self._url_of(name)
        body = chat_request(name, messages, decoding)
        data = _post_json(url, "/v1/chat/completions", body, self.request_timeout, model=name)
        return chat_result(data)

    def classify(self, name: str, texts: list[str]) -> list[ClassifyResult]:
        raise EngineError(CLASSIFY_UNSUPPORTED)

    def stop_all(self) -> None:
        """Stop every server this engine started and forget every name."""
        with self._lock:
            for server in self._servers.values():
                if server.owned:
                    vllm_server.server_stop(self.config.on_port(server.port))
            self._servers.clear()
            self._specs.clear()

    def url_of(self, name: str) -> str:
        """The URL of the server answering ``name`` (shown on the deployment's page)."""
        return self._url_of(name)

    # -- loading --------------------------------------------------------------------------

    def _url_of(self, name: str) -> str:
        spec = self._specs.get(name)
        server = spec and self._servers.get(spec.base_model)
        if server is None:
            raise UnknownModel(f"No model named {name!r} is loaded on the vLLM engine.")
        return server.url

    def _load_adapter(self, spec: ModelSpec) -> None:
        server = self._server_for(spec.base_model)
        if server is None:
            self._start_with(spec)
            return
        cards = {card["id"]: card for card in _model_cards(server.url)}
        if cards.get(spec.name, {}).get("root") == spec.adapter_path:
            return  # already served with this adapter (started with it, or by another process)
        if spec.name in cards:
            _post(server.url, "/v1/unload_lora_adapter", {"lora_name": spec.name}, 60.0)
        body = {"lora_name": spec.name, "lora_path": spec.adapter_path}
        try:
            _post(server.url, "/v1/load_lora_adapter", body, self.request_timeout)
        except EndpointMissing:
            # Started without VLLM_ALLOW_RUNTIME_LORA_UPDATING: restart it with the new set.
            self._restart(
                server, lora_modules={**server.lora_modules, spec.name: body["lora_path"]}
            )
            return
        server.registered.add(spec.name)
        server.lora_modules[spec.name] = spec.adapter_path

    def _load_full_weights(self, spec: ModelSpec) -> None:
        server = self._server_for(spec.base_model)
        if server is None:
            self._start_with(spec)
        elif spec.name not in server.served_model_names:
            # Served names are fixed at start: a second name for the same folder restarts it.
            names = tuple(n for n in server.served_model_names if n != spec.base_model)
            self._restart(server, served_model_names=(*names, spec.name))

    def _server_for(self, base_model: str) -> _Server | None:
        """The healthy server for ``base_model``: ours, or one another process recorded.
        A server of ours that died is forgotten (and its state cleared) so it is restarted."""
        server = self._servers.get(base_model)
        if server is not None and vllm_server.server_health(server.url):
            return server
        if server is not None:
            if server.owned:
                vllm_server.server_stop(self.config.on_port(server.port))
            del self._servers[base_model]
        return self._find_running(base_model)

    def _find_running(self, base_model: str) -> _Server | None:
        """A healthy server for ``base_model`` another process started from our run dir."""
        for state in vllm_server.servers_running(self.config):
            if state.base_model == base_model and vllm_server.server_health(state.url):
                server = _Server(
                    base_model=base_model,
                    port=state.port,
                    url=state.url,
                    owned=False,
                    served_model_names=state.served_model_names,
                    lora_modules=dict(state.lora_modules),
                )
                self._servers[base_model] = server
                return server
        return None

    def _start_with(self, spec: ModelSpec) -> None:
        """Start the base model's server with ``spec`` and every name already loaded on it
        (after a crash those come back too)."""
        specs = [s for s in self._specs.values() if s.base_model == spec.base_model] + [spec]
        names = tuple(s.name for s in specs if not s.adapter_path)
        modules = {s.name: s.adapter_path for s in specs if s.adapter_path}
        self._start(spec.base_model, names, modules)

    def _start(
        self, base_model: str, served_model_names: tuple[str, ...], lora_modules: dict[str, str]
    ) -> _Server:
        taken = {state.port for state in vllm_server.servers_running(self.config)}
        port = vllm_server.free_port(self.config.host, self.config.port, taken=taken)
        config = self.config.on_port(port)
        try:
            vllm_server.server_start(
                config,
                base_model=base_model,
                lora_modules=lora_modules,
                served_model_names=served_model_names,
                timeout=self.start_timeout,
            )
        except VllmServerError as exc:
            raise EngineError(f"Could not start vLLM for {base_model}: {exc}") from exc
        server = _Server(
            base_model=base_model,
            port=port,
            url=config.url,
            owned=True,
            served_model_names=served_model_names or (base_model,),
            lora_modules=dict(lora_modules),
        )
        self._servers[base_model] = server
        return server

    def _restart(
        self,
        server: _Server,
        *,
        served_model_names: tuple[str, ...] | None = None,
        lora_modules: dict[str, str] | None = None,
    ) -> None:
        if not server.owned:
            raise EngineError(
                f"The vLLM server at {server.url} was started elsewhere and cannot take a new "
                "model without a restart; stop it (`manage.py serving_vllm stop`) and load again."
            )
        vllm_server.server_stop(self.config.on_port(server.port))
        del self._servers[server.base_model]
        names = served_model_names
        if names is None:
            names = tuple(n for n in server.served_model_names if n != server.base_model)
        modules = server.lora_modules if lora_modules is None else lora_modules
        self._start(server.base_model, names, modules)


# -- HTTP mapping (module level so the unit tests can check it without a server) -----------


def vllm_decoding_check(decoding: Decoding) -> None:
    """vLLM's chat completions take temperature, top_p, max_tokens and seed; beam search
    is not offered there, so a beam deployment is refused rather than answered greedily."""
    if decoding.num_beams > 1:
        raise EngineError(
            f"The vLLM engine does not do beam search (num_beams {decoding.num_beams}): its "
            "OpenAI chat endpoint has no beams. Deploy on the built-in engine, or use "
            "num_beams 1 (greedy, or sampling with temperature > 0)."
        )


def chat_request(name: str, messages: list[dict], decoding: Decoding) -> dict:
    """The body of ``POST /v1/chat/completions`` for one call."""
    vllm_decoding_check(decoding)
    body = {
        "model": name,
        "messages": messages,
        "max_tokens": decoding.max_tokens,
        "temperature": decoding.temperature,
        "top_p": decoding.top_p,
    }
    if decoding.seed is not None:
        body["seed"] = decoding.seed
    return body


def chat_result(data: dict) -> ChatResult:
    """A ChatResult from vLLM's chat completion (token counts are vLLM's own)."""
    try:
        choice = data["choices"][0]
        usage = data.get("usage") or {}
        return ChatResult(
            text=choice["message"].get("content") or "",
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            finish_reason="length" if choice.get("finish_reason") == "length" else "stop",
        )
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise EngineError(f"vLLM answered with an unexpected chat completion: {data!r}") from exc


def _model_cards(url: str) -> list[dict]:
    return _get_json(url, "/v1/models", 10.0).get("data", [])


def _get_json(url: str, path: str, timeout: float) -> dict:
    return _decode(_send(urllib.request.Request(f"{url}{path}"), url, timeout, model=None))


def _post_json(url: str, path: str, body: dict, timeout: float, *, model: str) -> dict:
    return _decode(_send(_json_request(url, path, body), url, timeout, model=model))


def _post(url: str, path: str, body: dict, timeout: float) -> str:
    """POST for endpoints that answer plain text (the adapter endpoints)."""
    return _send(_json_request(url, path, body), url, timeout, model=None)


def _json_request(url: str, path: str, body: dict) -> urllib.request.Request:
    return urllib.request.Request(
        f"{url}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )


def _send(request: urllib.request.Request, url: str, timeout: float, *, model: str | None) -> str:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as exc:
        raise http_error(exc.code, exc.read().decode("utf-8", errors="replace"), model) from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ServerUnavailable(
            f"The vLLM server at {url} is not answering ({reason}); check "
            "`manage.py serving_vllm status` and its log."
        ) from exc


def _decode(text: str) -> dict:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise EngineError(f"vLLM answered with something that is not JSON: {text[:200]!r}") from exc


def http_error(status: int, body: str, model: str | None) -> EngineError:
    """The EngineError for an HTTP error from vLLM. A 404 is a route the server lacks
    (FastAPI's bare "Not Found"), or, on a call naming ``model``, an unknown model; any
    other error keeps vLLM's message (e.g. "No adapter found for <path>")."""
    message = _error_message(body)
    if status == 404 and message == "Not Found":
        return EndpointMissing(f"The vLLM server has no such endpoint ({message}).")
    if status == 404 and model is not None:
        return UnknownModel(f"vLLM has no model named {model!r}: {message}")
    if 400 <= status < 500:
        return EngineError(f"vLLM refused the request ({status}): {message}")
    return EngineError(f"vLLM failed ({status}): {message}")


def _error_message(body: str) -> str:
    # vLLM answers {"error": {"message": ...}} (OpenAI's shape) or, older, {"message": ...}.
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()[:500] or "no details"
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if data.get("message") or data.get("detail"):
            return str(data.get("message") or data.get("detail"))
    return body.strip()[:500]
