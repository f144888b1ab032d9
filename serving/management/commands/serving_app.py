"""Application keys: create one (the key is printed once), list or revoke them."""

from django.core.management.base import BaseCommand, CommandError

from curation.exceptions import AssayError
from curation.management.cli import add_user_argument, command_user, project_from_ref
from curation.permissions import Action
from serving.models import Application
from serving.services.applications import application_create, application_revoke


class Command(BaseCommand):
    help = "serving_app create PROJECT NAME | list PROJECT | revoke APPLICATION_ID"

    def add_arguments(self, parser):
        add_user_argument(parser)
        parser.add_argument("action", choices=("create", "list", "revoke"))
        parser.add_argument("target", help="PROJECT (create, list) or the application id.")
        parser.add_argument("name", nargs="?", help="The new application's name (create).")

    def handle(self, *args, **options):
        user = command_user(options.get("user"))
        try:
            getattr(self, f"_{options['action']}")(user, options)
        except AssayError as exc:
            raise CommandError(str(exc)) from exc

    def _create(self, user, options) -> None:
        if not options["name"]:
            raise CommandError("Give the application's NAME.")
        project = project_from_ref(options["target"], user=user, action=Action.SERVE)
        application, key = application_create(project=project, name=options["name"], user=user)
        self.stdout.write(
            f"Application '{application.name}' (id {application.pk}) of {project.name}."
        )
        self.stdout.write(f"Key (shown once, keep it secret): {key}")

    def _list(self, user, options) -> None:
        project = project_from_ref(options["target"], user=user, action=Action.VIEW)
        for application in Application.objects.filter(project=project):
            state = (
                f"revoked {application.revoked_at:%Y-%m-%d}" if application.revoked_at else "active"
            )
            key = f"assay_app_{application.key_prefix}…"
            self.stdout.write(f"{application.pk:>5}  {application.name:<30} {key}  {state}")

    def _revoke(self, user, options) -> None:
        if not options["target"].isdigit():
            raise CommandError("revoke takes the application's id (see serving_app list).")
        application = Application.objects.filter(pk=int(options["target"])).first()
        if application is None:
            raise CommandError(f"No application {options['target']}.")
        project_from_ref(str(application.project_id), user=user, action=Action.SERVE)
        application_revoke(application=application, user=user)
        self.stdout.write(f"Revoked '{application.name}'; its key no longer works.")
