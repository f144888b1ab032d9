"""Python LFs in worker processes against Snorkel's PandasLFApplier in one process, on the
same LFs and rows, with the label matrices compared.

    .venv/bin/python benchmarks/python_lf_parallel.py [--rows 100000] [--workers 0] [--output PATH]

Rows are the YouTube and SMS spam texts, repeated with variation (a random corpus word
inserted, some rows upper-cased) until ``--rows``. The LFs below are ordinary Python LFs, as a
project's LF module holds them: Assay-registered ones and a Snorkel LF with a preprocessor
and a resource. Three timings, each including building the DataFrame(s):

- ``snorkel_pandas``: ``PandasLFApplier(lfs).apply(whole frame)``, the reference;
- ``assay_one_process``: Assay's path with one worker (blocks in this process, each LF call
  guarded so a failure names its row);
- ``assay_processes``: Assay's path in ``--workers`` processes (0: one per CPU), which
  re-import this module by its dotted path and run blocks through ``PandasLFApplier``.

With N free cores the processes can at best be N times faster; on a shared machine the
load average (recorded) says how free the cores were.
"""

import argparse
import os
import re
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from snorkel.labeling import labeling_function as snorkel_labeling_function  # noqa: E402
from snorkel.preprocess import preprocessor  # noqa: E402

from benchmarks.lf_speed import make_rows  # noqa: E402  (the same rows as the LF speed benchmark)
from benchmarks.pipeline import machine_info, results_write  # noqa: E402
from curation.weak_supervision.core.python_lfs import labeling_function  # noqa: E402

DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "python_lf_parallel.json"
MODULE = "benchmarks.python_lf_parallel"  # workers import the LFs from here by this path
LABELS = ["ham", "spam"]

LINK = re.compile(r"http|www\.|\.com\b", re.IGNORECASE)
MONEY = re.compile(r"£\s?\d+|\$\s?\d+|\bcash\b", re.IGNORECASE)


@labeling_function(label="spam")
def link(x):
    return LINK.search(x.text) is not None


@labeling_function(label="spam")
def money(x):
    return MONEY.search(x.text) is not None


@labeling_function(label="spam")
def check_out(x):
    text = x.text.lower()
    return "check" in text and "out" in text


@labeling_function(label="spam")
def shouting(x):
    words = [word for word in x.text.split() if word.isalpha()]
    return len(words) >= 4 and sum(word.isupper() for word in words) / len(words) > 0.5


@labeling_function()
def short_comment(x):
    return "ham" if len(x.text.split()) < 5 else None


@preprocessor(memoize=False)
def words(x):
    x.words = set(re.findall(r"\w+", x.text.lower()))
    return x


@snorkel_labeling_function(
    pre=[words], resources={"spam_words": frozenset({"subscribe", "channel", "free", "win"})}
)
def spam_words(x, spam_words):
    return 1 if len(spam_words & x.words) >= 2 else -1


def time_snorkel(lfs, rows: list[str]):
    import pandas as pd
    from snorkel.labeling import PandasLFApplier

    started = time.perf_counter()
    frame = pd.DataFrame({"text": rows})
    matrix = PandasLFApplier([lf.snorkel_lf for lf in lfs]).apply(frame, progress_bar=False)
    return time.perf_counter() - started, matrix


def time_assay(lfs, rows: list[str], workers: int):
    from curation.weak_supervision.core.parallel_apply import python_lf_matrix

    started = time.perf_counter()
    matrix = python_lf_matrix(
        lfs, {"text": rows}, module_path=MODULE, label_set=LABELS, workers=workers, min_rows=1
    )
    return time.perf_counter() - started, matrix


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=0, help="0: one per available CPU")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    import numpy as np

    from curation.weak_supervision.core.parallel_apply import (
        available_cpus,
        block_bounds,
        worker_count,
    )
    from curation.weak_supervision.core.python_lfs import load_python_lfs

    lfs = load_python_lfs(MODULE, label_set=LABELS)
    rows = make_rows(args.rows, args.seed)
    workers = worker_count(len(rows), workers=args.workers, min_rows=1)
    load_before = os.getloadavg()[0]
    snorkel_seconds, reference = time_snorkel(lfs, rows)
    one_seconds, one = time_assay(lfs, rows, 1)
    processes_seconds, parallel = time_assay(lfs, rows, workers)
    seconds = {
        "snorkel_pandas": snorkel_seconds,
        "assay_one_process": one_seconds,
        "assay_processes": processes_seconds,
    }
    result = {
        "benchmark": "python_lf_parallel",
        "rows": len(rows),
        "labeling_functions": [lf.name for lf in lfs],
        "workers": workers,
        "available_cpus": available_cpus(),
        "blocks": len(block_bounds(len(rows), workers)),
        "start_method": "fork" if sys.platform.startswith("linux") else "platform default",
        "seconds": {name: round(value, 3) for name, value in seconds.items()},
        "rows_per_second": {name: round(len(rows) / value) for name, value in seconds.items()},
        "speedup_processes_vs_snorkel": round(snorkel_seconds / processes_seconds, 2),
        "matrices_identical": {
            "assay_one_process": bool(np.array_equal(one, reference)),
            "assay_processes": bool(np.array_equal(parallel, reference)),
        },
        "votes": int((reference >= 0).sum()),
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
        "machine": machine_info(),
    }
    print(f"\nPython LFs, {len(rows):,} rows x {len(lfs)} LFs, {workers} worker processes")
    print(f"{'applier':<22}{'seconds':>10}{'rows/s':>12}{'identical':>11}")
    for name, value in seconds.items():
        same = "reference" if name == "snorkel_pandas" else result["matrices_identical"][name]
        print(f"{name:<22}{value:>10.2f}{len(rows) / value:>12,.0f}{str(same):>11}")
    print(
        f"processes vs PandasLFApplier: {result['speedup_processes_vs_snorkel']}x "
        f"(load average before {load_before:.2f} on {result['machine']['cores']} cores)"
    )
    results_write(args.output, result)
    return result


if __name__ == "__main__":
    main()
