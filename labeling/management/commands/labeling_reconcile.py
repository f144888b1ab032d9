"""Pull every linked project from Label Studio, once or every N seconds.

Label Studio never retries a webhook, so this job pulls whatever webhooks missed: a full
reconcile by default (it also mirrors deletions), or an incremental pull from the
watermark with ``--incremental``. Each project's pull is a recorded run; a project whose
pull is already running is skipped until the next pass. LS being down fails that pass's
runs with the reason and the loop carries on.
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from curation.exceptions import AssayError
from curation.services.runs import run_create, run_execute
from labeling.models import LabelStudioLink


class Command(BaseCommand):
    help = "Reconcile linked projects with Label Studio (once, or in a loop)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help=f"Seconds between passes (loop; default {settings.LABEL_STUDIO_RECONCILE_SECONDS}"
            " when --loop is given).",
        )
        parser.add_argument("--loop", action="store_true", help="Run until interrupted.")
        parser.add_argument(
            "--incremental", action="store_true", help="Pull from the watermark only."
        )

    def handle(self, *args, interval, loop: bool, incremental: bool, **options):
        if interval is None:
            interval = settings.LABEL_STUDIO_RECONCILE_SECONDS
        while True:
            self._pass(full=not incremental)
            if not loop:
                return
            time.sleep(interval)

    def _pass(self, *, full: bool) -> None:
        for link in LabelStudioLink.objects.select_related("project"):
            project = link.project
            try:
                run = run_create(
                    kind="label_studio_pull", target=project, project=project, params={"full": full}
                )
            except AssayError as exc:
                self.stdout.write(f"{project.name}: skipped ({exc})")
                continue
            run = run_execute(run.pk)
            outcome = run.error or (
                f"{run.result.get('labels_created', 0)} created, "
                f"{run.result.get('labels_updated', 0)} updated, "
                f"{run.result.get('labels_removed', 0)} removed"
            )
            self.stdout.write(f"{project.name}: run #{run.pk} {run.status}: {outcome}")
