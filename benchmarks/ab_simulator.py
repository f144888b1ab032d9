"""A/B simulator: error rates of Assay's experiment statistics on simulated experiments.

    .venv/bin/python benchmarks/ab_simulator.py [--experiments 2000] [--seed 0] [--output PATH]

Three questions, each on a binary metric (thumbs-up, 20% base rate) and a skewed continuous
one (log-normal per-unit values, mean 10, sd 4):

1. False positives on A/A experiments (no effect), 2,000 units each, looked at after every
   100 units: the always-valid mSPRT (watched after every unit) against the plain t / z test
   peeked at every look and stopped at the first p < 0.05, with the same test read once at
   the end as the anchor (about 5% by construction).
2. Power at a stated lift (binary 20% -> 23%, continuous +0.3) and 6,000 units (the
   fixed-horizon test's planned 80% power): fixed horizon against the mSPRT, the mSPRT's
   median units to a decision, and its power if allowed twice the units.
3. Sample-ratio mismatch: a 50/50 split losing 3% of treatment units, at several sizes, and
   the check's false alarms on correct splits, including a 10% -> 50% rollout checked per
   phase (and, wrongly, pooled against the final split).

Every setting, including the mSPRT's mixing scale (``DEFAULT_TAU_IN_SD`` = 0.1 sd) and
burn-in, is fixed in ``SETTINGS`` before the reported run; nothing is tuned on it.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.pipeline import machine_info, results_write  # noqa: E402
from serving.core.simulation import (  # noqa: E402
    CONTINUOUS_MEAN,
    CONTINUOUS_SD,
    METRIC_KINDS,
    monitor_experiment,
    simulate_experiment,
    srm_counts,
)
from serving.core.statistics import (  # noqa: E402
    DEFAULT_BURN_IN,
    DEFAULT_TAU_IN_SD,
    power_at,
    srm_check,
    srm_check_phased,
)

DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "ab_simulator.json"
SPLIT = {"control": 0.5, "treatment": 0.5}
SETTINGS = {
    "alpha": 0.05,
    "look_every_units": 100,
    "null_units": 2000,
    "power_units": 6000,
    "long_horizon_units": 12000,
    "binary_base_rate": 0.20,
    "lift": {"binary": 0.03, "continuous": 0.3},
    "continuous_metric": {
        "distribution": "lognormal",
        "mean": CONTINUOUS_MEAN,
        "sd": CONTINUOUS_SD,
    },
    "msprt_tau": f"{DEFAULT_TAU_IN_SD} x pooled sd at each prefix (library default)",
    "msprt_burn_in_units_per_arm": DEFAULT_BURN_IN,
    "srm_threshold": 0.001,
    "srm_units": [10_000, 50_000, 100_000, 200_000],
    "srm_treatment_loss": 0.03,
    "rollout_phases": [[0.9, 0.1], [0.5, 0.5]],
    "tuning": (
        "none: tau, burn-in, lifts and sizes were fixed before this run (the defaults were "
        "chosen on a pilot with other seeds); every row uses fresh seeded experiments"
    ),
}


def rate(flags: list[bool]) -> dict:
    """Share of True with its Monte-Carlo standard error."""
    share = sum(flags) / len(flags)
    return {
        "rate": round(share, 4),
        "mc_se": round((share * (1 - share) / len(flags)) ** 0.5, 4),
        "runs": len(flags),
    }


def run_seed(seed: int, *path: int) -> np.random.Generator:
    """An independent stream per (scenario, metric kind, run): rows never share experiments."""
    return np.random.default_rng([seed, *path])


def null_scenario(kind: str, *, experiments: int, seed: int) -> dict:
    """False-positive rates on A/A experiments under the three ways of reading them."""
    index = METRIC_KINDS.index(kind)
    runs = []
    for run in range(experiments):
        rng = run_seed(seed, 1, index, run)
        experiment = simulate_experiment(kind, SETTINGS["null_units"], seed=rng)
        runs.append(
            monitor_experiment(
                kind, experiment, every=SETTINGS["look_every_units"], alpha=SETTINGS["alpha"]
            )
        )
    procedures = ("fixed_horizon", "naive_peeking", "msprt")
    return {name: rate([run[name] for run in runs]) for name in procedures}


def stopping(runs: list[dict], horizon: int) -> dict:
    """The mSPRT's units to a decision: median among experiments it decided, and the mean
    units an experiment runs when it stops at the decision or at the horizon."""
    decided = [run["msprt_units_to_decision"] for run in runs if run["msprt_units_to_decision"]]
    used = [run["msprt_units_to_decision"] or horizon for run in runs]
    return {
        "median_units_to_decision": statistics.median(decided) if decided else None,
        "mean_units_used": round(statistics.fmean(used)),
    }


def power_scenario(kind: str, *, experiments: int, seed: int) -> dict:
    """Power at the stated lift: the fixed-horizon test at its planned size against the mSPRT
    watched over the same units, and the mSPRT given twice as many."""
    lift, index = SETTINGS["lift"][kind], METRIC_KINDS.index(kind)
    result = {}
    for label, units, scenario in (
        ("planned", SETTINGS["power_units"], 2),
        ("long", SETTINGS["long_horizon_units"], 3),
    ):
        runs = [
            monitor_experiment(
                kind,
                simulate_experiment(
                    kind,
                    units,
                    lift=lift,
                    base_rate=SETTINGS["binary_base_rate"],
                    seed=run_seed(seed, scenario, index, run),
                ),
                every=SETTINGS["look_every_units"],
                alpha=SETTINGS["alpha"],
                peek=False,
            )
            for run in range(experiments)
        ]
        result[label] = {
            "units": units,
            "fixed_horizon": rate([run["fixed_horizon"] for run in runs]),
            "msprt": rate([run["msprt"] for run in runs]),
            **stopping(runs, units),
        }
    baseline, sd = (
        (SETTINGS["binary_base_rate"], None)
        if kind == "binary"
        else (CONTINUOUS_MEAN, CONTINUOUS_SD)
    )
    result["lift"] = lift
    result["formula_power_fixed_horizon"] = round(
        power_at(n_per_arm=SETTINGS["power_units"] // 2, baseline=baseline, effect=lift, sd=sd), 4
    )
    return result


def srm_scenario(*, experiments: int, seed: int) -> dict:
    """Detection of a 3% treatment loss and false alarms on correct splits, by size."""
    loss = {"treatment": SETTINGS["srm_treatment_loss"]}
    threshold = SETTINGS["srm_threshold"]
    by_size = {}
    for size in SETTINGS["srm_units"]:
        caught = [
            srm_check(
                srm_counts(size, shares=SPLIT, loss=loss, seed=run_seed(seed, 4, size, run)),
                SPLIT,
                threshold=threshold,
            ).mismatch
            for run in range(experiments)
        ]
        alarms = [
            srm_check(
                srm_counts(size, shares=SPLIT, seed=run_seed(seed, 5, size, run)),
                SPLIT,
                threshold=threshold,
            ).mismatch
            for run in range(experiments)
        ]
        by_size[str(size)] = {"detection": rate(caught), "false_alarm": rate(alarms)}
    return {"by_units": by_size, "rollout": rollout_scenario(experiments=experiments, seed=seed)}


def rollout_scenario(*, experiments: int, seed: int) -> dict:
    """A correct 10% -> 50% rollout (20,000 then 80,000 units): checked per phase, and pooled
    against the final 50/50 split (the mistake the phased check exists to avoid); and the
    same rollout losing 3% of treatment units in the second phase."""
    first, second = ({"control": a, "treatment": b} for a, b in SETTINGS["rollout_phases"])
    threshold = SETTINGS["srm_threshold"]
    phased, pooled, caught = [], [], []
    for run in range(experiments):
        rng = run_seed(seed, 6, run)
        early, late = (
            srm_counts(20_000, shares=first, seed=rng),
            srm_counts(80_000, shares=second, seed=rng),
        )
        phased.append(
            srm_check_phased([(early, first), (late, second)], threshold=threshold).mismatch
        )
        total = {name: early[name] + late[name] for name in early}
        pooled.append(srm_check(total, second, threshold=threshold).mismatch)
        lossy = srm_counts(
            80_000, shares=second, loss={"treatment": SETTINGS["srm_treatment_loss"]}, seed=rng
        )
        caught.append(
            srm_check_phased([(early, first), (lossy, second)], threshold=threshold).mismatch
        )
    return {
        "phased_false_alarm": rate(phased),
        "pooled_against_final_split_false_alarm": rate(pooled),
        "phased_detection_3pct_loss": rate(caught),
    }


def percent(entry: dict) -> str:
    return f"{100 * entry['rate']:5.1f}%"


def print_table(result: dict) -> None:
    settings, fpr, power = result["settings"], result["false_positive_rate"], result["power"]
    print(f"\nA/B simulator: {result['experiments']:,} experiments per cell, seed {result['seed']}")
    print(f"{'':<58}{'binary':>10}{'continuous':>12}")
    print(f"False positives, A/A, {settings['null_units']:,} units, looks every 100:")
    rows = [
        ("fixed horizon, read once (anchor)", "fixed_horizon"),
        ("t / z test peeked every 100 units", "naive_peeking"),
        ("mSPRT, watched after every unit", "msprt"),
    ]
    for label, key in rows:
        print(
            f"  {label:<56}{percent(fpr['binary'][key]):>10}{percent(fpr['continuous'][key]):>12}"
        )
    print("Power, binary 20% -> 23%, continuous +0.3 (mean 10, sd 4):")
    for horizon in ("planned", "long"):
        units = power["binary"][horizon]["units"]
        for label, key in (("fixed horizon", "fixed_horizon"), ("mSPRT", "msprt")):
            cells = [percent(power[kind][horizon][key]) for kind in METRIC_KINDS]
            print(f"  {label + f' at {units:,} units':<56}{cells[0]:>10}{cells[1]:>12}")
        medians = [power[kind][horizon]["median_units_to_decision"] for kind in METRIC_KINDS]
        label = f"  mSPRT median units to decision (of {units:,})"
        print(f"{label:<58}{medians[0]:>10,.0f}{medians[1]:>12,.0f}")
    print(f"SRM check (p < {settings['srm_threshold']}), 50/50 split, 3% of treatment lost:")
    print(f"  {'units':<28}{'detection':>14}{'false alarms (fair split)':>28}")
    for size, entry in result["srm"]["by_units"].items():
        detection, alarm = percent(entry["detection"]), percent(entry["false_alarm"])
        print(f"  {int(size):<28,}{detection:>14}{alarm:>28}")
    rollout = result["srm"]["rollout"]
    print(
        "  10% -> 50% rollout, 100,000 units: false alarms checked per phase "
        f"{percent(rollout['phased_false_alarm']).strip()}, pooled against 50/50 "
        f"{percent(rollout['pooled_against_final_split_false_alarm']).strip()}; "
        f"3% loss caught {percent(rollout['phased_detection_3pct_loss']).strip()}"
    )
    print(f"{result['seconds']:.0f} s")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=2000, help="per scenario and metric")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    runs = {"experiments": args.experiments, "seed": args.seed}
    fpr, power = {}, {}
    for kind in METRIC_KINDS:
        print(f"{kind}: A/A experiments ...", flush=True)
        fpr[kind] = null_scenario(kind, **runs)
        print(f"{kind}: experiments with a lift ...", flush=True)
        power[kind] = power_scenario(kind, **runs)
    print("sample-ratio mismatch ...", flush=True)
    srm = srm_scenario(**runs)
    result = {
        "benchmark": "ab_simulator",
        **runs,
        "settings": SETTINGS,
        "false_positive_rate": fpr,
        "power": power,
        "srm": srm,
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine_info(),
    }
    print_table(result)
    results_write(args.output, result)
    return result


if __name__ == "__main__":
    main()
