"""Version storage benchmark: ten versions of a large project, each 1% apart from its parent.

    .venv/bin/python benchmarks/version_storage.py [--rows 1000000] [--versions 10]
        [--change 0.01] [--seed 0] [--output PATH] [--database-url URL]

Imports a generated classification CSV (the pipeline benchmark's generator), builds and
approves version 1, then nine times: relabels half of the change share of examples at
random, imports the other half as new rows, and builds and approves the next version. Each
child stores a delta on its parent. The anchor, measured in the same run at the end, is one
more version of the same project stored as a full copy (as every version was before deltas).

Reports, per version and in total: member rows and removal rows stored, the bytes the
member and removal tables grew by, and build seconds; then the ratios the issue asks
about: all ten versions' storage over one full copy's, and a child's build time over the
full copy's. Writes benchmarks/results/version_storage.json (or
version_storage_postgresql.json with --database-url).
"""

import argparse
import csv
import random
import sys
import tempfile
import time
from pathlib import Path

from pipeline import (
    LABELS,
    REPO_ROOT,
    WORDS,
    generate_csv,
    machine_info,
    results_write,
    setup_django,
)
from tqdm import tqdm

DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "version_storage.json"
TABLES = ("curation_datasetversionmember", "curation_datasetversionremoval")


def table_bytes() -> int:
    """Bytes held by the member and removal tables and their indexes."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT sum(pg_total_relation_size(c)) FROM unnest(%s::regclass[]) AS c",
                [list(TABLES)],
            )
            return int(cursor.fetchone()[0])
        cursor.execute(
            "SELECT sum(pgsize) FROM dbstat WHERE name IN "
            "(SELECT name FROM sqlite_master WHERE tbl_name IN (%s, %s))",
            list(TABLES),
        )
        return int(cursor.fetchone()[0])


def write_new_rows(path: Path, count: int, start: int, rng: random.Random) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["text", "label"])
        for number in range(start, start + count):
            words = rng.choices(WORDS, k=rng.randint(6, 24))
            out.writerow([f"{' '.join(words)} new #{number}", rng.choice(LABELS)])


def relabel(project, count: int, rng: random.Random) -> None:
    from curation.models import Example

    labels = dict(Example.objects.filter(project=project).values_list("pk", "resolved_label"))
    chosen = rng.sample(sorted(labels), count)
    for label, other in (("ham", "spam"), ("spam", "ham")):  # groups fixed before either runs
        group = [pk for pk in chosen if labels[pk] == label]
        for start in range(0, len(group), 5000):
            Example.objects.filter(pk__in=group[start : start + 5000]).update(resolved_label=other)


def build_and_approve(project, user, *, seed: int) -> tuple[object, float, int]:
    from curation.services.versions import (
        dataset_version_approve,
        dataset_version_build,
        dataset_version_submit,
    )

    before = table_bytes()
    started = time.perf_counter()
    version = dataset_version_build(project=project, seed=seed)
    seconds = time.perf_counter() - started
    grown = table_bytes() - before
    version = dataset_version_submit(version=version, user=user)
    version = dataset_version_approve(
        version=version, user=user, override_reason="benchmark data: readiness not at issue"
    )
    return version, seconds, grown


def run(args, work: Path) -> dict:
    from django.contrib.auth import get_user_model

    from curation.models import DatasetVersionMember, DatasetVersionRemoval
    from curation.services.imports import ImportOptions, examples_import
    from curation.services.projects import project_create
    from curation.services.versions import build as version_build

    user = get_user_model().objects.create_superuser("bench", "bench@example.org", "x")
    project = project_create(name="storage", task_type="classification", label_set=[*LABELS])
    options = ImportOptions(format="csv", mapping={"text": "text", "label": "label"})
    examples_import(project=project, path=work / "rows.csv", options=options)
    rng = random.Random(args.seed)
    rows = []
    progress = tqdm(range(1, args.versions + 1), desc="versions", unit="version")
    for number in progress:
        if number > 1:
            changed = round(args.rows * args.change)
            relabel(project, changed // 2, rng)
            extra = work / f"new-{number}.csv"
            write_new_rows(extra, changed - changed // 2, args.rows + number * changed, rng)
            examples_import(project=project, path=extra, options=options)
        version, seconds, grown = build_and_approve(project, user, seed=args.seed)
        rows.append(
            {
                "number": version.number,
                "members": version.manifest["member_count"],
                "stored_rows": DatasetVersionMember.objects.filter(version=version).count(),
                "removal_rows": DatasetVersionRemoval.objects.filter(version=version).count(),
                "bytes": grown,
                "build_seconds": round(seconds, 2),
            }
        )
        progress.set_postfix(stored=rows[-1]["stored_rows"], seconds=rows[-1]["build_seconds"])
    # The anchor: the same project's next version stored whole, as before deltas.
    version_build.MAX_DELTA_CHAIN = 0
    full, full_seconds, full_bytes = build_and_approve(project, user, seed=args.seed)
    return summarize(args, rows, full, full_seconds, full_bytes)


def summarize(args, rows: list[dict], full, full_seconds: float, full_bytes: int) -> dict:
    from django.db import connection

    from curation.models import DatasetVersionMember

    all_bytes = sum(row["bytes"] for row in rows)
    children = rows[1:]
    child_seconds = sorted(row["build_seconds"] for row in children)
    return {
        "benchmark": "version_storage",
        "rows": args.rows,
        "versions": args.versions,
        "change_per_version": args.change,
        "database": connection.vendor,
        "per_version": rows,
        "anchor_full_copy": {
            "number": full.number,
            "members": full.manifest["member_count"],
            "stored_rows": DatasetVersionMember.objects.filter(version=full).count(),
            "bytes": full_bytes,
            "build_seconds": round(full_seconds, 2),
        },
        "ratio_stored_rows_to_one_full_copy": round(
            sum(row["stored_rows"] for row in rows) / full.manifest["member_count"], 3
        ),
        "ratio_bytes_to_one_full_copy": round(all_bytes / full_bytes, 3),
        "ratio_child_build_to_full_build_median": round(
            child_seconds[len(child_seconds) // 2] / full_seconds, 3
        ),
        "machine": machine_info(),
    }


def print_table(result: dict) -> None:
    print(f"\nVersion storage, {result['rows']:,} rows, {result['database']}")
    print(f"{'version':>8}{'members':>10}{'stored':>10}{'removed':>9}{'MB':>9}{'build s':>9}")
    for row in [*result["per_version"], {**result["anchor_full_copy"], "removal_rows": 0}]:
        print(
            f"{row['number']:>8}{row['members']:>10,}{row['stored_rows']:>10,}"
            f"{row['removal_rows']:>9,}{row['bytes'] / 1e6:>9.1f}{row['build_seconds']:>9.1f}"
        )
    print(f"ten versions' bytes / one full copy: {result['ratio_bytes_to_one_full_copy']}x")
    print(f"median child build / full build: {result['ratio_child_build_to_full_build_median']}x")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--versions", type=int, default=10)
    parser.add_argument("--change", type=float, default=0.01, help="share changed per version")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path)
    parser.add_argument("--database-url", help="an empty database instead of a fresh SQLite file")
    args = parser.parse_args(argv)
    if args.output is None:
        suffix = "_postgresql" if args.database_url else ""
        args.output = DEFAULT_OUTPUT.with_name(f"version_storage{suffix}.json")
    with tempfile.TemporaryDirectory(prefix="assay-bench-") as folder:
        work = Path(folder)
        print(f"generating {args.rows:,} rows ...", flush=True)
        generate_csv(work / "rows.csv", args.rows, args.seed)
        setup_django(work / "data", args.database_url)
        result = run(args, work)
    print_table(result)
    results_write(args.output, result)
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
