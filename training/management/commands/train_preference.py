"""Blind human preference of a generation run: send outputs to Label Studio, pull votes."""

from django.core.management.base import BaseCommand, CommandError

from curation.exceptions import AssayError
from curation.management.cli import add_user_argument, command_user, project_from_ref
from curation.permissions import Action
from training.models import TrainingRun

ACTIONS = {"create": Action.TRAIN, "pull": Action.TRAIN, "show": Action.VIEW}


class Command(BaseCommand):
    help = (
        "Blind preference, fine-tuned vs base: 'create' sends a sample of a generation run's "
        "test outputs to Label Studio as anonymous A/B pairs, 'pull' reads the votes back, "
        "'show' prints the latest study's statistics."
    )

    def add_arguments(self, parser):
        add_user_argument(parser)
        parser.add_argument("action", choices=sorted(ACTIONS))
        parser.add_argument("training_run", type=int, help="Training run id.")
        parser.add_argument("--size", type=int, default=20, help="Prompts to send (create).")
        parser.add_argument(
            "--annotators", type=int, default=1, help="Annotators per prompt (create)."
        )
        parser.add_argument("--seed", type=int, help="Seed of the draw (create; random if unset).")

    def handle(self, *args, **options):
        training_run = TrainingRun.objects.filter(pk=options["training_run"]).first()
        if training_run is None:
            raise CommandError(f"No training run {options['training_run']}.")
        user = command_user(options.get("user"))
        action = options["action"]
        project_from_ref(str(training_run.project_id), user=user, action=ACTIONS[action])
        try:
            if action == "create":
                self._create(training_run, user, options)
            elif action == "pull":
                self._pull(training_run, user)
            else:
                self._show(training_run)
        except AssayError as exc:
            raise CommandError(str(exc)) from exc

    def _create(self, training_run, user, options):
        from training.services.preference import preference_study_create

        study = preference_study_create(
            training_run=training_run,
            user=user,
            sample_size=options["size"],
            annotators_per_item=options["annotators"],
            seed=options["seed"],
        )
        self.stdout.write(
            f"Preference study {study.pk}: {study.sample_size} blind pairs in Label Studio "
            f"project {study.ls_project_id} ({study.ls_project_url})"
        )

    def _pull(self, training_run, user):
        from training.selectors.preference import preference_study_latest
        from training.services.preference import preference_study_pull

        study = preference_study_latest(training_run)
        if study is None:
            raise CommandError(f"Training run {training_run.pk} has no preference study yet.")
        outcome = preference_study_pull(study=study, user=user)
        report = outcome["report"]
        self.stdout.write(
            f"Pulled study {study.pk}: {report['votes_created']} new, "
            f"{report['votes_updated']} changed, {report['votes_removed']} removed votes."
        )
        self._write_stats(outcome["stats"])

    def _show(self, training_run):
        from training.selectors.preference import preference_study_latest, preference_study_stats

        study = preference_study_latest(training_run)
        if study is None:
            raise CommandError(f"Training run {training_run.pk} has no preference study yet.")
        self.stdout.write(f"Preference study {study.pk} ({study.ls_project_url})")
        self._write_stats(preference_study_stats(study).as_dict())

    def _write_stats(self, stats: dict):
        votes = stats["votes"]
        self.stdout.write(
            f"Votes: {votes['tuned']} fine-tuned better, {votes['base']} base better, "
            f"{votes['ties']} ties."
        )
        self.stdout.write(stats["verdict"])
