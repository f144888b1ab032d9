"""An experiment's analysis from its request log and feedback events.

- **Sample ratio**: units are counted in the phase of their first request and compared
  with that phase's split (`srm_check_phased`); a mismatch blocks every verdict.
- **Primary metric**: per challenger against the champion, on the units that entered in
  the first phase (the randomised experiment proper; later phases are rollout): an
  always-valid mSPRT (looking every day never inflates false positives), a fixed-horizon
  comparison for reference, and the sample size needed for the minimum effect. With
  several challengers alpha is split between them (Bonferroni).
- **Guardrails**: on every unit, always-valid, breached when the challenger is worse by
  more than the tolerance.
"""

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from serving.core import statistics
from serving.core.metrics import RequestRow, metric_spec, unit_values
from serving.models import Experiment, FeedbackEvent, RequestLog, Variant


@dataclass
class ExperimentData:
    rows: list[RequestRow]
    events: dict[str, dict[str, float]]
    first_phase: dict[str, int]  # unit -> phase of its first request
    first_seen: dict[str, str]  # unit -> ISO time of its first request


def experiment_data(experiment: Experiment) -> ExperimentData:
    logged = (
        RequestLog.objects.filter(experiment=experiment, variant__isnull=False)
        .order_by("created_at", "id")
        .values_list(
            "request_id", "unit_key", "variant_id", "phase", "latency_ms", "error", "output",
            "completion_tokens", "created_at",
        )
    )  # fmt: skip
    rows, first_phase, first_seen = [], {}, {}
    for rid, unit, variant, phase, latency, error, output, tokens, created in logged:
        text = (output or {}).get("text") or " ".join((output or {}).get("labels") or [])
        rows.append(
            RequestRow(rid, unit, str(variant), phase or 0, latency, bool(error), len(text), tokens)
        )
        first_phase.setdefault(unit, phase or 0)
        first_seen.setdefault(unit, created.isoformat())
    events: dict[str, dict[str, float]] = defaultdict(dict)
    for request_id, name, value in (
        FeedbackEvent.objects.filter(request__experiment=experiment)
        .order_by("created_at", "id")
        .values_list("request__request_id", "name", "value")
    ):
        events[request_id][name] = value  # the latest event of a name counts
    return ExperimentData(rows, dict(events), first_phase, first_seen)


def _srm(experiment: Experiment, data: ExperimentData) -> statistics.SrmResult:
    unit_variant = {}
    for row in data.rows:
        unit_variant.setdefault(row.unit_key, row.variant)
    phases = []
    for phase in experiment.phases.all():
        observed = dict.fromkeys(phase.weights, 0)
        for unit, number in data.first_phase.items():
            if number == phase.number and unit_variant.get(unit) in observed:
                observed[unit_variant[unit]] += 1
        shares = {name: float(share) for name, share in phase.weights.items()}
        live = {name: share for name, share in shares.items() if share > 0}
        if sum(observed.values()):
            phases.append(({n: observed[n] for n in live}, live))
    if not phases:  # nobody assigned yet: nothing to compare
        return statistics.SrmResult(observed={}, expected={}, chi2=0.0, p_value=1.0, mismatch=False)
    return statistics.srm_check_phased(phases)


def _values(experiment, data: ExperimentData, metric: str, *, phase: int | None):
    rows = data.rows
    if phase is not None:
        rows = [r for r in rows if data.first_phase.get(r.unit_key) == phase]
    per_variant = unit_values(metric_spec(metric), rows, data.events)
    return {name: np.asarray(values, dtype=float) for name, values in per_variant.items()}


def _power(control: np.ndarray, experiment: Experiment, binary: bool) -> dict:
    baseline = float(control.mean()) if control.size else 0.0
    sd = None if binary else (float(control.std(ddof=1)) if control.size > 1 else None)
    if not binary and not sd:
        return {"baseline": baseline, "units_per_variant": None}
    if binary and not 0 < baseline < 1:
        return {"baseline": baseline, "units_per_variant": None}
    needed = statistics.sample_size_per_arm(
        baseline=baseline, minimum_effect=experiment.minimum_effect, sd=sd, alpha=experiment.alpha
    )
    return {"baseline": baseline, "units_per_variant": needed, "sd": sd}


def _primary(experiment, data, champion, challenger, alpha) -> dict:
    values = _values(experiment, data, experiment.primary_metric, phase=0)
    control = values.get(str(champion.pk), np.array([]))
    treatment = values.get(str(challenger.pk), np.array([]))
    binary = bool(control.size) and bool(np.isin(control, (0.0, 1.0)).all())
    sequential = statistics.msprt(control, treatment, alpha=alpha)
    fixed = (
        statistics.welch_t(control, treatment, alpha=alpha)
        if min(control.size, treatment.size) >= 2
        else None
    )
    return {
        "sequential": sequential,
        "fixed": fixed.as_dict() if fixed else None,
        "path": statistics.msprt_path(control, treatment, alpha=alpha),
        "power": _power(control, experiment, binary),
    }


def _guardrails(experiment, data, champion, challenger, alpha) -> list:
    results = []
    for rule in experiment.guardrails:
        values = _values(experiment, data, rule["metric"], phase=None)
        results.append(
            statistics.guardrail_check(
                rule["metric"],
                values.get(str(champion.pk), np.array([])),
                values.get(str(challenger.pk), np.array([])),
                higher_is_better=bool(rule.get("higher_is_better", False)),
                tolerance=float(rule.get("tolerance", 0.0)),
                min_units=experiment.min_units,
                alpha=alpha,
            )
        )
    return results


def _units_by_variant(data: ExperimentData, phase: int | None = None) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    seen = set()
    for row in data.rows:
        if row.unit_key in seen:
            continue
        seen.add(row.unit_key)
        if phase is None or data.first_phase.get(row.unit_key) == phase:
            counts[row.variant] += 1
    return dict(counts)


def _assignment_series(data: ExperimentData, variants: list[Variant]) -> list[dict]:
    """Cumulative units per variant at up to 30 points in time, for the chart."""
    order = sorted(data.first_seen.items(), key=lambda item: item[1])
    unit_variant = {}
    for row in data.rows:
        unit_variant.setdefault(row.unit_key, row.variant)
    step = max(1, len(order) // 30)
    counts: dict[str, int] = dict.fromkeys((str(v.pk) for v in variants), 0)
    series = []
    for index, (unit, seen_at) in enumerate(order, start=1):
        counts[unit_variant[unit]] = counts.get(unit_variant[unit], 0) + 1
        if index % step == 0 or index == len(order):
            series.append({"at": seen_at, "units": index, **dict(counts)})
    return series


def experiment_analysis(experiment: Experiment) -> dict:
    """Everything the experiment page, the API and the automatic rollout decide on."""
    variants = list(experiment.variants.select_related("deployment", "deployment__training_run"))
    champion = next(v for v in variants if v.role == Variant.Role.CHAMPION)
    challengers = [v for v in variants if v.role == Variant.Role.CHALLENGER]
    data = experiment_data(experiment)
    alpha = experiment.alpha / max(1, len(challengers))
    srm = _srm(experiment, data)
    comparisons = []
    for challenger in challengers:
        primary = _primary(experiment, data, champion, challenger, alpha)
        guardrails = _guardrails(experiment, data, champion, challenger, alpha)
        verdict = statistics.decide(
            primary=primary["sequential"],
            higher_is_better=experiment.primary_higher_is_better,
            guardrails=guardrails,
            srm=srm,
            min_units=experiment.min_units,
        )
        comparisons.append(
            {
                "variant_id": challenger.pk,
                "deployment": challenger.deployment.name,
                "primary": {**primary, "sequential": primary["sequential"].as_dict()},
                "guardrails": [g.as_dict() for g in guardrails],
                "verdict": {"action": verdict.action, "reason": verdict.reason},
            }
        )
    return {
        "experiment": experiment.name,
        "status": experiment.status,
        "phase": experiment.phase,
        "alpha_per_comparison": alpha,
        "requests": len(data.rows),
        "units": _units_by_variant(data),
        "units_this_phase": _units_by_variant(data, experiment.phase),
        "srm": srm.as_dict(),
        "comparisons": comparisons,
        "assignment_series": _assignment_series(data, variants),
        "verdict": _overall(comparisons),
    }


def _overall(comparisons: list[dict]) -> dict:
    """One action for the experiment: a blocked or roll-back arm wins over the rest; else
    ship the challenger with the clearest win; else keep running."""
    for action in ("blocked", "roll back", "ship"):
        matching = [c for c in comparisons if c["verdict"]["action"] == action]
        if matching:
            best = max(matching, key=lambda c: abs(c["primary"]["sequential"]["difference"] or 0))
            return {**best["verdict"], "variant_id": best["variant_id"]}
    if not comparisons:
        return {"action": "keep running", "reason": "No challenger.", "variant_id": None}
    first = comparisons[0]
    return {**first["verdict"], "variant_id": first["variant_id"]}
