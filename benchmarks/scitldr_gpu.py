"""SciTLDR-A on a GPU: a 1B+ model from a local folder, LoRA in bf16 through Assay's
runner with a time budget, multi-reference ROUGE as in scitldr.py, and throughput
(training tokens/s and model FLOPs utilisation against the device's peak).

Refuses to run without CUDA. ``--dry-run`` checks the whole script on CPU in seconds
with a tiny random Llama built on the spot (float32, a handful of papers, no JSON unless
``--output`` is given), so the script cannot rot while no GPU is lent; the suite runs it.

MFU counts 6 × parameters FLOPs per trained token for full fine-tuning and 4 × for LoRA
(no weight gradients for the frozen base; `training.core.estimate` uses the same), against
the dense bf16 peak of the device from `PEAK_BF16_FLOPS` (None when the card is unknown).

    .venv/bin/python benchmarks/scitldr_gpu.py --base-model /models/Llama-3.2-1B-Instruct
    .venv/bin/python benchmarks/scitldr_gpu.py --dry-run
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scitldr import (  # noqa: E402 - needs the benchmarks folder on the path
    ANCHOR,
    CATTS_BEAM,
    ROOT,
    first_sentences,
    prompt,
    read_papers,
    subset,
    summarize,
    training_records,
)

DEFAULT_OUTPUT = ROOT / "benchmarks" / "results" / "scitldr_gpu.json"
# Dense bf16 tensor-core peaks (vendor data sheets, no sparsity).
PEAK_BF16_FLOPS = {"H200": 989e12, "H100 SXM": 989e12, "H100 PCIe": 756e12, "H100": 989e12}
PEAK_BF16_FLOPS |= {"A100": 312e12, "L40S": 362e12, "L4": 121e12, "A10": 125e12}


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-model", help="a local Hugging Face folder (1B+ for the record)")
    parser.add_argument("--dry-run", action="store_true", help="tiny model on CPU, seconds")
    parser.add_argument("--max-minutes", type=float, default=20.0, help="training budget")
    parser.add_argument("--train-papers", type=int, default=0, help="0 = all 1,992")
    parser.add_argument("--limit", type=int, default=0, help="test papers; 0 = all 618")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--output", type=Path, default=None)
    return parser.parse_args(argv)


def plan(args) -> dict:
    """What the run does: the GPU record, or the CPU dry run's tiny version of it."""
    if args.dry_run:
        return {
            "dry_run": True,
            "precision": "float32",
            "train_papers": 16,
            "limit": 4,
            "max_minutes": 0.25,
            "batch_size": 4,
            "max_length": 96,
            "max_new_tokens": 8,
            "output": args.output,
        }
    if not args.base_model:
        raise SystemExit("Give --base-model (a local folder; the GPU machine is offline).")
    return {
        "dry_run": False,
        "precision": "bfloat16",
        "train_papers": args.train_papers,
        "limit": args.limit,
        "max_minutes": args.max_minutes,
        "batch_size": args.batch_size,
        "max_length": 512,
        "max_new_tokens": 48,
        "output": args.output or DEFAULT_OUTPUT,
    }


def peak_flops(device_name: str) -> float | None:
    """The device's dense bf16 peak, by the longest matching name (None if unknown)."""
    matches = [key for key in PEAK_BF16_FLOPS if key in device_name]
    return PEAK_BF16_FLOPS[max(matches, key=len)] if matches else None


def throughput(
    *, tokens: int, seconds: float, parameters: int, method: str, peak: float | None
) -> dict:
    per_second = tokens / seconds if seconds > 0 else 0.0
    achieved = (6 if method == "full" else 4) * parameters * per_second
    return {
        "train_tokens": tokens,
        "train_seconds": round(seconds, 2),
        "tokens_per_second": round(per_second, 1),
        "achieved_flops": achieved,
        "peak_bf16_flops": peak,
        "mfu": round(achieved / peak, 4) if peak else None,
    }


def tiny_model(folder: Path) -> str:
    """A 2-layer random Llama with a byte-level BPE tokenizer trained on abstracts."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    texts = [" ".join(p["source"]) + " " + p["target"][0] for p in read_papers("dev")[:200]]
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    specials = ["<pad>", "<unk>", "</s>"]
    tokenizer.train_from_iterator(
        texts, trainers.BpeTrainer(vocab_size=800, special_tokens=specials, show_progress=False)
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="<unk>", pad_token="<pad>", eos_token="</s>"
    )
    fast.chat_template = (
        "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}</s>{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>{% endif %}"
    )
    config = LlamaConfig(
        vocab_size=len(fast),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=1024,
        pad_token_id=fast.pad_token_id,
        eos_token_id=fast.eos_token_id,
        bos_token_id=None,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return str(folder)


def write_data(folder: Path, settings: dict) -> tuple[list, list]:
    from training.core.data import write_split

    train = subset(read_papers("train"), settings["train_papers"], seed=1)
    test = subset(read_papers("test"), settings["limit"])
    write_split(folder, "train", training_records(train, all_targets=True))
    dev = subset(read_papers("dev"), 64 if not settings["dry_run"] else 4, seed=2)
    write_split(folder, "validation", training_records(dev, all_targets=True))
    write_split(folder, "test", training_records(test, all_targets=True))
    return train, test


def train_tokens(records_path: Path, tokenizer, max_length: int, samples: float) -> int:
    """Tokens trained on: the mean tokenized example length × examples seen."""
    from training.core.data import read_split

    records = read_split(records_path, "train")
    lengths = [
        min(max_length, len(tokenizer(r["prompt"] + " " + r["response"])["input_ids"]))
        for r in records
    ]
    return int(sum(lengths) / max(len(lengths), 1) * samples)


def run(settings: dict, base_model: str, work: Path) -> dict:
    import torch

    from training.core.config import TrainingConfig
    from training.core.models import load_tokenizer, model_shape
    from training.core.runner import train

    train_papers, test_papers = write_data(work / "data", settings)
    config = TrainingConfig(
        task_type="generation",
        base_model=base_model,
        precision=settings["precision"],
        max_minutes=settings["max_minutes"],
        epochs=3.0,
        batch_size=settings["batch_size"],
        max_length=settings["max_length"],
        learning_rate=2e-4,
        eval_steps=50 if not settings["dry_run"] else 2,
        eval_max_examples=64 if not settings["dry_run"] else 4,
        early_stopping_patience=3,
        max_new_tokens=settings["max_new_tokens"],
        generation_batch_size=32,
        bootstrap_samples=200,
        **CATTS_BEAM,
    )
    result = train(config, work / "data", work / "out", model_cache_dir=work / "models")
    samples = result["train_samples_per_second"] * result["train_seconds"]
    tokens = train_tokens(
        work / "data", load_tokenizer(base_model), settings["max_length"], samples
    )
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU (dry run)"
    tuned = result["comparison"]["systems"]["fine_tuned"]["samples"]
    return {
        "device": device,
        "base_model": base_model,
        "settings": {k: v for k, v in settings.items() if k != "output"},
        "train_papers": len(train_papers),
        "steps": result["global_step"],
        "stopped_at_budget": result["stopped_at_budget"],
        "throughput": throughput(
            tokens=tokens,
            seconds=result["train_seconds"],
            parameters=model_shape(base_model).parameters,
            method=config.method,
            peak=peak_flops(device),
        ),
        "decoding": config.decoding.describe(),
        "test": _test_scores(result, test_papers, tuned),
        "anchor": ANCHOR,
    }


def _test_scores(result: dict, test_papers: list[dict], tuned_samples: list[str]) -> dict:
    """Both ROUGE views for the fine-tuned and base outputs the runner kept (it keeps the
    first 100 test prompts), beside the first-sentence baseline on the same papers."""
    comparison = result["comparison"]
    by_prompt = {prompt(paper): paper for paper in test_papers}
    papers = [by_prompt[text] for text in comparison["sample_prompts"]]
    base = comparison["systems"]["base"]["samples"]
    return {
        "papers": len(papers),
        "runner_rouge_l": comparison["systems"]["fine_tuned"]["metrics"]["rouge_l"],
        "fine_tuned": summarize(tuned_samples[: len(papers)], papers),
        "base": summarize(base[: len(papers)], papers),
        "first_sentence": summarize(first_sentences(papers), papers),
    }


def main(argv=None) -> int:
    import torch

    args = parse(argv)
    settings = plan(args)
    if not settings["dry_run"] and not torch.cuda.is_available():
        print("scitldr_gpu needs a CUDA GPU and none is available; not running.")
        return 2
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="scitldr-gpu-") as folder:
        work = Path(folder)
        base = tiny_model(work / "tiny") if settings["dry_run"] else args.base_model
        report = run(settings, base, work)
    report["total_minutes"] = round((time.monotonic() - started) / 60, 2)
    if settings["output"]:
        settings["output"].parent.mkdir(parents=True, exist_ok=True)
        settings["output"].write_text(json.dumps(report, indent=2, default=str))
    print(json.dumps({k: report[k] for k in ("device", "steps", "throughput")}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
