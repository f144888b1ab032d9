"""The retraining chain a trigger starts, one step per `loop_tick`:

1. build a draft version from the current curated state and submit it for review;
2. wait: only once a data lead approves the version does anything train on it (a
   rejected version ends the cycle);
3. train with the champion's config (the project's budget may refuse the launch);
4. evaluate the new model against the champion on the new version's test split, with a
   paired bootstrap interval of the difference;
5. if better, deploy it as a challenger and *propose* an experiment; a person with the
   serve permission starts it (`retraining_cycle_experiment_start`). Nothing rolls out.
"""

import numpy as np
from django.db import transaction

from curation.exceptions import AssayError
from curation.models import Project, RunStatus, Split, VersionStatus
from curation.services.audit import audit_record
from loop.models import RetrainingCycle, RetrainingTrigger
from serving.models import Deployment

Status = RetrainingCycle.Status
DERIVED_CONFIG = ("task_type", "labels")


def _champion(project: Project, reason: dict) -> Deployment | None:
    active = Deployment.objects.filter(project=project, status=Deployment.Status.ACTIVE)
    named = active.filter(name=reason.get("deployment", "")).first()
    return named or active.order_by("-created_at").first()


def _audit(cycle: RetrainingCycle, action: str, message: str, **after) -> None:
    audit_record(project=cycle.project, action=f"loop.{action}", target=cycle,
                 after={"status": cycle.status, **after}, message=message)  # fmt: skip


@transaction.atomic
def retraining_cycle_start(
    *, project: Project, trigger: RetrainingTrigger | None, reason: dict
) -> RetrainingCycle:
    """Record why, build a draft version and submit it for the data lead's review."""
    from curation.services.versions import dataset_version_build, dataset_version_submit

    cycle = RetrainingCycle.objects.create(
        project=project, trigger=trigger, reason=reason, champion=_champion(project, reason)
    )
    try:
        version = dataset_version_build(
            project=project, note=f"Retraining cycle {cycle.pk}: {reason.get('rule', '')}"
        )
        version = dataset_version_submit(version=version)
    except AssayError as exc:
        cycle.status, cycle.message = Status.FAILED, f"Could not build a version: {exc}"
        cycle.save(update_fields=["status", "message"])
        return cycle
    cycle.version = version
    cycle.message = f"v{version.number} waits for a data lead's approval."
    cycle.save(update_fields=["version", "message"])
    _audit(cycle, "cycle.start", f"Retraining cycle {cycle.pk} fired: {reason.get('rule', '')}",
           reason=reason, version=version.number)  # fmt: skip
    return cycle


def _set(cycle: RetrainingCycle, status: str, message: str, **fields) -> RetrainingCycle:
    cycle.status, cycle.message = status, message
    for name, value in fields.items():
        setattr(cycle, name, value)
    cycle.save()
    _audit(cycle, "cycle.step", message)
    return cycle


def _launch(cycle: RetrainingCycle) -> RetrainingCycle:
    from training.services.launch import training_run_start

    if cycle.champion is None:
        return _set(cycle, Status.FAILED, "No active deployment to take the config from.")
    values = {k: v for k, v in cycle.champion.training_run.config.items()
              if k not in DERIVED_CONFIG}  # fmt: skip
    try:
        run = training_run_start(version=cycle.version, values=values)
    except AssayError as exc:
        return _set(cycle, Status.FAILED, f"Training was refused: {exc}")
    return _set(cycle, Status.TRAINING, f"Training run {run.pk} on v{cycle.version.number} "
                "with the champion's config.", training_run=run)  # fmt: skip


def _test_split(cycle: RetrainingCycle) -> list[dict]:
    members = cycle.version.members.filter(split=Split.TEST).order_by("pk")
    return [{"fields": m.fields, "label": m.label} for m in members]


def _scores(deployment_spec, project: Project, test: list[dict], decoding: dict) -> np.ndarray:
    """Per-example score of one model on the test split: 1/0 correct for classification,
    ROUGE-L for generation, decoded as that model is served (``decoding``)."""
    from serving.services.engines import builtin_engine, engine_for
    from training.core.decoding import decoding_from_dict
    from training.core.metrics import rouge_l_scores

    first, last = project.content_fields[0], project.content_fields[-1]
    if isinstance(deployment_spec, Deployment):
        engine, name = engine_for(deployment_spec), deployment_spec.name
    else:
        engine, name = builtin_engine(), deployment_spec.name
        engine.load(deployment_spec)
    texts = [str(t["fields"].get(first, "")) for t in test]
    if project.is_classification:
        predicted = [r.label for r in engine.classify(name, texts)]
        return np.array([p == t["label"] for p, t in zip(predicted, test, strict=True)], float)
    # Sampling would make the comparison noisy: compare as served, with sampling off.
    served = decoding_from_dict({**decoding, "temperature": 0.0, "seed": None})
    outputs = [engine.chat(name, [{"role": "user", "content": t}], served).text for t in texts]
    references = [[str(t["fields"].get(last, ""))] for t in test]
    return np.asarray(rouge_l_scores(outputs, references), float).reshape(len(test), -1).mean(1)


def challenger_evaluate(cycle: RetrainingCycle) -> dict:
    """Champion vs the cycle's new model on the new test split, with 95% paired bootstrap
    intervals (`training.core.metrics.bootstrap_interval`)."""
    from serving.core.engine import ModelSpec
    from serving.services.deployments import _model_fields
    from serving.services.engines import builtin_engine
    from training.core.metrics import bootstrap_interval

    project = cycle.project
    test = _test_split(cycle)
    if not test:
        raise AssayError(f"v{cycle.version.number} has no test split to compare on.")
    fields = _model_fields(cycle.training_run)
    spec = ModelSpec(name=f"loop-eval-{cycle.pk}", task_type=fields["task_type"],
                     base_model=fields["base_model"], adapter_path=fields["adapter_path"] or None,
                     labels=tuple(fields["labels"]), max_length=fields["max_length"])  # fmt: skip
    try:
        new = _scores(spec, project, test, fields["decoding"])
    finally:
        builtin_engine().unload(spec.name)
    old = _scores(cycle.champion, project, test, cycle.champion.decoding or {})
    n = len(test)
    metric = "accuracy" if project.is_classification else "rouge_l"

    def interval(values):
        return bootstrap_interval(lambda idx: float(values[idx].mean()), n, samples=500).as_dict()

    return {
        "metric": metric,
        "examples": n,
        "champion": interval(old),
        "challenger": interval(new),
        "difference": interval(new - old),
    }


def _evaluate(cycle: RetrainingCycle) -> RetrainingCycle:
    from serving.services.deployments import deployment_start

    evaluation = challenger_evaluate(cycle)
    difference = evaluation["difference"]
    summary = (
        f"{evaluation['metric']} {evaluation['challenger']['value']:.3f} against the champion's "
        f"{evaluation['champion']['value']:.3f} on {evaluation['examples']} test examples "
        f"(difference {difference['value']:+.3f}, 95% CI {difference['low']:+.3f} to "
        f"{difference['high']:+.3f})"
    )
    if difference["value"] <= 0:
        return _set(cycle, Status.NOT_BETTER, f"Not better: {summary}.", evaluation=evaluation)
    challenger = deployment_start(
        training_run=cycle.training_run, name=f"{cycle.champion.name}-c{cycle.pk}"[:100]
    )
    return _set(cycle, Status.PROPOSED, f"Better: {summary}. Challenger '{challenger.name}' "
                "deployed; an experiment is proposed.", evaluation=evaluation,
                challenger=challenger)  # fmt: skip


def retraining_cycle_advance(*, cycle: RetrainingCycle) -> RetrainingCycle:
    """Take one step when its condition holds; otherwise leave the cycle as it is."""
    cycle = RetrainingCycle.objects.select_related("version", "champion", "training_run").get(
        pk=cycle.pk
    )
    if cycle.status == Status.AWAITING_APPROVAL and cycle.version is not None:
        if cycle.version.status == VersionStatus.APPROVED:
            with transaction.atomic():
                return _launch(cycle)
        if cycle.version.status == VersionStatus.REJECTED:
            return _set(cycle, Status.REJECTED, f"v{cycle.version.number} was rejected.")
    if cycle.status == Status.TRAINING and cycle.training_run is not None:
        run = cycle.training_run.run
        if run is not None and run.status == RunStatus.SUCCEEDED:
            try:
                return _evaluate(cycle)
            except AssayError as exc:
                return _set(cycle, Status.FAILED, f"Evaluation failed: {exc}")
        if run is not None and run.status == RunStatus.FAILED:
            return _set(cycle, Status.FAILED, f"Training run {cycle.training_run.pk} failed.")
    return cycle


@transaction.atomic
def retraining_cycle_experiment_start(*, cycle: RetrainingCycle, user) -> RetrainingCycle:
    """Start the proposed experiment: the champion keeps most traffic, the challenger gets
    the policy's share; no automatic rollout steps."""
    from curation.permissions import Action, require
    from loop.selectors.policy import loop_policy
    from serving.services.experiments import experiment_create

    require(user, cycle.project, Action.SERVE)
    if cycle.status != Status.PROPOSED or cycle.challenger is None:
        raise AssayError(f"Cycle {cycle.pk} has no proposed experiment ({cycle.status}).")
    cycle.challenger.refresh_from_db()
    if not cycle.challenger.is_active:
        raise AssayError(f"Challenger '{cycle.challenger.name}' is {cycle.challenger.status}.")
    share = loop_policy(cycle.project).challenger_share
    experiment = experiment_create(
        project=cycle.project,
        name=f"{cycle.champion.name}-exp-c{cycle.pk}"[:100],
        variants=[{"deployment": cycle.champion.name, "weight": 1 - share},
                  {"deployment": cycle.challenger.name, "weight": share}],
        primary_metric="thumbs",
        auto_advance=False,
        user=user,
    )  # fmt: skip
    return _set(cycle, Status.EXPERIMENT, f"Experiment '{experiment.name}' started.",
                experiment=experiment)  # fmt: skip
