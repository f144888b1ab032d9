"""SciTLDR-A (abstract-only): one-sentence summaries of CS papers, multi-reference ROUGE.

Systems on seeded subsets of the test split and (a second data set for the same settings)
the dev split: the first sentence of the abstract (the baseline), the bundled default
generation model (SmolLM2-135M-Instruct) with a short prompt, greedy and with the beam
settings the SciTLDR authors published for CATTS (beam 2, length penalty 0.4; Assay's
decoding options) and the extractive oracle sentence (an upper bound for one copied
sentence: it was chosen with the references). The published CATTS abstract-only ROUGE-1
(43.8) is the anchor row. A fine-tuned row is not measured here yet (CPU time);
`scitldr_gpu.py` fine-tunes through the runner on a GPU.

Scores: ROUGE-1/2/L F1 ×100 with rouge-score (Porter stemmer) in the data README's two
views: ``author`` (against the author TLDR, the first target) and ``multi.max`` (the best
of a paper's references, per metric). The paper used files2rouge, so compare the numbers
as close, not identical. Nothing was tuned on these splits: the prompt and lengths were
fixed before the first run.

    .venv/bin/python benchmarks/scitldr.py [--limit 150] [--splits test dev]
"""

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(os.environ.get("ASSAY_SHARED_DATA", ROOT.parent / "shared" / "data")) / "scitldr"
INSTRUCTION = "Summarize this abstract in one sentence."
METRICS = ("rouge1", "rouge2", "rougeL")
VIEWS = ("multi.max", "author")
# Published SciTLDR-A test results (Cachola et al., 2020); only R1 is verified here.
ANCHOR = {
    "name": "CATTS, abstract-only (published)",
    "multi.max": {"rouge1": 43.8, "rouge2": None, "rougeL": None},
}
CATTS_BEAM = {"num_beams": 2, "length_penalty": 0.4}


def read_papers(split: str, data_dir: Path = DATA) -> list[dict]:
    with (data_dir / f"{split}.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def subset(papers: list[dict], limit: int, seed: int = 0) -> list[dict]:
    """A seeded sample of ``limit`` papers (all when 0), in file order."""
    if not limit or limit >= len(papers):
        return papers
    chosen = set(random.Random(seed).sample(range(len(papers)), limit))
    return [paper for i, paper in enumerate(papers) if i in chosen]


def abstract(paper: dict) -> str:
    return " ".join(paper["source"])


def prompt(paper: dict) -> str:
    return f"{INSTRUCTION}\n\n{abstract(paper)}"


def training_records(papers: list[dict], *, all_targets: bool) -> list[dict]:
    """Prompt/response pairs: the author TLDR only, or one record per reference (the
    runner groups records with the same prompt into one multi-reference example)."""
    records = []
    for paper in papers:
        targets = paper["target"] if all_targets else paper["target"][:1]
        records += [{"prompt": prompt(paper), "response": target} for target in targets]
    return records


def first_sentences(papers: list[dict]) -> list[str]:
    return [paper["source"][0] for paper in papers]


def oracle_sentences(papers: list[dict]) -> list[str]:
    return [
        next((s for s, label in zip(p["source"], p["source_labels"], strict=False) if label), "")
        for p in papers
    ]


def rouge_views(predictions: list[str], papers: list[dict]) -> dict[str, dict[str, list]]:
    """Per-paper F1 ×100: {view: {metric: [score per paper]}}."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)
    views: dict[str, dict[str, list]] = {v: {m: [] for m in METRICS} for v in VIEWS}
    for prediction, paper in zip(predictions, papers, strict=True):
        scores = [scorer.score(reference, prediction) for reference in paper["target"]]
        for metric in METRICS:
            values = [100 * score[metric].fmeasure for score in scores]
            views["author"][metric].append(values[0])
            views["multi.max"][metric].append(max(values))
    return views


def summarize(predictions: list[str], papers: list[dict], *, seed: int = 0) -> dict:
    """Means per view and metric, a 95% bootstrap interval for multi.max ROUGE-1, and a
    few outputs."""
    import numpy as np

    from training.core.metrics import bootstrap_interval

    views = rouge_views(predictions, papers)
    result: dict = {
        view: {m: round(float(np.mean(v)), 2) for m, v in scores.items()}
        for view, scores in views.items()
    }
    r1 = np.array(views["multi.max"]["rouge1"])
    interval = bootstrap_interval(lambda idx: float(r1[idx].mean()), len(r1), seed=seed)
    result["multi.max"]["rouge1_ci"] = [round(interval.low, 2), round(interval.high, 2)]
    result["mean_words"] = round(float(np.mean([len(p.split()) for p in predictions])), 1)
    result["samples"] = predictions[:3]
    return result


def generate(model_dir: str, papers: list[dict], *, decoding: dict, batch_size: int) -> list:
    """Responses of the model in ``model_dir`` through Assay's evaluation path."""
    from transformers import AutoModelForCausalLM

    from training.core import evaluation
    from training.core.config import TrainingConfig
    from training.core.models import load_tokenizer

    config = TrainingConfig(
        task_type="generation", max_new_tokens=48, generation_batch_size=batch_size, **decoding
    )
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    records = [{"prompt": prompt(paper)} for paper in papers]
    return evaluation.generate(model, load_tokenizer(model_dir), records, config=config)


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", nargs="+", default=["test", "dev"])
    parser.add_argument(
        "--model-limit", type=int, default=24, help="papers per split the model writes for"
    )
    parser.add_argument("--model-splits", nargs="+", default=["test"])
    parser.add_argument("--beam", action="store_true", help="also beam 2 / length penalty 0.4")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks/results/scitldr.json")
    return parser.parse_args(argv)


def _commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True)
        return out.stdout.decode().strip()
    except OSError:
        return "unknown"


def main(argv=None) -> int:
    import torch

    from training.core.models import smollm2_model_dir

    args = parse(argv)
    torch.set_num_threads(args.threads)
    base_dir = str(smollm2_model_dir(ROOT / "var" / "models"))
    report: dict = {
        "base_model": "SmolLM2-135M-Instruct (bundled default)",
        "prompt": INSTRUCTION + "\\n\\n<abstract>",
        "max_new_tokens": 48,
        "model_limit": args.model_limit,
        "threads": args.threads,
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "anchor": ANCHOR,
        "splits": {},
    }
    runs = [("base, greedy", {})] + ([("base, beam 2 / lp 0.4", CATTS_BEAM)] if args.beam else [])
    for split in args.splits:
        papers = read_papers(split)
        report["splits"][split] = _extractive(papers, label="all papers")
        if split not in args.model_splits:
            continue
        sample = subset(papers, args.model_limit)
        block = _extractive(sample, label=f"seeded subset of {len(sample)}")
        for name, decoding in runs:
            started = time.monotonic()
            outputs = generate(base_dir, sample, decoding=decoding, batch_size=args.batch_size)
            block["generation_seconds"][name] = round(time.monotonic() - started, 1)
            block["systems"][name] = summarize(outputs, sample)
            print(f"{split}: {name} in {block['generation_seconds'][name]} s", flush=True)
        report["splits"][f"{split} (model subset)"] = block
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print_table(report)
    return 0


def _extractive(papers: list[dict], *, label: str) -> dict:
    """The first-sentence baseline and the oracle sentence on ``papers``."""
    return {
        "papers": len(papers),
        "which": label,
        "references": sum(len(p["target"]) for p in papers),
        "generation_seconds": {},
        "systems": {
            "first sentence (baseline)": summarize(first_sentences(papers), papers),
            "extractive oracle sentence (upper bound)": summarize(oracle_sentences(papers), papers),
        },
    }


def print_table(report: dict) -> None:
    for split, block in report["splits"].items():
        print(f"\n{split}: {block['papers']} papers, {block['references']} references")
        print("| system | multi.max R1 [95% CI] | R2 | RL | author R1 | R2 | RL | words |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name, s in block["systems"].items():
            m, a = s["multi.max"], s["author"]
            low, high = m["rouge1_ci"]
            print(
                f"| {name} | {m['rouge1']} [{low}, {high}] | {m['rouge2']} | {m['rougeL']} | "
                f"{a['rouge1']} | {a['rouge2']} | {a['rougeL']} | {s['mean_words']} |"
            )
    print(f"| {ANCHOR['name']} | {ANCHOR['multi.max']['rouge1']} | — | — | — | — | — | |")


if __name__ == "__main__":
    sys.exit(main())
