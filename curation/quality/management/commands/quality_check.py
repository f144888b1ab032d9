"""Run the data-quality checks on a dataset version (or the current examples), with a
progress bar, and print what they found."""

import argparse

from django.core.management.base import BaseCommand

from curation.management.cli import (
    add_user_argument,
    command_user,
    project_from_ref,
    run_inline,
    version_from_ref,
)
from curation.permissions import Action
from curation.quality.core.label_issues import DEFAULT_FILTER, DEFAULT_MODEL, FILTERS, MODELS
from curation.quality.services.checks import CHECKS, RUN_KIND


class Command(BaseCommand):
    help = (
        "Check a version for label issues (cleanlab on a cross-validated model), exact and "
        "near duplicates (also across splits), outliers and the project's expectation suite; "
        "every finding becomes a reviewable issue."
    )

    def add_arguments(self, parser):
        add_user_argument(parser)
        parser.add_argument("project", help="Project id or exact name.")
        parser.add_argument(
            "version",
            nargs="?",
            type=int,
            help="Version number (default: none, the project's current examples).",
        )
        parser.add_argument(
            "--check",
            action="append",
            choices=CHECKS,
            dest="checks",
            help="Run only this check (repeatable; default: all).",
        )
        parser.add_argument("--model", choices=MODELS, default=DEFAULT_MODEL)
        parser.add_argument("--folds", type=int, default=5)
        parser.add_argument(
            "--filter-by",
            choices=FILTERS,
            default=DEFAULT_FILTER,
            help="How label issues are chosen; normalized_margin is the label-errors paper's rule.",
        )
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--dask",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="Cross-validate the label-issue folds on Dask (ASSAY_DASK_SCHEDULER, or a "
            "local cluster), or never (--no-dask); default: from ASSAY_DASK_MIN_ROWS rows.",
        )

    def handle(self, *args, **options):
        project = project_from_ref(
            options["project"], user=command_user(options.get("user")), action=Action.EDIT_DATA
        )
        version = version_from_ref(project, options["version"]) if options["version"] else None
        params = {
            "version_id": version.pk if version else None,
            "checks": options["checks"] or list(CHECKS),
            "model": options["model"],
            "folds": options["folds"],
            "seed": options["seed"],
            "filter_by": options["filter_by"],
        }
        if options["dask"] is not None:
            params["dask"] = options["dask"]
        run = run_inline(
            kind=RUN_KIND,
            target=version or project,
            project=project,
            params=params,
            quiet=options["verbosity"] == 0,
        )
        self._report(run.result)

    def _report(self, result: dict) -> None:
        expectations = result.get("expectations", {})
        lines = [
            f"Quality check #{result['check_id']}: {result['examples']:,} rows",
            f"  label issues        {result['label_issues']}",
            f"  duplicate copies    {result['duplicate_examples']} "
            f"({result['exact_duplicate_clusters']} exact, "
            f"{result['near_duplicate_clusters']} near clusters)",
            f"  cross-split leaks   {result['cross_split_duplicates']}",
            f"  outliers            {result['outliers']}",
            f"  expectations        {expectations.get('passed', 0)}/"
            f"{expectations.get('total', 0)} passed",
        ]
        lines += [f"  skipped {name}: {why}" for name, why in result.get("skipped", {}).items()]
        self.stdout.write("\n".join(lines))
