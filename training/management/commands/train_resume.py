"""Resume a training run whose worker failed or was killed, from its last checkpoint."""

from django.core.management.base import BaseCommand, CommandError

from curation.management.cli import add_user_argument, command_user, project_from_ref, run_inline
from curation.permissions import Action
from training.models import TrainingRun


class Command(BaseCommand):
    help = "Continue a failed training run from its last checkpoint, with a progress bar."

    def add_arguments(self, parser):
        add_user_argument(parser)
        parser.add_argument("training_run", type=int, help="Training run id.")

    def handle(self, *args, **options):
        training_run = TrainingRun.objects.filter(pk=options["training_run"]).first()
        if training_run is None:
            raise CommandError(f"No training run {options['training_run']}.")
        user = command_user(options.get("user"))
        project_from_ref(str(training_run.project_id), user=user, action=Action.TRAIN)
        if training_run.run and training_run.run.status == "succeeded":
            raise CommandError(f"Training run {training_run.pk} already finished.")
        run_inline(
            kind="training",
            target=training_run,
            project=training_run.project,
            params={"training_run_id": training_run.pk, "resume": True},
            quiet=options["verbosity"] == 0,
        )
        training_run.refresh_from_db()
        self.stdout.write(f"Training run {training_run.pk} finished: {training_run.verdict}")
