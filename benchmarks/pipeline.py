"""Pipeline benchmark: import -> version build -> export, against a plain pyarrow anchor.

    .venv/bin/python benchmarks/pipeline.py [--rows 1000000] [--seed 0] [--output PATH]

Generates a classification CSV (text + label, about 5% exact duplicate rows) in a temporary
folder, then times in one run:

(a) Assay: `examples_import`, `dataset_version_build` and `dataset_version_export`
    (parquet + jsonl + hf_dataset) on a fresh SQLite database in that folder;
(b) the anchor: pyarrow reading the same CSV and writing the same rows straight to Parquet.

Prints a table and writes benchmarks/results/pipeline.json. Absolute seconds are noisy on
shared machines; the Assay/anchor ratio, measured side by side, is the number to compare.
"""

import argparse
import csv
import datetime
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "pipeline.json"
DUPLICATE_FRACTION = 0.05
LABELS = ("ham", "spam")
WORDS = (
    "free call now win prize claim text reply stop cash offer urgent meeting tonight "
    "lunch later sorry home love thanks please week phone number message mobile today "
    "tomorrow weekend great good time work send pick car late dinner movie ticket bonus "
    "award guaranteed voucher account update click link service customer chat friend"
).split()


def generate_csv(path: Path, rows: int, seed: int) -> int:
    """Write ``rows`` rows; about DUPLICATE_FRACTION of them repeat an earlier row exactly.
    Returns how many rows are such duplicates."""
    rng = random.Random(seed)
    written: list[tuple[str, str]] = []
    duplicates = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["text", "label"])
        for number in range(rows):
            if written and rng.random() < DUPLICATE_FRACTION:
                row = written[rng.randrange(len(written))]
                duplicates += 1
            else:
                words = rng.choices(WORDS, k=rng.randint(6, 24))
                row = (f"{' '.join(words)} #{number}", rng.choice(LABELS))
                if len(written) < 50_000:  # duplicates are drawn from the first rows
                    written.append(row)
            out.writerow(row)
    return duplicates


def setup_django(data_dir: Path) -> None:
    """A fresh SQLite database under ``data_dir`` with the dev settings, migrated."""
    os.environ["ASSAY_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "curation.settings.dev"
    os.environ["ASSAY_TASK_BACKEND"] = "immediate"
    for name in ("DATABASE_URL", "ASSAY_DATABASE_NAME", "HF_HOME"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(REPO_ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def time_assay(csv_path: Path) -> tuple[dict[str, float], dict]:
    from curation.services.exports import dataset_version_export
    from curation.services.imports import ImportOptions, examples_import
    from curation.services.projects import project_create
    from curation.services.versions import dataset_version_build

    project = project_create(name="benchmark", task_type="classification", label_set=[*LABELS])
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    report = examples_import(
        project=project,
        path=csv_path,
        options=ImportOptions(format="csv", mapping={"text": "text", "label": "label"}),
    )
    seconds["import"] = time.perf_counter() - started
    started = time.perf_counter()
    version = dataset_version_build(project=project, seed=0)
    seconds["version_build"] = time.perf_counter() - started
    started = time.perf_counter()
    export = dataset_version_export(version=version, formats=["parquet", "jsonl", "hf_dataset"])
    seconds["export"] = time.perf_counter() - started
    details = {
        "imported": report.created,
        "duplicates_in_file": report.duplicates_in_file,
        "version_members": version.members.count(),
        "export_files": export.files.count(),
    }
    return seconds, details


def time_anchor(csv_path: Path, out_dir: Path) -> float:
    import pyarrow.csv
    import pyarrow.parquet

    started = time.perf_counter()
    table = pyarrow.csv.read_csv(csv_path)
    pyarrow.parquet.write_table(table, out_dir / "anchor.parquet")
    return time.perf_counter() - started


def machine_info() -> dict:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": commit or None,
    }


def results_write(path: Path, result: dict) -> None:
    """Write a benchmark's figures as indented JSON and say where."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")


def summarize(rows: int, assay: dict[str, float], anchor: float, details: dict) -> dict:
    total = sum(assay.values())
    stages = {**assay, "assay_total": total, "anchor_pyarrow": anchor}
    return {
        "benchmark": "pipeline",
        "rows": rows,
        "seconds": {name: round(value, 3) for name, value in stages.items()},
        "rows_per_second": {name: round(rows / value) for name, value in stages.items()},
        "ratio_assay_to_anchor": round(total / anchor, 1),
        "details": details,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "machine": machine_info(),
    }


def print_table(result: dict) -> None:
    print(f"\nPipeline benchmark, {result['rows']:,} rows")
    print(f"{'stage':<16}{'seconds':>10}{'rows/s':>14}")
    for name, seconds in result["seconds"].items():
        print(f"{name:<16}{seconds:>10.2f}{result['rows_per_second'][name]:>14,}")
    print(f"Assay / anchor: {result['ratio_assay_to_anchor']}x the time of pyarrow CSV->Parquet")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="assay-bench-") as folder:
        work = Path(folder)
        csv_path = work / "rows.csv"
        print(f"generating {args.rows:,} rows in {csv_path} ...", flush=True)
        duplicates = generate_csv(csv_path, args.rows, args.seed)
        setup_django(work / "data")
        print("timing the anchor (pyarrow CSV -> Parquet) ...", flush=True)
        anchor = time_anchor(csv_path, work)
        print("timing Assay (import -> version build -> export) ...", flush=True)
        assay, details = time_assay(csv_path)
    details["duplicates_generated"] = duplicates
    result = summarize(args.rows, assay, anchor, details)
    print_table(result)
    results_write(args.output, result)
    return result


if __name__ == "__main__":
    main()
