"""List a project's training runs with their headline numbers, side by side."""

from django.core.management.base import BaseCommand

from curation.management.cli import add_user_argument, command_user, project_from_ref
from curation.permissions import Action


class Command(BaseCommand):
    help = "Show a project's training runs: data, method, status, metric vs base, verdict."

    def add_arguments(self, parser):
        add_user_argument(parser)
        parser.add_argument("project", help="Project id or exact name.")

    def handle(self, *args, **options):
        from training.selectors import model_comparison

        for row in model_comparison(
            project_from_ref(
                options["project"], user=command_user(options.get("user")), action=Action.VIEW
            )
        ):
            run = row["run"]
            tuned = "—" if row["tuned"] is None else f"{row['tuned']:.4g}"
            base = "—" if row["base"] is None else f"{row['base']:.4g}"
            self.stdout.write(
                f"#{run.pk} v{run.version.number} {run.method} {run.status} "
                f"{row['primary'] or '-'} {tuned} (base {base}) {run.verdict}"
            )
