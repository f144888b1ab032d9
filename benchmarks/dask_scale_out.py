"""Large-project data work on a Dask local cluster against the same work in one process, on
two data sets each, with the results compared for equality.

    .venv/bin/python benchmarks/dask_scale_out.py [--rows 30000] [--workers 2] [--output PATH]

- Python LFs (the six of ``benchmarks/python_lf_parallel.py``) over YouTube comments and
  over SMS messages, each repeated with variation to ``--rows``: Snorkel's
  ``PandasLFApplier`` on the whole frame (the anchor), Assay's process pool, and Assay's
  Dask adapter (`curation.integrations.dask_cluster.lf_matrix_on_dask`).
- Label-issue cross-validation (TF-IDF + logistic regression, 5 folds, seed 0) on the YouTube
  spam comments and the SMS spam collection as labelled (and, with ``--news-rows``, on the
  20news test set of the label-errors study): the folds one after the other in this process
  (the anchor) and as Dask tasks (`fold_runner`).

The cluster (``--workers`` processes, one thread each) is started once; its start-up is
reported apart. Nothing was tuned on these data: block sizes are the process pool's, and the
fold models are the quality check's defaults. With N free cores a cluster can at best be N
times faster; the load average (recorded) says how free the cores were.
"""

import argparse
import csv
import json
import os
import random
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import numpy as np  # noqa: E402

from benchmarks.pipeline import machine_info, results_write  # noqa: E402
from benchmarks.python_lf_parallel import LABELS, MODULE  # noqa: E402

DATA = Path(os.environ.get("ASSAY_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "dask_scale_out.json"


def youtube_records() -> list[tuple[str, str]]:
    records = []
    for path in sorted((DATA / "youtube_spam").glob("Youtube0*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            records += [
                ("spam" if r["CLASS"] == "1" else "ham", r["CONTENT"])
                for r in csv.DictReader(handle)
            ]
    return records


def sms_records() -> list[tuple[str, str]]:
    with (DATA / "sms_spam" / "SMSSpamCollection.tsv").open(encoding="utf-8") as handle:
        return [tuple(line.rstrip("\n").split("\t", 1)) for line in handle if "\t" in line]


def news_records(limit: int) -> list[tuple[str, str]]:
    path = DATA / "label_errors_20news" / "20news_test_label_errors.jsonl"
    rows = [json.loads(line) for line in path.open(encoding="utf-8")][:limit]
    return [(row["given_label_name"], row["text"]) for row in rows]


def varied(texts: list[str], count: int, seed: int) -> list[str]:
    """``count`` rows drawn from ``texts``, each with a corpus word inserted."""
    rng = random.Random(seed)
    words = [word for text in texts[:2000] for word in text.split()]
    rows = []
    while len(rows) < count:
        parts = rng.choice(texts).split(" ")
        parts.insert(rng.randrange(len(parts) + 1), rng.choice(words))
        rows.append(" ".join(parts))
    return rows


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    value = function(*args, **kwargs)
    return time.perf_counter() - started, value


def lf_rows(name: str, rows: list[str], client, workers: int) -> dict:
    import pandas as pd
    from snorkel.labeling import PandasLFApplier

    from curation.integrations.dask_cluster import lf_matrix_on_dask
    from curation.weak_supervision.core.parallel_apply import python_lf_matrix
    from curation.weak_supervision.core.python_lfs import load_python_lfs

    lfs = load_python_lfs(MODULE, label_set=LABELS)
    applier = PandasLFApplier([lf.snorkel_lf for lf in lfs])
    anchor, reference = timed(
        lambda: applier.apply(pd.DataFrame({"text": rows}), progress_bar=False)
    )
    pool, pooled = timed(
        python_lf_matrix,
        lfs,
        {"text": rows},
        module_path=MODULE,
        label_set=LABELS,
        workers=workers,
        min_rows=1,
    )
    dask, on_dask = timed(
        lf_matrix_on_dask, client, lfs, {"text": rows}, module_path=MODULE, label_set=LABELS
    )
    return {
        "data": name,
        "rows": len(rows),
        "seconds": {"snorkel_pandas": anchor, "assay_processes": pool, "assay_dask": dask},
        "ratio_to_anchor": {"assay_processes": anchor / pool, "assay_dask": anchor / dask},
        "identical_to_anchor": {
            "assay_processes": bool(np.array_equal(pooled, reference)),
            "assay_dask": bool(np.array_equal(on_dask, reference)),
        },
    }


def folds_row(name: str, records: list[tuple[str, str]], client) -> dict:
    from curation.integrations.dask_cluster import fold_runner
    from curation.quality.core.label_issues import encode_labels, out_of_sample_probabilities

    classes, labels = encode_labels([label for label, _ in records])
    texts = [text for _, text in records]
    options = dict(n_classes=len(classes), model="tfidf", folds=5, seed=0)
    here, reference = timed(out_of_sample_probabilities, texts, labels, **options)
    dask, on_dask = timed(
        out_of_sample_probabilities, texts, labels, **options, run_folds=fold_runner(client)
    )
    return {
        "data": name,
        "rows": len(texts),
        "classes": len(classes),
        "seconds": {"one_process": here, "dask_folds": dask},
        "ratio_to_anchor": {"dask_folds": here / dask},
        "identical_to_anchor": bool(np.array_equal(on_dask, reference)),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--news-rows",
        type=int,
        default=0,
        help="Also cross-validate this many 20news texts (20 classes; all 7,532 took 10 min "
        "in one process on 2 busy cores). Default: not.",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    from curation.integrations.dask_cluster import DaskOptions, dask_client

    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with dask_client(DaskOptions(workers=args.workers)) as client:
        client.wait_for_workers(args.workers)
        startup = time.perf_counter() - started
        sms, youtube = sms_records(), youtube_records()
        lf_results = [
            lf_rows(name, varied([t for _, t in data], args.rows, args.seed), client, args.workers)
            for name, data in (("youtube", youtube), ("sms", sms))
        ]
        fold_data = [("youtube", youtube), ("sms", sms)]
        if args.news_rows:
            fold_data.append(("20news", news_records(args.news_rows)))
        fold_results = [folds_row(name, data, client) for name, data in fold_data]
    result = {
        "benchmark": "dask_scale_out",
        "workers": args.workers,
        "cluster_startup_seconds": round(startup, 2),
        "python_lfs": _rounded(lf_results),
        "label_issue_folds": _rounded(fold_results),
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
        "machine": machine_info(),
    }
    _print(result)
    results_write(args.output, result)
    return result


def _rounded(value):
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _print(result: dict) -> None:
    print(
        f"\nDask local cluster, {result['workers']} workers "
        f"(start {result['cluster_startup_seconds']} s)"
    )
    print(f"{'work':<28}{'rows':>8}{'anchor s':>10}{'pool s':>9}{'dask s':>9}{'dask x':>8}  equal")
    for row in result["python_lfs"]:
        s = row["seconds"]
        print(
            f"{'Python LFs, ' + row['data']:<28}{row['rows']:>8}{s['snorkel_pandas']:>10.2f}"
            f"{s['assay_processes']:>9.2f}{s['assay_dask']:>9.2f}"
            f"{row['ratio_to_anchor']['assay_dask']:>8.2f}  "
            f"{all(row['identical_to_anchor'].values())}"
        )
    for row in result["label_issue_folds"]:
        s = row["seconds"]
        print(
            f"{'CV folds, ' + row['data']:<28}{row['rows']:>8}{s['one_process']:>10.2f}"
            f"{'-':>9}{s['dask_folds']:>9.2f}{row['ratio_to_anchor']['dask_folds']:>8.2f}"
            f"  {row['identical_to_anchor']}"
        )


if __name__ == "__main__":
    main()
