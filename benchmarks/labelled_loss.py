"""Training-step speed of Assay's changes for generation, against the model's own loss on
padded batches in float32 (the anchor: what a plain Trainer script does).

Four arms run the same step on the same examples of the same model: forward, backward
and an AdamW step (learning rate 0, so the weights stay the same for every arm).
- ``model_loss`` (anchor): padded batches, the model's own loss (logits at every position);
- ``labelled_loss``: padded batches, `training.core.loss.labelled_loss` (the vocabulary
  projection only where a label is);
- ``packed``: the same examples as one row without padding (`training.core.data.
  PackedCollator`), with the labelled loss;
- ``mixed_bfloat16``: padded, the labelled loss under bf16 autocast (float32 weights), the
  small generation model's launch default on a CPU with native bf16.

Examples are real training records as the runner builds them (chat template, the loss on
the response only): E2E NLG (128 tokens at most, the launch default) and SciTLDR-A
(abstracts, 256 tokens at most, a smaller share labelled). Rounds reverse the arms' order
every other round, to spread a shared CPU's noise. Speed-up = anchor's median seconds per
step / the arm's. The largest relative difference of each arm's loss from the anchor's is
reported too: float error for the float32 arms, bf16 rounding (about 1e-3) for mixed.

    .venv/bin/python benchmarks/labelled_loss.py [--batches 4] [--rounds 2] [--threads 2]
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
DATA_SETS = {"e2e_nlg": 128, "scitldr": 256}


def records(name: str, count: int, seed: int = 0) -> list[dict]:
    """``count`` seeded training records of a data set, as the runner reads them."""
    rng = random.Random(seed)
    if name == "e2e_nlg":
        from e2e_nlg import SYSTEM, read_csv

        rows = rng.sample(read_csv("trainset.csv"), count)
        return [{"system": SYSTEM, "prompt": r["mr"], "response": r["ref"]} for r in rows]
    from scitldr import read_papers, training_records

    return rng.sample(training_records(read_papers("train"), all_targets=True), count)


def batches(name: str, tokenizer, *, count: int, max_length: int) -> dict[str, list[dict]]:
    """The same ``count`` batches of a data set two ways: padded (as `CausalCollator`
    builds them) and packed (`PackedCollator`: one row, no padding)."""
    from training.core.data import CausalCollator, PackedCollator, generation_features

    features = generation_features(
        records(name, count * BATCH_SIZE), tokenizer, max_length=max_length
    )
    chunks = [features[i : i + BATCH_SIZE] for i in range(0, len(features), BATCH_SIZE)]
    padded = CausalCollator(pad_token_id=tokenizer.pad_token_id)
    packed = PackedCollator()
    return {"padded": [padded(c) for c in chunks], "packed": [packed(c) for c in chunks]}


def model_loss(model, inputs):
    return model(**inputs).loss


def step_seconds(model, optimizer, loss_fn, batch) -> tuple[float, float]:
    started = time.perf_counter()
    optimizer.zero_grad()
    loss = loss_fn(model, batch)
    loss.backward()
    optimizer.step()
    return time.perf_counter() - started, float(loss.detach())


def mixed_bfloat16(loss_fn):
    """``loss_fn`` under bf16 autocast, as a ``mixed_bfloat16`` run computes it."""
    import torch

    def autocast_loss(model, inputs):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return loss_fn(model, inputs)

    return autocast_loss


def arms():
    """name: (batches, loss); the first is the anchor, what a plain Trainer script does."""
    from training.core.loss import labelled_loss

    return {
        "model_loss": ("padded", model_loss),
        "labelled_loss": ("padded", labelled_loss),
        "packed": ("packed", labelled_loss),
        # The bundled generation model's default where the CPU has native bf16.
        "mixed_bfloat16": ("padded", mixed_bfloat16(labelled_loss)),
    }


def measure(model, data: dict[str, list[dict]], *, rounds: int) -> dict:
    """Seconds per step for each arm over ``rounds`` rounds (the order reversed every other
    round), and how far each arm's loss is from the anchor's on the same examples."""
    import torch

    optimizer = torch.optim.AdamW(model.parameters(), lr=0.0)
    step_seconds(model, optimizer, model_loss, data["padded"][0])  # warm-up: optimizer state
    plan = arms()
    seconds: dict[str, list[float]] = {arm: [] for arm in plan}
    losses: dict[str, list[float]] = {arm: [] for arm in plan}
    for round_number in range(rounds):
        order = list(plan) if round_number % 2 == 0 else list(reversed(plan))
        for arm in order:
            kind, loss_fn = plan[arm]
            for batch in data[kind]:
                took, loss = step_seconds(model, optimizer, loss_fn, batch)
                seconds[arm].append(took)
                losses[arm].append(loss)
    padded, packed = data["padded"], data["packed"]
    labelled = sum(int((b["labels"][:, 1:] != -100).sum()) for b in padded)
    real = sum(int(b["attention_mask"].sum()) for b in padded)
    anchor = statistics.median(seconds["model_loss"])
    row = {
        "steps_per_arm": len(seconds["model_loss"]),
        "padded_tokens_per_batch": sum(b["input_ids"].numel() for b in padded) / len(padded),
        "tokens_per_batch": sum(b["input_ids"].numel() for b in packed) / len(packed),
        "labelled_share": labelled / real,
        "arms": {},
    }
    for arm in plan:
        ours = statistics.median(seconds[arm])
        row["arms"][arm] = {
            "seconds_per_step": ours,
            "speedup": anchor / ours,
            "largest_loss_difference": max(
                abs(a - b) / max(1.0, abs(a))
                for a, b in zip(losses["model_loss"], losses[arm], strict=True)
            ),
        }
    return row


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
    names = list(arms())
    print(
        "\n| data set | tokens / batch, padded | real | labelled | "
        + " | ".join(f"{name} s/step (×)" for name in names)
        + " |"
    )
    print("|---|---:|---:|---:|" + "---:|" * len(names))
    for name, row in report["data_sets"].items():
        cells = [
            f"{row['arms'][arm]['seconds_per_step']:.2f} ({row['arms'][arm]['speedup']:.2f}×)"
            for arm in names
        ]
        print(
            f"| {name} | {row['padded_tokens_per_batch']:.0f} | {row['tokens_per_batch']:.0f} "
            f"| {row['labelled_share']:.0%} | " + " | ".join(cells) + " |"
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=4, help="batches of 8 per data set")
    parser.add_argument("--rounds", type=int, default=2)
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
