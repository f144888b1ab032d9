"""E2E NLG: SmolLM2-135M-Instruct + LoRA fine-tuned by Assay's runner on a CPU budget;
multi-reference BLEU (sacrebleu) and ROUGE-L (rouge-score, best reference) on the test
MRs, vs TGen (68.5 ROUGE-L / 65.93 BLEU) and GPT-2 M + LoRA (71.8 / 70.4).

The budget is stated in the results: training examples (a seeded sample of trainset.csv),
optimizer steps, batch size, and minutes; and how many of the 630 test MRs were scored
(all by default; --test-mrs N scores a seeded subset when generation is too slow).
Decoding is greedy unless --num-beams/--length-penalty ask for beam search (TGen and the
LoRA paper used beams; the LoRA paper beam 10), and --max-minutes caps training time
(Assay's time budget). The metric implementations are
sacrebleu / rouge-score rather than the challenge's e2e-metrics script, so compare the
numbers as close, not identical, measurements.

    .venv/bin/python benchmarks/e2e_nlg_lora.py [--train-examples 2000] [--max-steps 150]
"""

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "e2e_nlg"
SYSTEM = "Write one fluent restaurant description that states every attribute given."
ANCHORS = {
    "TGen": {"bleu": 65.93, "rouge_l": 68.50},
    "GPT-2 M + LoRA": {"bleu": 70.4, "rouge_l": 71.8},
}


def read_pairs(name: str) -> list[dict]:
    with (DATA / name).open(encoding="utf-8") as handle:
        return [
            {"system": SYSTEM, "prompt": row["mr"], "response": row["ref"]}
            for row in csv.DictReader(handle)
        ]


def test_subset(pairs: list[dict], limit: int, seed: int) -> list[dict]:
    if not limit:
        return pairs
    prompts = sorted({p["prompt"] for p in pairs})
    chosen = set(random.Random(seed).sample(prompts, min(limit, len(prompts))))
    return [p for p in pairs if p["prompt"] in chosen]


def parse(description: str, defaults: dict):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--base-model", default=defaults.get("base_model", ""))
    parser.add_argument("--train-examples", type=int, default=defaults["train_examples"])
    parser.add_argument("--max-steps", type=int, default=defaults["max_steps"])
    parser.add_argument("--batch-size", type=int, default=defaults["batch_size"])
    parser.add_argument("--test-mrs", type=int, default=0, help="0 = all 630")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--num-beams", type=int, default=1, help="1 = greedy (beam: TGen, LoRA)")
    parser.add_argument("--length-penalty", type=float, default=1.0)
    parser.add_argument("--max-minutes", type=float, default=0.0, help="training budget; 0 = none")
    return parser.parse_args()


def run(args, *, results_name: str, hardware: str) -> dict:
    import torch

    from training.core.config import TrainingConfig
    from training.core.data import write_split
    from training.core.runner import train

    torch.set_num_threads(args.threads)
    rng = random.Random(0)
    train_pairs = rng.sample(read_pairs("trainset.csv"), args.train_examples)
    work = Path(tempfile.mkdtemp(prefix="e2e-bench-"))
    write_split(work / "data", "train", train_pairs)
    write_split(work / "data", "validation", rng.sample(read_pairs("devset.csv"), 200))
    test = test_subset(read_pairs("testset_w_refs.csv"), args.test_mrs, seed=0)
    write_split(work / "data", "test", test)
    config = TrainingConfig(
        task_type="generation",
        base_model=args.base_model,
        max_steps=args.max_steps,
        batch_size=args.batch_size,
        max_length=128,
        learning_rate=1e-3,
        lora_r=8,
        lora_alpha=16,
        eval_steps=args.max_steps,
        eval_max_examples=24,
        early_stopping_patience=0,
        max_new_tokens=64,
        generation_batch_size=32,
        bootstrap_samples=200,
        num_beams=args.num_beams,
        length_penalty=args.length_penalty,
        max_minutes=args.max_minutes,
    )
    started = time.monotonic()
    result = train(config, work / "data", work / "out", model_cache_dir=ROOT / "var" / "models")
    systems = result["comparison"]["systems"]
    report = {
        "hardware": hardware,
        "base_model": result["base_model"],
        "budget": {
            "train_examples": args.train_examples,
            "steps": result["global_step"],
            "batch_size": args.batch_size,
            "threads": args.threads,
            "train_minutes": result["train_seconds"] / 60,
            "total_minutes": (time.monotonic() - started) / 60,
        },
        "test_mrs": result["comparison"]["examples"],
        "decoding": f"{config.decoding.describe()}, max 64 new tokens",
        "stopped_at_budget": result["stopped_at_budget"],
        "systems": {name: s["metrics"] for name, s in systems.items()},
        "samples": systems["fine_tuned"]["samples"][:5],
        "anchors": ANCHORS,
        "verdict": result["comparison"]["verdict"],
    }
    path = ROOT / "benchmarks" / "results" / f"{results_name}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(report, indent=2))
    print_table(report)
    return report


def print_table(report: dict) -> None:
    print(f"| system ({report['test_mrs']} test MRs) | BLEU | ROUGE-L |\n|---|---:|---:|")
    for name, scores in report["systems"].items():
        print(f"| {name.replace('_', ' ')} | {scores['bleu']:.2f} | {scores['rouge_l']:.2f} |")
    for name, scores in ANCHORS.items():
        print(f"| {name} (published) | {scores['bleu']} | {scores['rouge_l']} |")
    print(f"budget: {report['budget']}")


def main() -> None:
    args = parse(
        __doc__.splitlines()[0], {"train_examples": 2000, "max_steps": 150, "batch_size": 8}
    )
    run(args, results_name="e2e_nlg_lora", hardware="CPU")


if __name__ == "__main__":
    main()
