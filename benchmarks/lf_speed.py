"""Labeling-function speed: Assay's vectorised applier against Snorkel's PandasLFApplier on
the same keyword and regex LFs over the same rows, in one run, with the matrices compared.

    .venv/bin/python benchmarks/lf_speed.py [--rows 200000] [--seed 0] [--output PATH]

Rows are the YouTube and SMS spam texts, repeated with variation (a random word from the
corpus inserted, some rows upper-cased) until ``--rows``. The LFs are declarative specs:
Assay compiles them to one pass of a compiled pattern per LF over the whole column;
Snorkel runs the same rules written the plain way (`core.snorkel_bridge`) row by row.
Both sides include their own preparation (Assay: building the columns; Snorkel: the
DataFrame). Each side runs ``--repeat`` times and its fastest run counts (the usual timeit
rule: slower runs measure the machine's other work). The target is >= 20x with identical
label matrices.
"""

import argparse
import csv
import os
import random
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.pipeline import machine_info, results_write  # noqa: E402

DATA = REPO_ROOT.parent / "shared" / "data"
DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "lf_speed.json"

SPECS = [
    ("keyword_my", "keyword", {"keywords": ["my"]}, 1),
    ("keyword_subscribe", "keyword", {"keywords": ["subscrib"], "whole_word": False}, 1),
    ("keyword_please", "keyword", {"keywords": ["please", "plz", "pls"]}, 1),
    ("keyword_song", "keyword", {"keywords": ["song"], "whole_word": False}, 0),
    ("keyword_free_call", "keyword", {"keywords": ["free", "call"], "mode": "all"}, 1),
    ("keyword_case", "keyword", {"keywords": ["URGENT", "WIN"], "case_sensitive": True}, 1),
    ("regex_check_out", "regex", {"pattern": r"check.*out"}, 1),
    ("regex_link", "regex", {"pattern": r"http|www\.|\.com\b"}, 1),
    ("regex_money", "regex", {"pattern": r"£\s?\d+|\$\s?\d+|\bcash\b"}, 1),
    ("regex_phone", "regex", {"pattern": r"\b0\d{9,10}\b"}, 1),
]


def base_texts() -> list[str]:
    texts = []
    for path in sorted((DATA / "youtube_spam").glob("Youtube0*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            texts += [record["CONTENT"] for record in csv.DictReader(handle)]
    with (DATA / "sms_spam" / "SMSSpamCollection.tsv").open(encoding="utf-8") as handle:
        texts += [line.rstrip("\n").split("\t", 1)[1] for line in handle if "\t" in line]
    return texts


def make_rows(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    texts = base_texts()
    words = [word for text in texts[:2000] for word in text.split()]
    rows = []
    while len(rows) < count:
        text = rng.choice(texts)
        parts = text.split(" ")
        parts.insert(rng.randrange(len(parts) + 1), rng.choice(words))
        text = " ".join(parts)
        rows.append(text.upper() if rng.random() < 0.1 else text)
    return rows


def time_assay(rows: list[str]):
    from curation.weak_supervision.core.declarative import apply_compiled, columns_for, compile_spec

    started = time.perf_counter()
    lfs = [compile_spec(name=n, kind=k, params=p, vote=v, fields=["text"]) for n, k, p, v in SPECS]
    matrix = apply_compiled(lfs, columns_for({"text": rows}), len(rows))
    return time.perf_counter() - started, matrix


def time_snorkel(rows: list[str]):
    import pandas as pd
    from snorkel.labeling import PandasLFApplier

    from curation.weak_supervision.core.snorkel_bridge import snorkel_lf

    started = time.perf_counter()
    lfs = [snorkel_lf(name=n, kind=k, params=p, vote=v, fields=["text"]) for n, k, p, v in SPECS]
    matrix = PandasLFApplier(lfs).apply(pd.DataFrame({"text": rows}), progress_bar=False)
    return time.perf_counter() - started, matrix


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="runs per side; the fastest counts")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    import numpy as np

    rows = make_rows(args.rows, args.seed)
    load_before = os.getloadavg()[0]
    assay_runs = [time_assay(rows) for _ in range(args.repeat)]
    snorkel_runs = [time_snorkel(rows) for _ in range(args.repeat)]
    assay_seconds, ours = min(assay_runs, key=lambda run: run[0])
    snorkel_seconds, theirs = min(snorkel_runs, key=lambda run: run[0])
    result = {
        "benchmark": "lf_speed",
        "rows": len(rows),
        "labeling_functions": [name for name, *_ in SPECS],
        "repeat": args.repeat,
        "seconds": {"assay": round(assay_seconds, 3), "snorkel_pandas": round(snorkel_seconds, 3)},
        "all_seconds": {
            "assay": [round(run[0], 3) for run in assay_runs],
            "snorkel_pandas": [round(run[0], 3) for run in snorkel_runs],
        },
        "speedup": round(snorkel_seconds / assay_seconds, 1),
        "matrices_identical": all(
            np.array_equal(a[1], s[1]) for a in assay_runs for s in snorkel_runs[:1]
        ),
        "load_average_before": round(load_before, 2),
        "votes": int((ours >= 0).sum()),
        "machine": machine_info(),
    }
    print(f"\nLF application, {len(rows):,} rows x {len(SPECS)} keyword/regex LFs")
    print(f"{'applier':<28}{'seconds':>10}{'rows/s':>14}")
    for name, seconds in result["seconds"].items():
        print(f"{name:<28}{seconds:>10.2f}{len(rows) / seconds:>14,.0f}")
    print(f"speed-up {result['speedup']}x; identical matrices: {result['matrices_identical']}")
    results_write(args.output, result)
    return result


if __name__ == "__main__":
    main()
