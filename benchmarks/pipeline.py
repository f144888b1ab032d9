"""Pipeline benchmark: import -> version build -> export, against a plain pyarrow anchor.

    .venv/bin/python benchmarks/pipeline.py [--rows 1000000] [--seed 0] [--output PATH]
        [--database-url URL]

Generates a classification CSV (text + label, about 5% exact duplicate rows) in a temporary
folder, then times in one run:

(a) Assay: `examples_import`, `dataset_version_build` and `dataset_version_export`
    (parquet + jsonl + hf_dataset) on a fresh SQLite database in that folder;
(b) the anchor: pyarrow reading the same CSV and writing the same rows straight to Parquet;
(c) the second anchor: the script a user writes with Hugging Face `datasets` for the same
    job (load the CSV, drop exact duplicates by hash, stratified 80/10/10, write Parquet +
    JSON Lines + `save_to_disk`).

With --database-url (an empty PostgreSQL database) Assay runs there instead of SQLite.

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


def setup_django(data_dir: Path, database_url: str | None = None) -> None:
    """A fresh SQLite database under ``data_dir`` with the dev settings, migrated; or the
    given (empty) database."""
    os.environ["ASSAY_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "curation.settings.dev"
    os.environ["ASSAY_TASK_BACKEND"] = "immediate"
    for name in ("DATABASE_URL", "ASSAY_DATABASE_NAME", "HF_HOME"):
        os.environ.pop(name, None)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
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


def time_hf_datasets(csv_path: Path, out_dir: Path, seed: int) -> float:
    """The second anchor: the script a user writes with Hugging Face `datasets` for the same
    job (load the CSV, drop exact duplicates by content hash, stratified 80/10/10 by label,
    write Parquet + JSON Lines + `save_to_disk` per split). Batched maps, as the docs advise."""
    import hashlib

    import datasets

    datasets.disable_progress_bars()
    started = time.perf_counter()
    data = datasets.load_dataset(
        "csv", data_files=str(csv_path), split="train", cache_dir=str(out_dir / "hf-cache")
    )

    def add_hash(batch):
        pairs = zip(batch["text"], batch["label"], strict=True)
        return {"hash": [hashlib.sha256(f"{t}\x1f{y}".encode()).hexdigest() for t, y in pairs]}

    data = data.map(add_hash, batched=True, batch_size=10_000)
    seen: set[str] = set()
    keep = []
    for index, digest in enumerate(data["hash"]):
        if digest not in seen:
            seen.add(digest)
            keep.append(index)
    data = data.select(keep).class_encode_column("label")
    first = data.train_test_split(test_size=0.2, stratify_by_column="label", seed=seed)
    rest = first["test"].train_test_split(test_size=0.5, stratify_by_column="label", seed=seed)
    splits = {"train": first["train"], "validation": rest["train"], "test": rest["test"]}
    for name, split in splits.items():
        split.to_parquet(str(out_dir / f"hf-{name}.parquet"))
        split.to_json(str(out_dir / f"hf-{name}.jsonl"))
    datasets.DatasetDict(splits).save_to_disk(str(out_dir / "hf-saved"))
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


def summarize(
    rows: int, assay: dict[str, float], anchors: dict[str, float], details: dict, database: str
) -> dict:
    total = sum(assay.values())
    stages = {**assay, "assay_total": total, **anchors}
    return {
        "benchmark": "pipeline",
        "rows": rows,
        "database": database,
        "seconds": {name: round(value, 3) for name, value in stages.items()},
        "rows_per_second": {name: round(rows / value) for name, value in stages.items()},
        "ratio_assay_to_anchor": round(total / anchors["anchor_pyarrow"], 1),
        "ratio_assay_to_hf_datasets": round(total / anchors["anchor_hf_datasets"], 3),
        "details": details,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "machine": machine_info(),
    }


def print_table(result: dict) -> None:
    print(f"\nPipeline benchmark, {result['rows']:,} rows, {result['database']}")
    print(f"{'stage':<20}{'seconds':>10}{'rows/s':>14}")
    for name, seconds in result["seconds"].items():
        print(f"{name:<20}{seconds:>10.2f}{result['rows_per_second'][name]:>14,}")
    print(f"Assay / pyarrow CSV->Parquet: {result['ratio_assay_to_anchor']}x")
    print(f"Assay / Hugging Face datasets script: {result['ratio_assay_to_hf_datasets']}x")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, help=f"default {DEFAULT_OUTPUT.name}")
    parser.add_argument(
        "--database-url", help="an empty database to use instead of a fresh SQLite file"
    )
    args = parser.parse_args(argv)
    if args.output is None:  # each database keeps its own figures
        suffix = "_postgresql" if args.database_url else ""
        args.output = DEFAULT_OUTPUT.with_name(f"pipeline{suffix}.json")
    with tempfile.TemporaryDirectory(prefix="assay-bench-") as folder:
        work = Path(folder)
        csv_path = work / "rows.csv"
        print(f"generating {args.rows:,} rows in {csv_path} ...", flush=True)
        duplicates = generate_csv(csv_path, args.rows, args.seed)
        setup_django(work / "data", args.database_url)
        print("timing the anchor (pyarrow CSV -> Parquet) ...", flush=True)
        anchors = {"anchor_pyarrow": time_anchor(csv_path, work)}
        print("timing the Hugging Face datasets script ...", flush=True)
        anchors["anchor_hf_datasets"] = time_hf_datasets(csv_path, work, args.seed)
        print("timing Assay (import -> version build -> export) ...", flush=True)
        assay, details = time_assay(csv_path)
    details["duplicates_generated"] = duplicates
    database = "postgresql" if args.database_url else "sqlite"
    result = summarize(args.rows, assay, anchors, details, database)
    print_table(result)
    results_write(args.output, result)
    return result


if __name__ == "__main__":
    main()
