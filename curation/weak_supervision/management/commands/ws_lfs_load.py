"""Create or update declarative labeling functions from a JSON file."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from curation.exceptions import AssayError
from curation.management.cli import add_user_argument, command_user, project_from_ref
from curation.permissions import Action


class Command(BaseCommand):
    help = (
        "Load LFs from a JSON list of {name, kind, label, params, description}; an existing "
        "LF with the same name gets a new version when its rule changed."
    )

    def add_arguments(self, parser) -> None:
        add_user_argument(parser)
        parser.add_argument("project", help="Project id or exact name.")
        parser.add_argument("file", type=Path)

    def handle(self, *args, **options) -> None:
        from curation.weak_supervision.services.functions import labeling_functions_load

        project = project_from_ref(
            options["project"], user=command_user(options.get("user")), action=Action.EDIT_DATA
        )
        try:
            specs = json.loads(options["file"].read_text(encoding="utf-8"))
            created, updated = labeling_functions_load(project=project, specs=specs)
        except (OSError, ValueError) as exc:
            raise CommandError(f"{options['file']}: {exc}") from exc
        except AssayError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{created} labeling functions created, {updated} given a new version.")
