"""How the label-issue default was chosen: each candidate model's out-of-sample
probabilities on the label-noise benchmark's tuning cells, and the F1 of every average.

    .venv/bin/python benchmarks/label_noise_choice.py                 # seeds 0 and 1, ~35 min
    .venv/bin/python benchmarks/label_noise_choice.py --cache /tmp/c  # reuses cached cells

For every cell (data set, noise kind, rate, seed) of ``label_noise.py`` it computes, on
the finder's own folds, the parts the default can average: ``C`` (the word+char TF-IDF
model at the alpha of least held-out log-loss), ``W`` (the plain script's word model) and
``M`` (logistic regression on MiniLM embeddings at each C of ``MINILM_CS``). It then scores
cleanlab's default filter on each average against the injected flips. Only seeds 0 and 1
are tuning seeds: the default is confirmed on other seeds with ``label_noise.py``.
"""

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.label_noise import RATES, load  # noqa: E402, I001
from benchmarks.label_noise_data import NOISE_KINDS, flag_scores, inject_noise  # noqa: E402
from benchmarks.pipeline import machine_info, results_write  # noqa: E402
from curation.quality.core import label_issues as li  # noqa: E402 - needs the repo on the path

DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "label_noise_choice.json"
# Each average of the parts, by name; "CW" was the default before MiniLM joined it and
# "CWM*" is the default now (M at the C of least held-out log-loss).
AVERAGES = ("CW", "CWM1", "CWM10", "CWM100", "CWM*", "CM*", "WM*", "M*")


def parts(name: str, kind: str, rate: float, seed: int, cache: Path) -> Path:
    """Compute (or reuse) one cell's parts; the path of its ``.npz``."""
    path = cache / f"cell_{name}_{kind}_{rate}_{seed}.npz"
    if path.exists():
        return path
    data = load(name)
    n = len(data.classes)
    noisy, flipped = inject_noise(data.labels, n_classes=n, rate=rate, kind=kind, seed=seed)
    splits = li.fold_splits(noisy, folds=5, seed=0)  # the finder's defaults

    def assembled(features, **options) -> np.ndarray:
        return li.assembled_probabilities(features, noisy, splits, n_classes=n, seed=0, **options)

    features = li.tfidf_features(data.texts)
    word_char = [assembled(features, model="tfidf", alpha=a) for a in li.TFIDF_ALPHAS]
    embedded = li.sentence_embeddings(data.texts)
    minilm = {f"M{c:g}": assembled(embedded, model="minilm", c=c) for c in li.MINILM_CS}
    np.savez(
        path,
        noisy=noisy,
        flipped=flipped,
        C=min(word_char, key=lambda p: li.held_out_log_loss(noisy, p)),
        W=assembled(li.word_features(data.texts), model="words"),
        **minilm,
    )
    return path


def cell_scores(path: Path) -> dict:
    """F1 of the default filter on each average, and which MiniLM C log-loss picks."""
    cell = np.load(path)
    noisy = cell["noisy"]
    losses = {c: li.held_out_log_loss(noisy, cell[f"M{c:g}"]) for c in li.MINILM_CS}
    picked = min(losses, key=losses.__getitem__)
    named = {"C": cell["C"], "W": cell["W"], "M*": cell[f"M{picked:g}"]}
    named |= {f"M{c:g}": cell[f"M{c:g}"] for c in li.MINILM_CS}
    scores = {}
    for average in AVERAGES:
        members = ["C"] * ("C" in average) + ["W"] * ("W" in average)
        members += [average[average.index("M") :]] if "M" in average else []
        probs = np.mean([named[m] for m in members], axis=0)
        ranked = li.rank_label_issues(noisy, probs, classes=[str(i) for i in range(probs.shape[1])])
        flags = np.zeros(len(noisy), dtype=bool)
        flags[[issue.index for issue in ranked]] = True
        scores[average] = round(flag_scores(flags, cell["flipped"])["f1"], 4)
    return {"f1": scores, "minilm_c_picked": picked}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["sms_spam", "youtube_spam", "20news"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/label_noise_choice"))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    settings = [
        (name, kind, rate, seed)
        for name in args.datasets
        for seed in args.seeds
        for kind in NOISE_KINDS
        for rate in RATES
    ]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(parts, *setting, args.cache) for setting in settings]
        paths = [future.result() for future in futures]
    cells = [
        {"dataset": n, "kind": k, "rate": r, "seed": s, **cell_scores(path)}
        for (n, k, r, s), path in zip(settings, paths, strict=True)
    ]
    means = {
        name: {
            a: round(float(np.mean([c["f1"][a] for c in cells if c["dataset"] == name])), 4)
            for a in AVERAGES
        }
        for name in args.datasets
    }
    for name, row in means.items():
        print(name, "  ".join(f"{a} {f1:.3f}" for a, f1 in row.items()))
    results_write(
        args.output,
        {
            "benchmark": "label_noise_choice",
            "seeds": args.seeds,
            "averages": list(AVERAGES),
            "mean_f1": means,
            "cells": cells,
            "seconds_total": time.perf_counter() - started,
            "machine": machine_info(),
        },
    )


if __name__ == "__main__":
    main()
