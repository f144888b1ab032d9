"""Deploy a finished training run under a name, started in this process with a progress bar."""

from django.core.management.base import BaseCommand, CommandError

from curation.exceptions import AssayError
from curation.management.cli import add_user_argument, command_user, project_from_ref, run_inline
from curation.permissions import Action
from serving.models import Deployment
from serving.services.deployments import RUN_KIND, deployment_prepare
from training.models import TrainingRun


class Command(BaseCommand):
    help = "Deploy training run RUN as NAME; applications then call it at /v1/ by that name."

    def add_arguments(self, parser):
        add_user_argument(parser)
        parser.add_argument("run", type=int, help="Training run id (see train_list).")
        parser.add_argument("name", help="The model name applications ask for.")
        parser.add_argument("--engine", choices=Deployment.Engine.values, default="builtin")
        decoding = parser.add_argument_group("decoding (default: as the run was evaluated)")
        decoding.add_argument("--num-beams", type=int, help="Beam search width (1 = greedy).")
        decoding.add_argument("--length-penalty", type=float, help="Beam search length penalty.")
        decoding.add_argument("--temperature", type=float, help="0 = no sampling; >0 samples.")
        decoding.add_argument("--top-p", type=float, help="Sampling: nucleus mass in (0, 1].")

    def handle(self, *args, **options):
        user = command_user(options.get("user"))
        training_run = (
            TrainingRun.objects.select_related("run", "project").filter(pk=options["run"]).first()
        )
        if training_run is None:
            raise CommandError(f"No training run {options['run']}.")
        project_from_ref(str(training_run.project_id), user=user, action=Action.SERVE)
        try:
            deployment = deployment_prepare(
                training_run=training_run,
                name=options["name"],
                engine=options["engine"],
                decoding={
                    name: options[name]
                    for name in ("num_beams", "length_penalty", "temperature", "top_p")
                    if options[name] is not None
                },
                created_by=user,
            )
        except AssayError as exc:
            raise CommandError(str(exc)) from exc
        run_inline(
            kind=RUN_KIND,
            target=deployment,
            project=deployment.project,
            params={"deployment_id": deployment.pk},
            created_by=user,
            quiet=options["verbosity"] == 0,
        )
        deployment.refresh_from_db()
        self.stdout.write(
            f"Deployed run {training_run.pk} as '{deployment.name}' ({deployment.engine}, "
            f"{deployment.status}, {deployment.decoding_description}). Call it: POST "
            f"/v1/chat/completions or /v1/classifications "
            f"with model='{deployment.name}' and an application key (serving_app create)."
        )
