"""The readiness report's checks, computed from counts: no Django, no database.

A selector (`curation.selectors.readiness.readiness_inputs`) gathers a `ReadinessInputs`;
`readiness_checks` turns it into `Check` results, each pass / warn / fail with the evidence
that decided it and, when some examples are to blame, up to ``SAMPLE_IDS`` of their ids.
Every warn or fail names the examples behind it: their ids, or example-browser filters
(``link``: a label, a split, a source) that select them.

"Human-labelled" means the resolved label came from an annotator or from an imported
file (origin ``annotator`` or ``import``): an imported label was given by whoever made
the file, not by a model or a labeling function. Generation examples carry no label; for
them an example whose source is not synthetic and not weak counts as human.
"""

from dataclasses import asdict, dataclass, field
from typing import Any

PASS, WARN, FAIL = "pass", "warn", "fail"
SAMPLE_IDS = 50

DEFAULT_THRESHOLDS: dict[str, float] = {
    "min_size": 10_000,  # examples; below: warn
    "min_per_class": 20,  # examples of every class; below: warn, none at all: fail
    "min_human_share": 0.5,  # share of human-labelled examples; below: warn
    "synthetic_cap": 0.30,  # share of synthetic examples; above: fail
    "max_label_issue_rate": 0.05,  # from the quality checks; above: fail
    "max_duplicate_rate": 0.05,  # exact duplicates within the version; above: warn
    "min_class_ratio": 0.1,  # smallest class / largest class; below: warn
    "max_stratification_gap": 0.05,  # a split's label share vs the whole; above: warn
    "min_agreement": 0.8,  # pairwise annotator agreement; below: warn
    "min_agreement_items": 10,  # examples with two or more annotator labels needed
}


@dataclass
class Check:
    name: str
    title: str
    status: str
    evidence: str
    example_ids: list[str] = field(default_factory=list)
    link: dict[str, str] = field(default_factory=dict)  # example-browser filters
    data: dict[str, Any] = field(default_factory=dict)


# Link for a check whose examples are the whole version (its size, a quality check that
# never ran on it): the browser filtered to the version and nothing else.
WHOLE_VERSION: dict[str, str] = {"scope": "version"}
# Link filters to apply to the whole project, not only the version's members.
PROJECT_WIDE: dict[str, str] = {"scope": "project"}


@dataclass
class ReadinessInputs:
    """What the checks look at, for one version. Every count is over the version's members."""

    total: int
    is_classification: bool
    label_set: list[str]
    split_label_counts: dict[str, dict[str, int]]  # split -> label -> members
    human_count: int
    non_human_eval_ids: list[str]  # validation/test members without a human label
    non_human_eval_count: int
    synthetic_count: int
    unreviewed_synthetic_ids: list[str]
    duplicate_count: int  # members beyond the first of each content hash
    cross_split_duplicate_ids: list[str]  # members whose content hash is in another split
    agreement: tuple[int, float] | None  # (examples with 2+ annotator labels, agreement)
    quality: dict[str, Any] | None  # curation.quality's version summary, None if not run
    thresholds: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    feedback_count: int = 0  # members that came from production feedback (accepted)
    unreviewed_feedback_ids: list[str] = field(default_factory=list)
    # feedback members whose input is already in the test split of an earlier version
    feedback_test_leak_ids: list[str] = field(default_factory=list)
    duplicate_ids: list[str] = field(default_factory=list)  # members of exact-copy groups
    non_human_ids: list[str] = field(default_factory=list)  # members without a human label
    disagreement_ids: list[str] = field(default_factory=list)  # annotators disagree on these


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _label_totals(inputs: ReadinessInputs) -> dict[str, int]:
    totals: dict[str, int] = {}
    for labels in inputs.split_label_counts.values():
        for label, count in labels.items():
            totals[label] = totals.get(label, 0) + count
    return totals


def check_size(inputs: ReadinessInputs) -> Check:
    minimum = int(inputs.thresholds["min_size"])
    if inputs.total == 0:
        return Check("size", "Size", FAIL, "The version has no examples.", link=WHOLE_VERSION)
    status = PASS if inputs.total >= minimum else WARN
    evidence = f"{inputs.total:,} examples; the project asks for at least {minimum:,}."
    link = WHOLE_VERSION if status != PASS else {}
    return Check("size", "Size", status, evidence, link=link,
                 data={"total": inputs.total, "min": minimum})  # fmt: skip


def check_per_class(inputs: ReadinessInputs) -> Check | None:
    if not inputs.is_classification:
        return None
    minimum = int(inputs.thresholds["min_per_class"])
    totals = _label_totals(inputs)
    counts = {label: totals.get(label, 0) for label in inputs.label_set}
    missing = [label for label, n in counts.items() if n == 0]
    thin = [label for label, n in counts.items() if 0 < n < minimum]
    shown = ", ".join(f"{label}: {n:,}" for label, n in counts.items())
    if missing:
        status, why = FAIL, f"no examples of {', '.join(missing)}"
    elif thin:
        status, why = WARN, f"fewer than {minimum} of {', '.join(thin)}"
    else:
        status, why = PASS, f"every class has at least {minimum}"
    # The browser filters one label at a time: the thinnest class; for a class missing
    # from the version, the project's examples of it (what a new version could take in).
    link = {"label": min(thin, key=counts.__getitem__)} if thin else {}
    if missing:
        link = {**PROJECT_WIDE, "label": missing[0]}
    evidence = f"{shown} — {why}."
    return Check("per_class", "Examples per class", status, evidence, link=link, data=counts)


def check_human_share(inputs: ReadinessInputs) -> Check:
    minimum = inputs.thresholds["min_human_share"]
    share = _share(inputs.human_count, inputs.total)
    status = PASS if share >= minimum else WARN
    evidence = (
        f"{inputs.human_count:,} of {inputs.total:,} examples ({share:.0%}) are human-labelled "
        f"(annotator or imported label); the threshold is {minimum:.0%}."
    )
    ids = inputs.non_human_ids[:SAMPLE_IDS] if status != PASS else []
    return Check("human_share", "Human-labelled share", status, evidence, example_ids=ids,
                 data={"share": share})  # fmt: skip


def check_eval_human(inputs: ReadinessInputs) -> Check:
    count = inputs.non_human_eval_count
    if count == 0:
        evidence = "Every validation and test example has a human-verified label."
        return Check("eval_human", "Validation and test are human-verified", PASS, evidence)
    evidence = (
        f"{count:,} validation/test examples have no human-verified label: a model would be "
        f"measured against machine labels."
    )
    return Check(
        "eval_human",
        "Validation and test are human-verified",
        FAIL,
        evidence,
        example_ids=inputs.non_human_eval_ids[:SAMPLE_IDS],
    )


def check_synthetic(inputs: ReadinessInputs) -> list[Check]:
    cap = inputs.thresholds["synthetic_cap"]
    share = _share(inputs.synthetic_count, inputs.total)
    unreviewed = inputs.unreviewed_synthetic_ids
    reviewed = Check(
        "synthetic_reviewed",
        "Synthetic examples reviewed",
        FAIL if unreviewed else PASS,
        f"{len(unreviewed):,} synthetic examples are not accepted by a reviewer."
        if unreviewed
        else f"All {inputs.synthetic_count:,} synthetic examples were accepted by a reviewer.",
        example_ids=unreviewed[:SAMPLE_IDS],
    )
    capped = Check(
        "synthetic_share",
        "Synthetic share under the cap",
        FAIL if share > cap else PASS,
        f"{inputs.synthetic_count:,} synthetic examples ({share:.1%}); the cap is {cap:.0%}.",
        link={"source": "synthetic"},
        data={"share": share, "cap": cap},
    )
    return [reviewed, capped]


def check_feedback(inputs: ReadinessInputs) -> Check | None:
    """Production feedback: every one accepted by a reviewer, and none whose input is in
    an earlier version's test split (training on it would flatter that test)."""
    if not inputs.feedback_count and not inputs.unreviewed_feedback_ids:
        return None
    problems = inputs.unreviewed_feedback_ids + inputs.feedback_test_leak_ids
    evidence = f"{inputs.feedback_count:,} feedback examples, all accepted by a reviewer"
    if inputs.unreviewed_feedback_ids:
        evidence = f"{len(inputs.unreviewed_feedback_ids):,} feedback examples are not accepted"
    if inputs.feedback_test_leak_ids:
        evidence += (
            f"; {len(inputs.feedback_test_leak_ids):,} repeat an input of an earlier "
            "version's test split"
        )
    return Check(
        "feedback",
        "Production feedback reviewed, not leaked into a test split",
        FAIL if problems else PASS,
        evidence + ".",
        example_ids=problems[:SAMPLE_IDS],
        link={"source": "feedback"},
        data={"count": inputs.feedback_count, "leaked": len(inputs.feedback_test_leak_ids)},
    )


def check_quality(inputs: ReadinessInputs) -> list[Check]:
    """The quality app's results: the Great Expectations suite and the label-issue rate."""
    quality = inputs.quality
    if quality is None:
        not_run = "The quality checks have not run on this version."
        return [
            Check("expectations", "Expectation suite passed", WARN, not_run, link=WHOLE_VERSION),
            Check("label_issues", "Label-issue rate", WARN, not_run, link=WHOLE_VERSION),
        ]
    checks = []
    passed = quality.get("expectations_passed")
    if passed is None:
        checks.append(
            Check("expectations", "Expectation suite passed", WARN, "Not run.", link=WHOLE_VERSION)
        )
    else:
        status = PASS if passed else FAIL
        evidence = _expectation_evidence(quality, passed)
        ids = [] if passed else _finding_ids(quality, "expectation")
        checks.append(
            Check("expectations", "Expectation suite passed", status, evidence, example_ids=ids)
        )
    rate, limit = quality.get("label_issue_rate"), inputs.thresholds["max_label_issue_rate"]
    if rate is None:
        checks.append(
            Check("label_issues", "Label-issue rate", WARN, "Not run.", link=WHOLE_VERSION)
        )
    else:
        status = PASS if rate <= limit else FAIL
        evidence = (
            f"{rate:.1%} of examples flagged as likely label errors; the limit is {limit:.0%}."
        )
        ids = [str(i) for i in quality.get("label_issue_ids", [])][:SAMPLE_IDS]
        ids = ids or _finding_ids(quality, "label_issue")
        checks.append(Check("label_issues", "Label-issue rate", status, evidence, example_ids=ids))
    return checks


def _finding_ids(quality: dict[str, Any], *kinds: str) -> list[str]:
    """External ids of the examples in the quality check's open findings of ``kinds``."""
    by_kind = quality.get("open_finding_ids") or {}
    ids = [str(i) for kind in kinds for i in by_kind.get(kind, [])]
    return list(dict.fromkeys(ids))[:SAMPLE_IDS]


def _expectation_evidence(quality: dict[str, Any], passed: bool) -> str:
    """Names of failed expectations when given, else the quality app's counts."""
    names = quality.get("failed_expectations") or []
    counts = quality.get("expectations") or {}
    if passed:
        return "Every expectation passed."
    if names:
        return f"Failed: {', '.join(names)}."
    return f"{counts.get('failed', '?')} of {counts.get('total', '?')} expectations failed."


def check_duplicates(inputs: ReadinessInputs) -> list[Check]:
    limit = inputs.thresholds["max_duplicate_rate"]
    rate = _share(inputs.duplicate_count, inputs.total)
    near = (inputs.quality or {}).get("duplicate_rate")
    evidence = (
        f"{inputs.duplicate_count:,} exact duplicates ({rate:.1%}); the limit is {limit:.0%}."
    )
    if near is not None:
        evidence += f" Exact and near duplicates found by the quality checks: {near:.1%}."
        rate = max(rate, near)
    status = PASS if rate <= limit else WARN
    ids: list[str] = []
    if status != PASS:
        near_ids = _finding_ids(inputs.quality or {}, "exact_duplicate", "duplicate")
        ids = list(dict.fromkeys([*inputs.duplicate_ids, *near_ids]))[:SAMPLE_IDS]
    within = Check("duplicate_rate", "Duplicate rate", status, evidence, example_ids=ids)
    leaked = inputs.cross_split_duplicate_ids
    across = Check(
        "cross_split",
        "No duplicate across splits",
        FAIL if leaked else PASS,
        f"{len(leaked):,} examples share their content with an example in another split."
        if leaked
        else "No content appears in two splits.",
        example_ids=leaked[:SAMPLE_IDS],
    )
    return [within, across]


def check_balance(inputs: ReadinessInputs) -> list[Check]:
    if not inputs.is_classification:
        return []
    totals = {k: v for k, v in _label_totals(inputs).items() if k}
    if not totals:
        return []
    ratio = min(totals.values()) / max(totals.values())
    minimum = inputs.thresholds["min_class_ratio"]
    status = PASS if ratio >= minimum else WARN
    balance = Check(
        "class_balance",
        "Class balance",
        status,
        f"Smallest class / largest class = {ratio:.2f}; warn below {minimum:.2f}.",
        link={"label": min(totals, key=totals.__getitem__)} if status != PASS else {},
        data={"ratio": ratio},
    )
    return [balance, _stratification(inputs, totals)]


def _stratification(inputs: ReadinessInputs, totals: dict[str, int]) -> Check:
    whole = sum(totals.values())
    gaps: dict[str, float] = {}
    for split, labels in inputs.split_label_counts.items():
        size = sum(labels.values())
        if not size:
            continue
        gaps[split] = max(
            abs(labels.get(label, 0) / size - count / whole) for label, count in totals.items()
        )
    worst = max(gaps.values(), default=0.0)
    limit = inputs.thresholds["max_stratification_gap"]
    evidence = "Largest gap between a split's label share and the whole version: " + ", ".join(
        f"{split} {gap:.1%}" for split, gap in gaps.items()
    )
    status = PASS if worst <= limit else WARN
    link = {"split": max(gaps, key=gaps.__getitem__)} if status != PASS else {}
    return Check(
        "stratification", "Stratified splits", status, evidence + ".", link=link, data=gaps
    )


def check_agreement(inputs: ReadinessInputs) -> Check:
    title = "Inter-annotator agreement"
    needed = int(inputs.thresholds["min_agreement_items"])
    if inputs.agreement is None or inputs.agreement[0] < needed:
        items = inputs.agreement[0] if inputs.agreement else 0
        evidence = (
            f"Not available: {items} examples have labels from two or more annotators "
            f"({needed} needed)."
        )
        ids = inputs.disagreement_ids[:SAMPLE_IDS]
        # No disagreement to show: the gap is examples without a second annotator label.
        link = {} if ids else WHOLE_VERSION
        return Check("agreement", title, WARN, evidence, example_ids=ids, link=link)
    items, agreement = inputs.agreement
    minimum = inputs.thresholds["min_agreement"]
    evidence = (
        f"Pairwise agreement {agreement:.1%} over {items:,} examples labelled by two or more "
        f"annotators; the threshold is {minimum:.0%}."
    )
    status = PASS if agreement >= minimum else WARN
    ids = inputs.disagreement_ids[:SAMPLE_IDS] if status != PASS else []
    return Check(title=title, name="agreement", status=status, evidence=evidence,
                 example_ids=ids, data={"agreement": agreement, "items": items})  # fmt: skip


def readiness_checks(inputs: ReadinessInputs) -> list[Check]:
    """Every check, in the order the report shows them."""
    checks = [check_size(inputs), check_per_class(inputs), check_human_share(inputs)]
    checks.append(check_eval_human(inputs))
    checks += check_synthetic(inputs)
    checks.append(check_feedback(inputs))
    checks += check_quality(inputs) + check_duplicates(inputs)
    checks += check_balance(inputs)
    checks.append(check_agreement(inputs))
    return [check for check in checks if check is not None]


def pairwise_agreement(label_sets: list[list[str]]) -> tuple[int, float] | None:
    """Share of agreeing annotator pairs over examples with two or more labels:
    (examples counted, agreement); None when no example has two labels."""
    agreeing = pairs = items = 0
    for labels in label_sets:
        if len(labels) < 2:
            continue
        items += 1
        for i, first in enumerate(labels):
            for second in labels[i + 1 :]:
                pairs += 1
                agreeing += first == second
    return (items, agreeing / pairs) if pairs else None


def summarise(checks: list[Check]) -> dict[str, Any]:
    """The report as stored on the version: overall status and every check."""
    statuses = [check.status for check in checks]
    overall = FAIL if FAIL in statuses else WARN if WARN in statuses else PASS
    return {
        "status": overall,
        "counts": {status: statuses.count(status) for status in (PASS, WARN, FAIL)},
        "checks": [asdict(check) for check in checks],
    }
