"""A task worker for the configured backend, on the queues this machine should take."""

import os
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from curation.management.commands.assay_serve import worker_argv


class Command(BaseCommand):
    help = (
        "Run a task worker (db_worker or rqworker, after ASSAY_TASK_BACKEND) taking the given "
        "queues, e.g. --queues default,cpu-heavy on a CPU machine and --queues gpu on a GPU "
        "one; ASSAY_RUN_QUEUES says which run kinds go to which queue."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--queues",
            default="",
            help="Comma-separated queue names (default: all of them, "
            f"{','.join(settings.TASK_QUEUES)}).",
        )

    def handle(self, *args, **options):
        queues = [name.strip() for name in options["queues"].split(",") if name.strip()]
        unknown = sorted(set(queues) - set(settings.TASK_QUEUES))
        if unknown:
            raise CommandError(
                f"Unknown queue(s) {', '.join(unknown)}; runs go to "
                f"{', '.join(settings.TASK_QUEUES)} (ASSAY_RUN_QUEUES)."
            )
        argv = worker_argv(settings.TASK_BACKEND, queues)
        if argv is None:
            raise CommandError(
                f"ASSAY_TASK_BACKEND={settings.TASK_BACKEND!r} runs tasks inline; no worker."
            )
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        self.stdout.write(f"{' '.join(argv)}")
        self.stdout.flush()
        # Replace this process, so the container's or supervisor's signals reach the worker.
        os.execv(sys.executable, [sys.executable, manage, *argv])
