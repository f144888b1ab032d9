"""A/B experiments: create, evaluate (and act on the verdict), roll out, roll back, stop.

Every change of the split is a new `ExperimentPhase` and an audit event that carries the
lineage of each variant (deployment, training run, dataset version and its hash).
"""

import json
import math
import secrets
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from curation.exceptions import AssayError
from curation.models import Project
from curation.services.audit import audit_record
from serving.core.assignment import AllocationError, rollout_shares, validate_shares
from serving.core.metrics import LOG_METRICS, MetricError, metric_spec
from serving.models import Deployment, Experiment, ExperimentPhase, Variant
from serving.selectors.analysis import experiment_analysis
from serving.services.deployments import _check_name

SYSTEM_ACTOR = "experiment automation"


def _jsonable(value: Any) -> Any:
    """Plain JSON (NaN and infinities become None: PostgreSQL's jsonb refuses them)."""

    def clean(item):
        if isinstance(item, float) and not math.isfinite(item):
            return None
        if isinstance(item, dict):
            return {str(k): clean(v) for k, v in item.items()}
        if isinstance(item, list | tuple):
            return [clean(v) for v in item]
        return item

    return clean(json.loads(json.dumps(value, default=float)))


def _deployments(project: Project, variants: list[dict]) -> list[tuple[Deployment, float]]:
    if not isinstance(variants, list) or len(variants) < 2:
        raise AssayError("An experiment needs at least two variants: a champion and a challenger.")
    chosen = []
    for index, entry in enumerate(variants):
        name = entry.get("deployment") if isinstance(entry, dict) else None
        deployment = Deployment.objects.filter(project=project, name=name).first()
        if deployment is None:
            raise AssayError(f"variants[{index}]: no deployment '{name}' in {project.name}.")
        if not deployment.is_active:
            raise AssayError(f"variants[{index}]: deployment '{name}' is {deployment.status}.")
        weight = entry.get("weight")
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise AssayError(f"variants[{index}]: 'weight' must be a number.")
        chosen.append((deployment, float(weight)))
    if len({d.pk for d, _ in chosen}) != len(chosen):
        raise AssayError("Each deployment can be in an experiment only once.")
    if len({d.task_type for d, _ in chosen}) != 1:
        raise AssayError(
            "All variants must be of one task type (all generation or all classification)."
        )
    try:
        validate_shares([w for _, w in chosen])
    except AllocationError as exc:
        raise AssayError(str(exc)) from exc
    if chosen[0][1] >= 1:
        raise AssayError("The champion (the first variant) must leave some traffic to challengers.")
    return chosen


def _guardrails(rules: Any) -> list[dict]:
    if not isinstance(rules, list):
        raise AssayError("'guardrails' must be a list of {metric, tolerance, higher_is_better}.")
    cleaned = []
    for index, rule in enumerate(rules):
        if not isinstance(rule, dict):
            raise AssayError(f"guardrails[{index}] must be an object with a 'metric'.")
        try:
            spec = metric_spec(rule.get("metric", ""))
        except MetricError as exc:
            raise AssayError(f"guardrails[{index}]: {exc}") from exc
        tolerance = rule.get("tolerance", 0.0)
        if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or tolerance < 0:
            raise AssayError(f"guardrails[{index}]: 'tolerance' must be a number >= 0.")
        higher = rule.get("higher_is_better", LOG_METRICS.get(spec.name, True))
        cleaned.append(
            {"metric": spec.name, "tolerance": float(tolerance), "higher_is_better": bool(higher)}
        )
    return cleaned


def _rollout(steps: Any, first_share: float) -> list[float]:
    if not isinstance(steps, list):
        raise AssayError("'rollout_steps' must be a list of percentages, e.g. [50, 100].")
    previous = first_share * 100
    cleaned = []
    for step in steps:
        if isinstance(step, bool) or not isinstance(step, int | float):
            raise AssayError(f"Rollout step {step!r} is not a number.")
        if not previous < step <= 100:
            raise AssayError(
                f"Rollout steps must grow from the challengers' start share ({previous:g}%) "
                f"up to 100%; {step:g}% does not."
            )
        cleaned.append(float(step))
        previous = step
    return cleaned


def _lineage(variant: Variant) -> dict:
    run = variant.deployment.training_run
    return {
        "role": variant.role,
        "deployment": variant.deployment.name,
        "training_run": run.pk,
        "dataset_version": run.version.number,
        "version_hash": run.version_hash,
    }


def _phase_weights(experiment: Experiment) -> dict[str, float]:
    return {str(v.pk): v.weight for v in experiment.variants.all()}


@transaction.atomic
def experiment_create(
    *,
    project: Project,
    name: str,
    variants: list[dict],
    primary_metric: str,
    primary_higher_is_better: bool = True,
    guardrails: list[dict] | None = None,
    min_units: int = 100,
    minimum_effect: float = 0.05,
    alpha: float = 0.05,
    rollout_steps: list[float] | None = None,
    auto_advance: bool = True,
    user=None,
) -> Experiment:
    """Start an experiment: the first variant is the champion, the others challengers;
    weights must sum to 1. Bad input raises AssayError and creates nothing."""
    try:
        metric_spec(primary_metric)
    except MetricError as exc:
        raise AssayError(f"primary_metric: {exc}") from exc
    chosen = _deployments(project, variants)
    if not isinstance(min_units, int) or min_units < 2:
        raise AssayError("'min_units' must be a whole number of at least 2 units per variant.")
    if not 0 < alpha < 0.5:
        raise AssayError("'alpha' must be between 0 and 0.5.")
    if not isinstance(minimum_effect, int | float) or minimum_effect <= 0:
        raise AssayError("'minimum_effect' must be a positive number.")
    experiment = Experiment.objects.create(
        project=project,
        name=_check_name(name),
        salt=secrets.token_hex(8),
        primary_metric=primary_metric,
        primary_higher_is_better=primary_higher_is_better,
        guardrails=_guardrails(guardrails or []),
        min_units=min_units,
        minimum_effect=float(minimum_effect),
        alpha=alpha,
        rollout_steps=_rollout(rollout_steps or [], 1 - chosen[0][1]),
        auto_advance=auto_advance,
        created_by=user,
    )
    for position, (deployment, weight) in enumerate(chosen):
        role = Variant.Role.CHAMPION if position == 0 else Variant.Role.CHALLENGER
        Variant.objects.create(
            experiment=experiment,
            deployment=deployment,
            role=role,
            weight=weight,
            position=position,
        )
    ExperimentPhase.objects.create(
        experiment=experiment, number=0, weights=_phase_weights(experiment), reason="start"
    )
    _audit(experiment, user, "experiment.create", f"Experiment '{experiment.name}' started")
    return experiment


def _audit(experiment: Experiment, actor, action: str, message: str, **extra) -> None:
    variants = list(experiment.variants.select_related("deployment__training_run__version"))
    audit_record(
        project=experiment.project,
        actor=actor,
        action=action,
        target=experiment,
        after=_jsonable(
            {
                "status": experiment.status,
                "phase": experiment.phase,
                "weights": {v.deployment.name: v.weight for v in variants},
                "lineage": [_lineage(v) for v in variants],
                **extra,
            }
        ),
        message=message,
    )


def _require_running(experiment: Experiment) -> None:
    if not experiment.is_running:
        raise AssayError(f"Experiment '{experiment.name}' has ended ({experiment.status}).")


def _set_weights(experiment: Experiment, shares: dict[str, float], reason: str) -> None:
    for variant in experiment.variants.all():
        variant.weight = shares.get(str(variant.pk), 0.0)
        variant.save(update_fields=["weight"])
    experiment.phase += 1
    ExperimentPhase.objects.create(
        experiment=experiment,
        number=experiment.phase,
        weights=_phase_weights(experiment),
        reason=reason,
    )


def _end(experiment: Experiment, status: str, reason: str) -> None:
    experiment.status = status
    experiment.ended_at = timezone.now()
    experiment.ended_reason = reason
    experiment.save(update_fields=["status", "ended_at", "ended_reason", "phase"])


def _advance_blocker(experiment: Experiment, analysis: dict) -> str | None:
    """Why the next rollout step may not happen now (None: it may)."""
    if analysis["srm"].get("mismatch"):
        return "the sample ratio does not match the split (SRM); fix the assignment first"
    verdict = analysis["verdict"]
    if verdict["action"] == "roll back":
        return f"a guardrail or the primary metric says roll back: {verdict['reason']}"
    units = analysis["units_this_phase"]
    for variant in experiment.variants.filter(weight__gt=0):
        have = units.get(str(variant.pk), 0)
        if have < experiment.min_units:
            return (
                f"not enough data in this step: {variant.deployment.name} has {have} units, "
                f"the experiment needs {experiment.min_units} per variant"
            )
    return None


@transaction.atomic
def experiment_advance(
    *, experiment: Experiment, user=None, reason: str = "", analysis: dict | None = None
) -> Experiment:
    """The next rollout step: the challengers' share grows to the next percentage; at
    100% the experiment has shipped. Refused (AssayError) without the minimum sample in
    the current step, with a guardrail breached, or with a sample-ratio mismatch."""
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    _require_running(experiment)
    if experiment.phase >= len(experiment.rollout_steps):
        raise AssayError(f"'{experiment.name}' has no further rollout step.")
    analysis = analysis or experiment_analysis(experiment)
    blocker = _advance_blocker(experiment, analysis)
    if blocker:
        raise AssayError(f"Cannot advance '{experiment.name}': {blocker}.")
    step = experiment.rollout_steps[experiment.phase]
    variants = list(experiment.variants.all())
    champion = next(v for v in variants if v.role == Variant.Role.CHAMPION)
    winner = analysis["verdict"].get("variant_id")
    initial = {
        str(v.pk): (1.0 if v.pk == winner or winner is None else 0.0)
        for v in variants
        if v.role == Variant.Role.CHALLENGER
    }
    shares = rollout_shares({**initial, str(champion.pk): 0.0}, str(champion.pk), step / 100)
    reason = reason or analysis["verdict"]["reason"]
    _set_weights(experiment, shares, reason)
    if step >= 100:
        _end(experiment, Experiment.Status.SHIPPED, reason)
        _audit(experiment, user, "experiment.ship", f"'{experiment.name}' shipped: {reason}")
    else:
        experiment.save(update_fields=["phase"])
        _audit(
            experiment, user, "experiment.rollout", f"'{experiment.name}' at {step:g}%: {reason}"
        )
    return experiment


def _champion_only(experiment: Experiment, status: str, reason: str) -> None:
    shares = {
        str(v.pk): (1.0 if v.role == Variant.Role.CHAMPION else 0.0)
        for v in experiment.variants.all()
    }
    _set_weights(experiment, shares, reason)
    _end(experiment, status, reason)


@transaction.atomic
def experiment_rollback(*, experiment: Experiment, user=None, reason: str = "") -> Experiment:
    """Send all traffic back to the champion and end the experiment."""
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    _require_running(experiment)
    reason = reason.strip() or "rolled back by hand"
    _champion_only(experiment, Experiment.Status.ROLLED_BACK, reason)
    _audit(experiment, user, "experiment.rollback", f"'{experiment.name}' rolled back: {reason}")
    return experiment


@transaction.atomic
def experiment_stop(*, experiment: Experiment, user=None, reason: str = "") -> Experiment:
    """The kill switch: at once, every unit gets the champion; the experiment ends."""
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    _require_running(experiment)
    reason = reason.strip() or "kill switch"
    _champion_only(experiment, Experiment.Status.STOPPED, reason)
    _audit(experiment, user, "experiment.stop", f"'{experiment.name}' stopped: {reason}")
    return experiment


def experiment_evaluate(*, experiment: Experiment, user=None) -> dict:
    """Analyse the experiment, store the analysis, and act when it is automatic: roll
    back on a breached guardrail (or a significantly worse primary), take the next
    rollout step when the verdict and the minimum sample allow it."""
    analysis = experiment_analysis(experiment)
    Experiment.objects.filter(pk=experiment.pk).update(
        last_analysis=_jsonable(analysis), last_evaluated_at=timezone.now()
    )
    experiment.refresh_from_db()
    if not experiment.is_running or not experiment.auto_advance:
        return analysis
    verdict = analysis["verdict"]
    actor = user or SYSTEM_ACTOR
    if verdict["action"] == "roll back":
        experiment_rollback(
            experiment=experiment, user=actor, reason=f"automatic: {verdict['reason']}"
        )
    elif experiment.phase < len(experiment.rollout_steps) and _may_auto_advance(
        experiment, analysis
    ):
        experiment_advance(experiment=experiment, user=actor, analysis=analysis)
    experiment.refresh_from_db()
    return analysis


def _may_auto_advance(experiment: Experiment, analysis: dict) -> bool:
    """The first step needs the primary's "ship"; later steps need the guardrails to
    hold on the minimum sample of the current step."""
    if experiment.phase == 0 and analysis["verdict"]["action"] != "ship":
        return False
    return _advance_blocker(experiment, analysis) is None


def experiment_evaluate_if_due(*, experiment: Experiment) -> dict | None:
    """Evaluate when the last evaluation is older than ``SERVING_EVALUATE_SECONDS``
    (the events API calls this, so verdicts follow the feedback without a busy loop)."""
    interval = getattr(settings, "SERVING_EVALUATE_SECONDS", 30)
    last = experiment.last_evaluated_at
    if last is not None and (timezone.now() - last).total_seconds() < interval:
        return None
    return experiment_evaluate(experiment=experiment)
