"""Create (or show) the Label Studio project linked to an Assay project."""

from django.core.management.base import BaseCommand, CommandError

from curation.exceptions import AssayError
from curation.management.cli import add_user_argument, command_user, project_from_ref
from curation.permissions import Action
from labeling.services.links import label_studio_project_link


class Command(BaseCommand):
    help = "Link a project to Label Studio: creates the LS project with a generated interface."

    def add_arguments(self, parser):
        add_user_argument(parser)
        parser.add_argument("project", help="Project id or exact name.")
        parser.add_argument("--overlap", type=int, default=1, help="Annotators per task.")

    def handle(self, *args, project: str, overlap: int, **options):
        try:
            link = label_studio_project_link(
                project=project_from_ref(
                    project, user=command_user(options.get("user")), action=Action.MANAGE
                ),
                overlap=overlap,
            )
        except AssayError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Linked to Label Studio project {link.ls_project_id}: {link.project_url}"
        )
