"""Run the loop's periodic job once, or every ``--interval`` seconds with ``--loop``.

With ``--loop`` (as `assay_serve` runs it) a failing tick is reported and the next one
runs on time: one project's bad state, or a database not migrated yet, must not take the
other served processes down with it."""

import json
import time
import traceback

from django.core.management.base import BaseCommand, CommandError

from curation.models import Project


class Command(BaseCommand):
    help = "Push feedback for review, measure deployments, evaluate triggers, advance cycles."

    def add_arguments(self, parser):
        parser.add_argument("project", nargs="?", help="a project id or exact name (default: all)")
        parser.add_argument("--loop", action="store_true")
        parser.add_argument("--interval", type=int, default=900)

    def handle(self, *args, project=None, loop=False, interval=900, **options):

        if project:
            found = (
                Project.objects.filter(pk=int(project))
                if project.isdigit()
                else (Project.objects.filter(name=project))
            )
            if not found.exists():
                raise CommandError(f"No project '{project}'.")
            projects = list(found)
        try:
            self._run(projects if project else None, loop=loop, interval=interval)
        except KeyboardInterrupt:
            return  # stopped by assay_serve or Ctrl+C

    def _run(self, projects, *, loop: bool, interval: float) -> None:
        from loop.services.tick import loop_projects

        while True:
            try:
                for each in projects if projects is not None else loop_projects():
                    self._tick(each, keep_going=loop)
            except Exception:
                if not loop:
                    raise
                self._failed("loop_tick", interval)
            if not loop:
                return
            time.sleep(interval)

    def _tick(self, project, *, keep_going: bool) -> None:
        from loop.services.tick import loop_tick

        try:
            self.stdout.write(json.dumps(loop_tick(project=project), default=str))
        except Exception:
            if not keep_going:
                raise
            self._failed(f"loop_tick of {project.name}", None)

    def _failed(self, what: str, interval: int | None) -> None:
        later = f"; next try in {interval} s" if interval else ""
        self.stderr.write(f"{what} failed{later}\n{traceback.format_exc()}")
