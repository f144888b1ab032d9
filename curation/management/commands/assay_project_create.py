"""Create a project."""

from django.core.management.base import BaseCommand, CommandError

from curation.exceptions import AssayError
from curation.management.cli import command_user
from curation.models import TaskType
from curation.services.projects import project_create


class Command(BaseCommand):
    help = "Create a classification or generation project."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--task-type", required=True, choices=TaskType.values)
        parser.add_argument("--labels", help="Comma-separated label set (classification).")
        parser.add_argument(
            "--fields", help="Comma-separated content fields (default text, or prompt,response)."
        )
        parser.add_argument("--description", default="")
        parser.add_argument(
            "--user",
            help="Username of the project's first admin (default: the only superuser, if one).",
        )

    def handle(self, *args, **options):
        try:
            project = project_create(
                name=options["name"],
                task_type=options["task_type"],
                label_set=_names(options["labels"]),
                field_schema=_names(options["fields"]),
                description=options["description"],
                created_by=command_user(options["user"]),
            )
        except AssayError as exc:
            raise CommandError(str(exc)) from exc
        labels = ", ".join(project.label_set) or "none yet"
        self.stdout.write(
            f"Created project '{project.name}' (id {project.pk}, {project.task_type}; "
            f"fields: {', '.join(project.content_fields)}; labels: {labels})."
        )


def _names(value: str | None) -> list[str] | None:
    return value.split(",") if value else None
