"""Labelled-positions loss: one training step of the bundled generation model with Assay's
loss (`training.core.loss.labelled_loss`) against the model's own loss (the anchor).

Both arms run the same step on the same batches of the same model: forward, backward and
an AdamW step (learning rate 0, so the weights stay the same for both arms). Batches are
real training examples as the runner builds them (chat template, the loss on the response
only, right-padded): E2E NLG (short responses, ~40% of the tokens labelled) and SciTLDR-A
(one-sentence summaries of abstracts, a smaller share labelled). Rounds alternate which arm
goes first, to spread a shared CPU's noise over both. Speed-up = anchor seconds per step
/ Assay seconds per step; the largest relative difference between the two losses is
reported too (they must agree).

    .venv/bin/python benchmarks/labelled_loss.py [--batches 6] [--rounds 3] [--threads 2]
        [--dry-run]   # a tiny random model, 1 batch, 1 round: the suite runs this

Writes benchmarks/results/labelled_loss.json (a dry run only to --output) and prints a table.
"""

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from pipeline import machine_info, results_write  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "labelled_loss.json"
BATCH_SIZE = 8
# Tokens per example: the launch default (128) for E2E; SciTLDR's abstracts need more.
DATA_SETS = {"e2e_nlg": 128, "scitldr": 512}


def records(name: str, count: int, seed: int = 0) -> list[dict]:
    """``count`` seeded training records of a data set, as the runner reads them."""
    rng = random.Random(seed)
    if name == "e2e_nlg":
        from e2e_nlg import SYSTEM, read_csv

        rows = rng.sample(read_csv("trainset.csv"), count)
        return [{"system": SYSTEM, "prompt": r["mr"], "response": r["ref"]} for r in rows]
    from scitldr import read_papers, training_records

    return rng.sample(training_records(read_papers("train"), all_targets=True), count)


def batches(name: str, tokenizer, *, count: int, max_length: int) -> list[dict]:
    from training.core.data import CausalCollator, generation_features

    features = generation_features(
        records(name, count * BATCH_SIZE), tokenizer, max_length=max_length
    )
    collate = CausalCollator(pad_token_id=tokenizer.pad_token_id)
    return [collate(features[i : i + BATCH_SIZE]) for i in range(0, len(features), BATCH_SIZE)]


def model_loss(model, inputs):
    return model(**inputs).loss


def step_seconds(model, optimizer, loss_fn, batch) -> tuple[float, float]:
    started = time.perf_counter()
    optimizer.zero_grad()
    loss = loss_fn(model, batch)
    loss.backward()
    optimizer.step()
    return time.perf_counter() - started, float(loss)


def measure(model, data: list[dict], *, rounds: int) -> dict:
    """Seconds per step for each arm over ``rounds`` alternating rounds, and how far the
    two losses are apart on the same batch."""
    import torch

    from training.core.loss import labelled_loss

    arms = {"model_loss": model_loss, "labelled_loss": labelled_loss}
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.0)
    step_seconds(model, optimizer, model_loss, data[0])  # warm-up: allocations, optimizer state
    seconds: dict[str, list[float]] = {arm: [] for arm in arms}
    losses: dict[str, list[float]] = {arm: [] for arm in arms}
    for round_number in range(rounds):
        order = list(arms) if round_number % 2 == 0 else list(reversed(arms))
        for arm in order:
            for batch in data:
                took, loss = step_seconds(model, optimizer, arms[arm], batch)
                seconds[arm].append(took)
                losses[arm].append(loss)
    labelled = sum(int((b["labels"][:, 1:] != -100).sum()) for b in data)
    positions = sum(int(b["attention_mask"].sum()) for b in data)
    anchor = statistics.median(seconds["model_loss"])
    ours = statistics.median(seconds["labelled_loss"])
    return {
        "steps_per_arm": len(seconds["model_loss"]),
        "tokens_per_batch": positions / len(data),
        "labelled_share": labelled / positions,
        "model_loss_seconds_per_step": anchor,
        "labelled_loss_seconds_per_step": ours,
        "speedup": anchor / ours,
        "largest_loss_difference": max(
            abs(a - b) / max(1.0, abs(a))
            for a, b in zip(losses["model_loss"], losses["labelled_loss"], strict=True)
        ),
    }


def tiny_model(vocab_size: int):
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        tie_word_embeddings=True,
    )
    return LlamaForCausalLM(config)


def print_table(report: dict) -> None:
    print(
        "\n| data set | tokens / batch | labelled | model's loss s/step | Assay s/step | speed-up |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name, row in report["data_sets"].items():
        print(
            f"| {name} | {row['tokens_per_batch']:.0f} | {row['labelled_share']:.0%} | "
            f"{row['model_loss_seconds_per_step']:.2f} | "
            f"{row['labelled_loss_seconds_per_step']:.2f} | {row['speedup']:.2f}× |"
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=6, help="batches of 8 per data set")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dry-run", action="store_true", help="tiny random model, no JSON")
    parser.add_argument(
        "--output",
        type=Path,
        help=f"default {RESULTS.relative_to(ROOT)}; a dry run writes only here",
    )
    args = parser.parse_args(argv)
    import torch
    from transformers import AutoModelForCausalLM

    from training.core.models import load_tokenizer, smollm2_model_dir

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model_dir = smollm2_model_dir(ROOT / "var" / "models")
    tokenizer = load_tokenizer(str(model_dir))
    if args.dry_run:
        model, args.batches, args.rounds = tiny_model(len(tokenizer)), 1, 1
    else:
        model = AutoModelForCausalLM.from_pretrained(str(model_dir))
    model.train()
    report = {
        "machine": machine_info(),
        "threads": args.threads,
        "batch_size": BATCH_SIZE,
        "anchor": "the model's own loss (logits at every position)",
        "data_sets": {},
    }
    for name, max_length in DATA_SETS.items():
        data = batches(name, tokenizer, count=args.batches, max_length=max_length)
        report["data_sets"][name] = {
            "max_length": max_length,
            **measure(model, data, rounds=args.rounds),
        }
    print_table(report)
    if args.output or not args.dry_run:
        results_write(args.output or RESULTS, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
