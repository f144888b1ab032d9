"""Fine-tune on an approved dataset version, in this process, with a progress bar."""

from django.core.management.base import BaseCommand, CommandError

from curation.exceptions import AssayError
from curation.management.cli import (
    add_user_argument,
    command_user,
    project_from_ref,
    run_inline,
    version_from_ref,
)
from curation.permissions import Action
from training.core.config import METHODS, config_fields


class Command(BaseCommand):
    help = (
        "Train on an approved dataset version (LoRA by default) and compare the result with "
        "the base model on the test split. Other options: --set NAME=VALUE (see --list-options)."
    )

    def add_arguments(self, parser):
        add_user_argument(parser)
        parser.add_argument("project", nargs="?", help="Project id or exact name.")
        parser.add_argument("number", nargs="?", type=int, help="Version number.")
        parser.add_argument("--method", choices=METHODS)
        parser.add_argument("--base-model", help="Local model folder or Hugging Face id.")
        parser.add_argument("--max-steps", type=int)
        parser.add_argument("--epochs", type=float)
        parser.add_argument(
            "--max-minutes",
            type=float,
            help="Time budget: train for at most this many minutes (keeps the best checkpoint).",
        )
        parser.add_argument("--batch-size", type=int)
        parser.add_argument("--learning-rate", type=float)
        parser.add_argument(
            "--set",
            dest="settings",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="Any configuration field; repeatable.",
        )
        parser.add_argument("--list-options", action="store_true", help="Show every field.")

    def _values(self, options) -> dict:
        values = {}
        names = (
            "method",
            "base_model",
            "max_steps",
            "epochs",
            "max_minutes",
            "batch_size",
            "learning_rate",
        )
        for name in names:
            if options[name] is not None:
                values[name] = options[name]
        for setting in options["settings"]:
            name, sep, value = setting.partition("=")
            if not sep:
                raise CommandError(f"--set expects NAME=VALUE, got '{setting}'.")
            values[name.strip()] = value
        return values

    def handle(self, *args, **options):
        from training.services import training_run_prepare

        if options["list_options"]:
            for row in config_fields():
                self.stdout.write(f"{row['name']} (default {row['default']!r}): {row['help']}")
            return
        if not options["project"] or options["number"] is None:
            raise CommandError("Give PROJECT and VERSION (or --list-options).")
        version = version_from_ref(
            project_from_ref(
                options["project"], user=command_user(options.get("user")), action=Action.TRAIN
            ),
            options["number"],
        )
        try:
            training_run = training_run_prepare(version=version, values=self._values(options))
        except AssayError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Training run {training_run.pk}: estimate {training_run.estimate}")
        run_inline(
            kind="training",
            target=training_run,
            project=version.project,
            params={"training_run_id": training_run.pk},
            quiet=options["verbosity"] == 0,
        )
        training_run.refresh_from_db()
        self.stdout.write(f"Training run {training_run.pk} finished: {training_run.verdict}")
        self.stdout.write(f"Artifact: {training_run.artifact_path}")
