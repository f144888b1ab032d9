"""Move a dataset version through review: submit, approve or reject it."""

from django.core.management.base import BaseCommand, CommandError

from curation.exceptions import AssayError
from curation.management.cli import (
    add_user_argument,
    command_user,
    project_from_ref,
    version_from_ref,
)
from curation.permissions import Action
from curation.services.versions import (
    dataset_version_approve,
    dataset_version_reject,
    dataset_version_submit,
)


class Command(BaseCommand):
    help = (
        "Submit a draft version for review, or approve or reject a version in review "
        "(approving makes it immutable). Approve and reject record --user as the reviewer."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="Project id or exact name.")
        parser.add_argument("number", type=int, help="Version number.")
        action = parser.add_mutually_exclusive_group(required=True)
        for name in ("submit", "approve", "reject"):
            action.add_argument(f"--{name}", dest="action", action="store_const", const=name)
        parser.add_argument("--comment", default="", help="Review comment (needed to reject).")
        parser.add_argument(
            "--override-reason",
            default="",
            help="Approve although a readiness check fails, saying why (kept and audited).",
        )
        add_user_argument(parser)

    def handle(self, *args, **options):
        user = command_user(options["user"])
        action = options["action"]
        needed = Action.EDIT_DATA if action == "submit" else Action.REVIEW
        project = project_from_ref(options["project"], user=user, action=needed)
        version = version_from_ref(project, options["number"])
        try:
            if action == "submit":
                version = dataset_version_submit(version=version, user=user)
            elif action == "approve":
                version = dataset_version_approve(
                    version=version,
                    user=user,
                    comment=options["comment"],
                    override_reason=options["override_reason"],
                )
            else:
                version = dataset_version_reject(
                    version=version, user=user, comment=options["comment"]
                )
        except AssayError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{version} is now {version.get_status_display().lower()}.")
