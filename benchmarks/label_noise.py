"""Label noise benchmark: flip known labels, then see who finds them.

    .venv/bin/python benchmarks/label_noise.py          # 3 sets x 2 kinds x 3 rates x 3 seeds
    .venv/bin/python benchmarks/label_noise.py --quick  # 1 seed, 20% noise only; writes no JSON

Three finders see the same noisy labels and are scored (precision, recall, F1 of their
flags against the injected flips):

- ``assay``: Assay's default finder, exactly what the quality_check run, pages and CLI
  call: ``find_label_issues(texts, labels)`` with its defaults.
- ``plain``: the ten-line script a user writes: TF-IDF word 1-2-grams,
  ``LogisticRegression(C=10)``, ``cross_val_predict(method="predict_proba")`` (5 folds),
  ``cleanlab.filter.find_label_issues``.
- ``datalab``: cleanlab's ``Datalab`` given the plain script's probabilities, label
  issues only (with ``features`` it would also look for outliers and duplicates, which
  do not change its label flags).

The F1 ratio assay / plain is the anchored number; it is measured on the same noisy labels
in the same run.
"""

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.label_noise_data import LOADERS, NOISE_KINDS, TextSet, flag_scores, inject_noise  # noqa: E402, I001
from benchmarks.pipeline import machine_info, results_write  # noqa: E402
from curation.quality.core import label_issues  # noqa: E402 - needs the repo on the path

DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "label_noise.json"
METHODS = ("assay", "plain", "datalab")
RATES = (0.1, 0.2, 0.3)
# 20news: the first posts in sklearn's (shuffled) order, every newsgroup present (about
# 60 each); the plain script's 20-class lbfgs over all 7,532 takes minutes per fold on
# 2 shared cores.
NEWS_DOCS = 1200
TUNED_ON = (
    "youtube_spam, seed 0, both kinds, 10/20/30%: the alpha grid and the filter; "
    "sms_spam, 20news and youtube_spam, seeds 0 and 1, five cells: averaging with the word model; "
    "all three, seeds 0 and 1, every cell: averaging with MiniLM and its C grid"
)


def plain_probabilities(texts: list[str], noisy: np.ndarray) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    features = TfidfVectorizer(ngram_range=(1, 2)).fit_transform(texts)
    model = LogisticRegression(C=10)
    return cross_val_predict(model, features, noisy, cv=5, method="predict_proba")


def plain_flags(noisy: np.ndarray, probs: np.ndarray) -> np.ndarray:
    from cleanlab.filter import find_label_issues

    return find_label_issues(labels=noisy, pred_probs=probs, n_jobs=1)


def datalab_flags(texts: list[str], names: list[str], probs: np.ndarray) -> np.ndarray:
    from cleanlab import Datalab

    lab = Datalab(data={"text": texts, "label": names}, label_name="label", verbosity=0)
    # n_jobs=1: cleanlab's default forks a pool, which can hang when the caller has threads
    # (a test process that served requests); the flags do not depend on it.
    single = {"clean_learning_kwargs": {"find_label_issues_kwargs": {"n_jobs": 1}}}
    lab.find_issues(pred_probs=probs, issue_types={"label": single})
    return lab.get_issues("label")["is_label_issue"].to_numpy()


def assay_flags(texts: list[str], names: list[str]) -> np.ndarray:
    issues = label_issues.find_label_issues(texts, names)
    flagged = np.zeros(len(texts), dtype=bool)
    flagged[[issue.index for issue in issues]] = True
    return flagged


def run_cell(data: TextSet, *, kind: str, rate: float, seed: int) -> dict:
    """One noisy copy of ``data``: each finder's scores and seconds."""
    noisy, flipped = inject_noise(
        data.labels, n_classes=len(data.classes), rate=rate, kind=kind, seed=seed
    )
    names = [data.classes[i] for i in noisy]
    row: dict = {"flips": int(flipped.sum())}
    started = time.perf_counter()
    flags = {"assay": assay_flags(data.texts, names)}
    seconds = {"assay": time.perf_counter() - started}
    started = time.perf_counter()
    probs = plain_probabilities(data.texts, noisy)
    flags["plain"] = plain_flags(noisy, probs)
    seconds["plain"] = time.perf_counter() - started
    started = time.perf_counter()
    flags["datalab"] = datalab_flags(data.texts, names, probs)
    seconds["datalab"] = seconds["plain"] + time.perf_counter() - started
    for method in METHODS:
        row[method] = {**flag_scores(flags[method], flipped), "seconds": seconds[method]}
    return row


def summarize_cell(runs: list[dict]) -> dict:
    """Mean precision / recall / F1 over seeds, per method, and who wins on F1."""
    cell: dict = {"seeds": len(runs), "flips": [r["flips"] for r in runs]}
    for method in METHODS:
        cell[method] = {
            metric: float(np.mean([r[method][metric] for r in runs]))
            for metric in ("precision", "recall", "f1", "seconds")
        }
        cell[method]["f1_per_seed"] = [round(r[method]["f1"], 4) for r in runs]
    cell["f1_ratio_assay_over_plain"] = cell["assay"]["f1"] / max(cell["plain"]["f1"], 1e-9)
    cell["assay_wins"] = all(cell["assay"]["f1"] > cell[m]["f1"] for m in ("plain", "datalab"))
    return cell


def _run_setting(name: str, kind: str, rate: float, seed: int) -> dict:
    return run_cell(load(name), kind=kind, rate=rate, seed=seed)


# Slices of the 20news posts; "20news_unseen" (the next 1,200 posts) was never used to
# choose anything: a held-out check of the default (--datasets 20news_unseen).
NEWS_SLICES = {"20news": (0, NEWS_DOCS), "20news_unseen": (NEWS_DOCS, 2 * NEWS_DOCS)}


def load(name: str) -> TextSet:
    if name not in NEWS_SLICES:
        return LOADERS[name]()
    data, (start, stop) = LOADERS["20news"](), NEWS_SLICES[name]
    return TextSet(name, data.texts[start:stop], data.labels[start:stop], data.classes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, 20%% noise; no JSON")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--first-seed", type=int, default=0, help="seeds run from here (fresh flips: 2 and up)"
    )
    parser.add_argument(
        "--datasets", nargs="+", default=list(LOADERS), choices=[*LOADERS, *NEWS_SLICES]
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--jobs", type=int, default=2, help="cells run side by side")
    parser.add_argument("--table", type=Path, help="print the README table of a results file")
    args = parser.parse_args()
    if args.table:
        print(markdown_table(json.loads(args.table.read_text())))
        return
    seeds = range(args.first_seed, args.first_seed + (1 if args.quick else args.seeds))
    rates = (0.2,) if args.quick else RATES
    started = time.perf_counter()
    settings = [(n, k, r) for n in args.datasets for k in NOISE_KINDS for r in rates]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {
            (setting, seed): pool.submit(_run_setting, *setting, seed)
            for setting in settings
            for seed in seeds
        }
        cells = []
        for name, kind, rate in settings:
            runs = [futures[((name, kind, rate), seed)].result() for seed in seeds]
            cell = {"dataset": name, "kind": kind, "rate": rate, **summarize_cell(runs)}
            cells.append(cell)
            print_cell(cell)
    result = {
        "benchmark": "label_noise",
        "datasets": {name: _describe(load(name)) for name in args.datasets},
        "seeds": list(seeds),
        "tuned_on": TUNED_ON,
        "assay_default": {
            "model": label_issues.DEFAULT_MODEL,
            "tfidf_alphas": list(label_issues.TFIDF_ALPHAS),
            "averaged_with": [
                f"word 1-2-gram TF-IDF, LogisticRegression(C={label_issues.WORD_MODEL_C:g})",
                "all-MiniLM-L6-v2 embeddings, LogisticRegression, C of "
                f"{list(label_issues.MINILM_CS)} by held-out log-loss",
            ],
            "filter_by": label_issues.DEFAULT_FILTER,
            "folds": 5,
        },
        "cells": cells,
        "assay_wins_every_cell": all(cell["assay_wins"] for cell in cells),
        "seconds_total": time.perf_counter() - started,
        "machine": machine_info(),
    }
    print(f"Assay ahead on F1 in {sum(c['assay_wins'] for c in cells)} of {len(cells)} cells")
    if not args.quick:
        results_write(args.output, result)


def markdown_table(result: dict) -> str:
    """The README's table: one row per cell, F1 (P/R) per finder, means over seeds."""
    lines = [
        "| data set | noise | rate | Assay F1 (P/R) | plain F1 (P/R) | Datalab F1 (P/R) "
        "| Assay / plain |",
        "|---|---|---|---|---|---|---|",
    ]
    for cell in result["cells"]:
        shown = [
            f"{cell[m]['f1']:.3f} ({cell[m]['precision']:.2f}/{cell[m]['recall']:.2f})"
            for m in METHODS
        ]
        shown[0] = f"**{shown[0]}**" if cell["assay_wins"] else shown[0]
        lines.append(
            f"| {cell['dataset']} | {cell['kind']} | {cell['rate']:.0%} | "
            + " | ".join(shown)
            + f" | {cell['f1_ratio_assay_over_plain']:.2f} |"
        )
    return "\n".join(lines)


def _describe(data: TextSet) -> dict:
    return {"examples": len(data.texts), "classes": len(data.classes)}


def print_cell(cell: dict) -> None:
    scores = "  ".join(
        f"{m} P{cell[m]['precision']:.2f} R{cell[m]['recall']:.2f} F{cell[m]['f1']:.3f}"
        for m in METHODS
    )
    print(f"{cell['dataset']:12s} {cell['kind']:10s} {cell['rate']:.0%}  {scores}", flush=True)


if __name__ == "__main__":
    main()
