"""Run the loop's periodic job once, or every ``--interval`` seconds with ``--loop``."""

import json
import time

from django.core.management.base import BaseCommand, CommandError

from curation.models import Project


class Command(BaseCommand):
    help = "Push feedback for review, measure deployments, evaluate triggers, advance cycles."

    def add_arguments(self, parser):
        parser.add_argument("project", nargs="?", help="a project id or exact name (default: all)")
        parser.add_argument("--loop", action="store_true")
        parser.add_argument("--interval", type=int, default=900)

    def handle(self, *args, project=None, loop=False, interval=900, **options):
        from loop.services.tick import loop_projects, loop_tick

        if project:
            found = (
                Project.objects.filter(pk=int(project))
                if project.isdigit()
                else (Project.objects.filter(name=project))
            )
            if not found.exists():
                raise CommandError(f"No project '{project}'.")
            projects = list(found)
        while True:
            for each in projects if project else loop_projects():
                self.stdout.write(json.dumps(loop_tick(project=each), default=str))
            if not loop:
                return
            time.sleep(interval)
