"""Print the analysis of a project's latest LF application."""

from django.core.management.base import BaseCommand, CommandError

from curation.management.cli import add_user_argument, command_user, project_from_ref
from curation.permissions import Action


def analysis_table(application) -> str:
    analysis = application.analysis
    lines = [
        f"{'LF':<28} {'votes':<10} {'coverage':>8} {'overlaps':>8} {'conflicts':>9} {'accuracy':>8}"
    ]
    for name, row in zip(analysis["names"], analysis["lfs"], strict=True):
        votes = ",".join(application.labels[i] for i in row["polarity"]) or "-"
        accuracy = "-" if row["accuracy"] is None else f"{row['accuracy']:.3f}"
        lines.append(
            f"{name:<28} {votes:<10} {row['coverage']:>8.3f} {row['overlaps']:>8.3f} "
            f"{row['conflicts']:>9.3f} {accuracy:>8}"
        )
    lines.append(
        f"{application.n_examples:,} examples, coverage {analysis['coverage']:.3f}, "
        f"conflict {analysis['conflict']:.3f}, dev set {analysis['n_dev']:,}"
    )
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Show coverage, overlaps, conflicts and dev accuracy of the last LF application."

    def add_arguments(self, parser) -> None:
        add_user_argument(parser)
        parser.add_argument("project", help="Project id or exact name.")

    def handle(self, *args, **options) -> None:
        from curation.weak_supervision.selectors.applications import latest_application

        project = project_from_ref(
            options["project"], user=command_user(options.get("user")), action=Action.VIEW
        )
        application = latest_application(project)
        if application is None:
            raise CommandError(f"{project.name}: no LF application yet; run ws_apply first.")
        self.stdout.write(analysis_table(application))
