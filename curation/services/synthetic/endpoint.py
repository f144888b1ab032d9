"""Paraphrases from an OpenAI-compatible chat-completions endpoint.

Configured by the setting ``ASSAY_SYNTHETIC_ENDPOINT = {"base_url": ..., "model": ...,
"api_key": ...}`` (api_key optional; a local server needs none). Only the standard
``POST {base_url}/chat/completions`` call is used, so vLLM, llama.cpp's server, Ollama
and hosted APIs all work.
"""

import json
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings

from curation.exceptions import AssayError

PROMPT = (
    "Rewrite the following text so that it means the same and would get the same label, "
    "but uses different words. Answer with the rewritten text only.\n\nText: {text}"
)
TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    model: str
    api_key: str = ""


def configured_endpoint() -> Endpoint | None:
    config = getattr(settings, "ASSAY_SYNTHETIC_ENDPOINT", None)
    if not config:
        return None
    try:
        return Endpoint(
            base_url=config["base_url"].rstrip("/"),
            model=config["model"],
            api_key=config.get("api_key", ""),
        )
    except (KeyError, AttributeError) as exc:
        raise AssayError(
            "ASSAY_SYNTHETIC_ENDPOINT needs base_url and model (and optionally api_key)."
        ) from exc


def endpoint_paraphrase(endpoint: Endpoint, text: str, *, seed: int) -> str:
    """One paraphrase of ``text``; AssayError naming the endpoint when it fails."""
    body = {
        "model": endpoint.model,
        "messages": [{"role": "user", "content": PROMPT.format(text=text)}],
        "temperature": 0.9,
        "seed": seed,
    }
    request = urllib.request.Request(
        f"{endpoint.base_url}/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {endpoint.api_key}"} if endpoint.api_key else {}),
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            payload = json.load(response)
        return payload["choices"][0]["message"]["content"].strip()
    except (urllib.error.URLError, TimeoutError, KeyError, IndexError, ValueError) as exc:
        raise AssayError(f"The synthetic-data endpoint {endpoint.base_url} failed: {exc}") from exc
