"""A/B experiments from the command line: create, show, evaluate (once or in a loop, as
the periodic job), advance, roll back, stop (the kill switch)."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from curation.exceptions import AssayError
from curation.management.cli import add_user_argument, command_user, project_from_ref
from curation.permissions import Action
from serving.models import Experiment
from serving.services.experiments import (
    experiment_advance,
    experiment_create,
    experiment_evaluate,
    experiment_rollback,
    experiment_stop,
)

ACTIONS = ("create", "show", "evaluate", "advance", "rollback", "stop")


def _variant(raw: str, index: int) -> dict:
    name, sep, weight = raw.partition(":")
    if not sep:
        raise CommandError(f"Variant {index + 1}: expected DEPLOYMENT:WEIGHT, got '{raw}'.")
    try:
        return {"deployment": name, "weight": float(weight)}
    except ValueError as exc:
        raise CommandError(f"Variant {index + 1}: weight '{weight}' is not a number.") from exc


def _guardrail(raw: str) -> dict:
    metric, _, tolerance = raw.partition(":")
    try:
        return {"metric": metric, "tolerance": float(tolerance or 0)}
    except ValueError as exc:
        raise CommandError(f"Guardrail '{raw}': tolerance must be a number.") from exc


class Command(BaseCommand):
    help = (
        "serving_experiment create PROJECT --name N --variant CHAMPION:0.9 --variant "
        "CHALLENGER:0.1 --primary thumbs [--rollout 50,100] [--guardrail latency_ms:50] | "
        "show|evaluate|advance|rollback|stop NAME | evaluate --all [--loop --interval 60]"
    )

    def add_arguments(self, parser):
        add_user_argument(parser)
        parser.add_argument("action", choices=ACTIONS)
        parser.add_argument("target", nargs="?", help="PROJECT (create) or experiment name.")
        parser.add_argument("--name")
        parser.add_argument("--variant", action="append", default=[], metavar="DEPLOYMENT:WEIGHT")
        parser.add_argument("--primary", help="Primary metric, e.g. thumbs or event:resolved.")
        parser.add_argument("--lower-is-better", action="store_true")
        parser.add_argument("--guardrail", action="append", default=[], metavar="METRIC:TOL")
        parser.add_argument("--rollout", default="", help="Challenger shares, e.g. 50,100.")
        parser.add_argument("--min-units", type=int, default=100)
        parser.add_argument("--minimum-effect", type=float, default=0.05)
        parser.add_argument("--manual", action="store_true", help="No automatic rollout/back.")
        parser.add_argument("--reason", default="")
        parser.add_argument("--all", action="store_true", help="evaluate: every running one.")
        parser.add_argument("--loop", action="store_true", help="evaluate: repeat forever.")
        parser.add_argument("--interval", type=int, default=60, help="Seconds between loops.")

    def handle(self, *args, **options):
        if options["action"] == "evaluate" and options["all"]:
            self._evaluate_all(options)  # the periodic job: acts as "experiment automation"
            return
        user = command_user(options.get("user"))
        try:
            if options["action"] == "create":
                self._create(user, options)
            else:
                self._act(user, options)
        except AssayError as exc:
            raise CommandError(str(exc)) from exc

    def _create(self, user, options) -> None:
        if not options["target"] or not options["name"] or not options["primary"]:
            raise CommandError("create needs PROJECT, --name and --primary.")
        project = project_from_ref(options["target"], user=user, action=Action.SERVE)
        steps = [s for s in options["rollout"].split(",") if s.strip()]
        try:
            rollout = [float(s) for s in steps]
        except ValueError as exc:
            raise CommandError(f"--rollout takes numbers, got '{options['rollout']}'.") from exc
        experiment = experiment_create(
            project=project,
            name=options["name"],
            variants=[_variant(raw, i) for i, raw in enumerate(options["variant"])],
            primary_metric=options["primary"],
            primary_higher_is_better=not options["lower_is_better"],
            guardrails=[_guardrail(raw) for raw in options["guardrail"]],
            min_units=options["min_units"],
            minimum_effect=options["minimum_effect"],
            rollout_steps=rollout,
            auto_advance=not options["manual"],
            user=user,
        )
        self.stdout.write(f"Experiment '{experiment.name}' is running (id {experiment.pk}).")

    def _experiment(self, user, name: str | None, action: Action) -> Experiment:
        experiment = Experiment.objects.filter(name=name or "").first()
        if experiment is None:
            raise CommandError(f"No experiment named '{name}'.")
        project_from_ref(str(experiment.project_id), user=user, action=action)
        return experiment

    def _act(self, user, options) -> None:
        action = options["action"]
        need = Action.VIEW if action == "show" else Action.SERVE
        experiment = self._experiment(user, options["target"], need)
        if action in ("show", "evaluate"):
            from serving.selectors.analysis import experiment_analysis

            if action == "evaluate":
                analysis = experiment_evaluate(experiment=experiment, user=user)
            else:
                analysis = experiment_analysis(experiment)
            experiment.refresh_from_db()
            self._report(experiment, analysis)
            return
        service = {"advance": experiment_advance, "rollback": experiment_rollback,
                   "stop": experiment_stop}[action]  # fmt: skip
        experiment = service(experiment=experiment, user=user, reason=options["reason"])
        self.stdout.write(f"'{experiment.name}': {experiment.status}, step {experiment.phase}.")

    def _report(self, experiment: Experiment, analysis: dict) -> None:
        self.stdout.write(f"{experiment.name}: {experiment.status}, step {experiment.phase}")
        self.stdout.write(f"  units per variant: {analysis['units']}")
        srm = analysis["srm"]
        self.stdout.write(
            f"  sample ratio: p = {srm['p_value']:.4g}{' MISMATCH' if srm['mismatch'] else ''}"
        )
        for comparison in analysis["comparisons"]:
            seq = comparison["primary"]["sequential"]
            self.stdout.write(
                f"  {comparison['deployment']}: difference {seq['difference']}, always-valid "
                f"interval [{seq['cs_low']}, {seq['cs_high']}], p = {seq['p_value']}"
            )
        verdict = analysis["verdict"]
        self.stdout.write(f"  verdict: {verdict['action']} — {verdict['reason']}")

    def _evaluate_all(self, options) -> None:
        """Evaluate every running experiment, once or every ``--interval`` seconds. In the
        loop a database that is not ready yet is reported and tried again next time."""
        try:
            while True:
                try:
                    self._evaluate_running()
                except DatabaseError as exc:
                    if not options["loop"]:
                        raise CommandError(f"Cannot read the experiments: {exc}") from exc
                    self.stderr.write(f"Cannot read the experiments yet: {exc}")
                if not options["loop"]:
                    return
                time.sleep(max(1, options["interval"]))
        except KeyboardInterrupt:
            return  # stopped by assay_serve or Ctrl+C

    def _evaluate_running(self) -> None:
        for experiment in Experiment.objects.filter(status=Experiment.Status.RUNNING):
            try:
                analysis = experiment_evaluate(experiment=experiment)
            except AssayError as exc:
                self.stderr.write(f"{experiment.name}: {exc}")
                continue
            experiment.refresh_from_db()
            self.stdout.write(
                f"{experiment.name}: {analysis['verdict']['action']} ({experiment.status})"
            )
