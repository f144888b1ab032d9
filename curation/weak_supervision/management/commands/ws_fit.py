"""Apply the LFs, fit majority vote and the label model, and write the better one's labels."""

from django.core.management.base import BaseCommand

from curation.management.cli import add_user_argument, command_user, project_from_ref, run_inline
from curation.permissions import Action


def _percent(value) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


class Command(BaseCommand):
    help = "Apply the labeling functions and fit the label model (writes weak labels)."

    def add_arguments(self, parser) -> None:
        add_user_argument(parser)
        parser.add_argument("project", help="Project id or exact name.")
        parser.add_argument("--quiet", action="store_true", help="No progress bar.")

    def handle(self, *args, **options) -> None:
        project = project_from_ref(
            options["project"], user=command_user(options.get("user")), action=Action.EDIT_DATA
        )
        run = run_inline(
            kind="label_model_fit",
            target=project,
            project=project,
            params={},
            quiet=options["quiet"],
        )
        result = run.result
        self.stdout.write(
            f"Fit {result['fit']} on {result['dev_examples']:,} human-labelled dev examples:\n"
            f"  majority vote  {_percent(result['majority_vote_dev_accuracy'])}\n"
            f"  label model    {_percent(result['label_model_dev_accuracy'])}\n"
            f"Chosen: {result['chosen'].replace('_', ' ')}; "
            f"{result['weak_labels_written']:,} weak labels written, "
            f"{result['low_confidence']:,} below 0.7 confidence."
        )
