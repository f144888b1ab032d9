"""Label Studio sync benchmark: Assay's push and pull against the LS API's own time.

    .venv/bin/python benchmarks/label_studio_sync.py [--tasks 2000 5000] [--rounds 3]
        [--output PATH] [--database-url URL]

Against the real server (started, and stopped afterwards, when none answers), in one run:

(a) push: `label_studio_push` of N examples (it lists the LS project's tasks, imports
    the missing ones in batches of 1,000 and records a task link per example), against
    the anchor: the same raw SDK calls (list the tasks, `projects.import_tasks` of the
    same payloads in the same batches) into a second, empty LS project;
(b) pull: a full `label_studio_pull` of N annotations (made in LS beforehand by importing
    annotated tasks, not timed) into N labels with consensus rows, against the anchor:
    the raw SDK `tasks.list` pages of 1,000 with the same fields and filter (Assay reads
    the last 1,000 in pages of 250: more requests, which the anchor is spared). Push and
    full pull are medians of --rounds rounds, Assay first in one round and the anchor in
    the next (the machine's load moves single runs);
(c) re-pull: an incremental pull when nothing changed, against the same cheap listing
    (id and updated_at of the tasks changed since the watermark less its slack);
(d) re-pull after a burst (1% of the tasks get a second annotation, not timed): an
    incremental pull, against the same listing plus the full read of the burst's tasks.
    ``tasks_reread`` counts full task reads; ``listing_s`` is the cheap listing alone.

The database is a fresh SQLite file in a temporary folder unless --database-url is given.
Prints a table and writes benchmarks/results/label_studio_sync.json. The ratio (Assay /
anchor, measured side by side) is the number to compare; absolute seconds are noisy.
"""

import argparse
import datetime
import json
import logging
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "label_studio_sync.json"
BATCH = 1000
WORDS = "free call now win prize claim text reply stop cash offer lunch later home".split()


def setup_django(data_dir: Path, database_url: str | None) -> None:
    os.environ["ASSAY_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "curation.settings.dev"
    os.environ["ASSAY_TASK_BACKEND"] = "immediate"
    os.environ["LABEL_STUDIO_WEBHOOKS"] = "false"
    os.environ.pop("ASSAY_DATABASE_NAME", None)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(REPO_ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per HTTP call otherwise


def make_project(name: str, n: int, rng: random.Random):
    from curation.core.hashing import content_hash
    from curation.models import Example, Project

    project = Project.objects.create(
        name=name, task_type="classification", label_set=["ham", "spam"], field_schema=["text"]
    )
    examples = []
    for i in range(n):
        fields = {"text": " ".join(rng.choices(WORDS, k=12)) + f" #{i}"}
        examples.append(
            Example(
                project=project,
                external_id=f"m{i}",
                fields=fields,
                content_hash=content_hash(fields),
            )
        )
    Example.objects.bulk_create(examples, batch_size=2000)
    return project


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def raw_list(sdk, project_id: int, *, query: str | None, fields: str, include: str | None) -> int:
    """Page through tasks exactly as the adapter does, with bare SDK calls."""
    page, seen = 1, 0
    while True:
        pager = sdk.tasks.list(
            project=project_id,
            page=page,
            page_size=1000,
            fields=fields,
            include=include,
            query=query,
        )
        items = pager.items or []
        seen += len(items)
        if not items or seen >= pager.response.total:
            return seen
        page += 1


def _push_round(
    client, n: int, rng: random.Random, name: str, *, anchor_first: bool
) -> tuple[float, float]:
    from labeling.services.links import label_studio_project_link
    from labeling.services.push import label_studio_push

    project = make_project(name, n, rng)
    link = label_studio_project_link(project=project, client=client)
    anchor = client.project_create(title="bench push anchor", label_config=link.label_config)
    payloads = [
        {"data": {"text": e.fields["text"], "assay_external_id": e.external_id}, "predictions": []}
        for e in project.examples.order_by("pk")
    ]

    def raw_push():
        raw_list(client._sdk, anchor.id, query=None, fields="task_only", include="id,data")
        for start in range(0, n, BATCH):
            client._sdk.projects.import_tasks(
                id=anchor.id, request=payloads[start : start + BATCH], return_task_ids=True
            )

    def assay_push():
        report = label_studio_push(project=project, client=client)
        assert report.tasks_created == n, report

    if anchor_first:
        anchor_s, _ = timed(raw_push)
        assay_s, _ = timed(assay_push)
    else:
        assay_s, _ = timed(assay_push)
        anchor_s, _ = timed(raw_push)
    client.project_delete(anchor.id)
    client.project_delete(link.ls_project_id)
    return assay_s, anchor_s


def bench_push(client, n: int, rng: random.Random, rounds: int) -> dict:
    """Medians of ``rounds`` measurements (a fresh project each round), who goes first
    alternating from round to round."""
    times = [
        _push_round(client, n, rng, f"bench push {n} #{i}", anchor_first=i % 2 == 1)
        for i in range(rounds)
    ]
    return {
        "stage": f"push {n:,} tasks",
        "assay_s": statistics.median(a for a, _ in times),
        "anchor_s": statistics.median(b for _, b in times),
        "rounds": rounds,
    }


def _import_annotated(client, project, rng: random.Random) -> tuple[int, str, list[int]]:
    """An LS project whose tasks carry one annotation each (not timed)."""
    from labeling.core.label_config import classification_label_config, classification_result

    config = classification_label_config(fields=["text"], labels=["ham", "spam"])
    ls_project = client.project_create(title="bench pull", label_config=config)
    tasks = [
        {
            "data": {"text": e.fields["text"], "assay_external_id": e.external_id},
            "annotations": [
                {"result": classification_result(rng.choice(["ham", "spam"]), to_name="text"),
                 "lead_time": round(rng.uniform(1, 20), 2)}
            ],
        }
        for e in project.examples.order_by("pk")
    ]  # fmt: skip
    task_ids = []
    for start in range(0, len(tasks), BATCH):
        task_ids += client.tasks_import(ls_project.id, tasks[start : start + BATCH])
    return ls_project.id, config, task_ids


def raw_versions(sdk, project_id: int, since) -> int:
    """The incremental pull's cheap listing, with bare SDK calls."""
    from labeling.core.task_filters import updated_after_filter

    query = json.dumps({"filters": {"conjunction": "and", "items": [updated_after_filter(since)]}})
    return raw_list(sdk, project_id, query=query, fields="task_only", include="id,updated_at")


def raw_read(sdk, project_id: int, task_ids: list[int]) -> int:
    """The incremental pull's full read of chosen tasks, with bare SDK calls."""
    read = 0
    for start in range(0, len(task_ids), BATCH):
        chunk = task_ids[start : start + BATCH]
        query = json.dumps({"selectedItems": {"all": False, "included": chunk}})
        read += raw_list(sdk, project_id, query=query, fields="all", include=None)
    return read


def bench_pull(client, n: int, rng: random.Random, rounds: int) -> list[dict]:
    from curation.models import Label
    from labeling.core.label_config import classification_result
    from labeling.core.task_filters import ANNOTATED_FILTER
    from labeling.models import Consensus, LabelStudioLink
    from labeling.services.pull import WATERMARK_SLACK, label_studio_pull

    project = make_project(f"bench pull {n}", n, rng)
    ls_project_id, config, task_ids = _import_annotated(client, project, rng)
    link = LabelStudioLink.objects.create(
        project=project,
        ls_project_id=ls_project_id,
        base_url=client.url,
        project_url=client.project_url(ls_project_id),
        label_config=config,
    )
    query = json.dumps({"filters": ANNOTATED_FILTER})
    full_times, anchor_times = [], []

    def assay_pull():
        report = label_studio_pull(project=project, full=True, client=client)
        assert report.labels_created == n, report

    def anchor_pull():
        listed = raw_list(client._sdk, ls_project_id, query=query, fields="all", include=None)
        assert listed == n

    for round_ in range(rounds):  # every round pulls into an empty project
        Label.objects.filter(example__project=project).delete()
        Consensus.objects.filter(example__project=project).delete()
        if round_ % 2:  # who goes first alternates
            anchor_full_s, _ = timed(anchor_pull)
            full_s, _ = timed(assay_pull)
        else:
            full_s, _ = timed(assay_pull)
            anchor_full_s, _ = timed(anchor_pull)
        full_times.append(full_s)
        anchor_times.append(anchor_full_s)
    link.refresh_from_db()
    since = link.pull_watermark - WATERMARK_SLACK
    again_s, again = timed(lambda: label_studio_pull(project=project, client=client))
    assert again.mode == "incremental" and again.labels_created == 0, again
    anchor_again_s, _ = timed(lambda: raw_versions(client._sdk, ls_project_id, since))

    # A burst: 1% of the tasks get a second annotation (not timed).
    burst = rng.sample(task_ids, max(n // 100, 20))
    for task_id in burst:
        client.annotation_create(task_id, result=classification_result("spam", to_name="text"))
    burst_s, after = timed(lambda: label_studio_pull(project=project, client=client))
    assert after.labels_created == len(burst), after
    anchor_listing_s, _ = timed(lambda: raw_versions(client._sdk, ls_project_id, since))
    anchor_read_s, _ = timed(lambda: raw_read(client._sdk, ls_project_id, sorted(burst)))
    client.project_delete(ls_project_id)
    return [
        {
            "stage": f"pull {n:,} annotations (full)",
            "assay_s": statistics.median(full_times),
            "anchor_s": statistics.median(anchor_times),
            "rounds": rounds,
        },
        {
            "stage": "re-pull, nothing changed (incremental)",
            "assay_s": again_s,
            "anchor_s": anchor_again_s,
            "tasks_listed": again.tasks_listed,
            "tasks_reread": again.tasks_read,
            "listing_s": anchor_again_s,
        },
        {
            "stage": f"re-pull after a burst of {len(burst):,} annotations (incremental)",
            "assay_s": burst_s,
            "anchor_s": anchor_listing_s + anchor_read_s,
            "tasks_listed": after.tasks_listed,
            "tasks_reread": after.tasks_read,
            "listing_s": anchor_listing_s,
        },
    ]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, nargs="+", default=[2000, 5000])
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="Alternating Assay/anchor rounds for push and full pull.",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--database-url", default=None, help="Default: fresh SQLite in a temp dir.")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO_ROOT))
    from labeling.lifecycle import LabelStudioServerConfig, server_start, server_stop

    server = LabelStudioServerConfig.from_env()  # before ASSAY_DATA_DIR moves to the temp dir
    started = server_start(server)
    try:
        with tempfile.TemporaryDirectory(prefix="assay-ls-bench-") as tmp:
            setup_django(Path(tmp), args.database_url)
            from labeling.integrations.label_studio import LabelStudioClient

            client = LabelStudioClient(url=server.url, token=server.token, timeout=600)
            rng = random.Random(args.seed)
            rows = []
            for n in args.tasks:
                rows += [
                    bench_push(client, n, rng, args.rounds),
                    *bench_pull(client, n, rng, args.rounds),
                ]
    finally:
        if started is not None:
            server_stop(server)
    for row in rows:
        row["ratio"] = row["assay_s"] / row["anchor_s"]
    result = {
        "benchmark": "label_studio_sync",
        "tasks": args.tasks,
        "rounds": args.rounds,
        "database": "postgresql" if args.database_url else "sqlite",
        "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "rows": rows,
    }
    print(f"{'stage':<58} {'Assay s':>9} {'LS API s':>9} {'ratio':>7} {'listed':>7} {'reread':>7}")
    for row in rows:
        seconds = f"{row['assay_s']:>9.1f} {row['anchor_s']:>9.1f}"
        counts = f"{row.get('tasks_listed', ''):>7} {row.get('tasks_reread', ''):>7}"
        print(f"{row['stage']:<58} {seconds} {row['ratio']:>6.2f}x {counts}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
