"""Serving tests reuse the tiny models of the training tests (built from a config, no
download) and add LoRA adapters trained on nothing: random but non-zero, so an adapter
changes what the model says."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from tests.training.conftest import (  # noqa: F401 - fixtures re-exported for serving tests
    CHAT_TEMPLATE,
    tiny_bert,
    tiny_llama,
)


def random_lora_adapter(base: str, folder: Path, *, task: str, seed: int, labels=()) -> str:
    """A PEFT LoRA adapter on ``base`` with random (non-zero) weights, saved in ``folder``."""
    import torch
    from peft import LoraConfig, TaskType, get_peft_model
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    torch.manual_seed(seed)
    if task == "classification":
        model = AutoModelForSequenceClassification.from_pretrained(
            base,
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={label: i for i, label in enumerate(labels)},
        )
        task_type = TaskType.SEQ_CLS
    else:
        model = AutoModelForCausalLM.from_pretrained(base)
        task_type = TaskType.CAUSAL_LM
    lora = LoraConfig(task_type=task_type, r=4, lora_alpha=8, init_lora_weights=False)
    get_peft_model(model, lora).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session")
def tiny_llama_adapters(tiny_llama, tmp_path_factory) -> tuple[str, str]:  # noqa: F811 - the imported fixture
    """Two different random LoRA adapters on the tiny Llama."""
    root = tmp_path_factory.mktemp("llama-adapters")
    return (
        random_lora_adapter(tiny_llama, root / "a", task="generation", seed=1),
        random_lora_adapter(tiny_llama, root / "b", task="generation", seed=2),
    )


@pytest.fixture(scope="session")
def tiny_bert_adapter(tiny_bert, tmp_path_factory) -> str:  # noqa: F811 - the imported fixture
    """A random LoRA adapter (with its classification head) for labels ham / spam."""
    root = tmp_path_factory.mktemp("bert-adapter")
    return random_lora_adapter(
        tiny_bert, root / "adapter", task="classification", seed=3, labels=("ham", "spam")
    )


@pytest.fixture(scope="session")
def other_tiny_llama(tmp_path_factory) -> str:
    """A tiny Llama of another shape (hidden 32): adapters of `tiny_llama` do not fit it."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from tests.training.conftest import _tokenizer

    folder = tmp_path_factory.mktemp("other-tiny-llama")
    tokenizer = _tokenizer(CHAT_TEMPLATE)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=256,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


REPO_ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def assay_server(transactional_db, tmp_path):
    """`manage.py runserver` in its own process, on this test's database, with the request
    log written in the background as in production."""
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "curation.settings.test",
        "ASSAY_DATABASE_NAME": str(connection.settings_dict["NAME"]),
        "ASSAY_REQUEST_LOG_MODE": "background",
        "ASSAY_SERVING_THREADS": "1",
    }
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "runserver",
            f"127.0.0.1:{port}",
            "--noreload",
            "--skip-checks",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/v1/models", timeout=2)
        except urllib.error.HTTPError:
            break  # 401 without a key: the server is up
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail(f"the server did not start: {(tmp_path / 'server.log').read_text()[-2000:]}")
    yield url
    process.terminate()
    process.wait(timeout=20)
    log.close()
