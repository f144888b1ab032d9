"""Drift and live-health statistics, pure numpy / scipy / scikit-learn (no Django).

Every function compares a *current* window of production traffic with a *reference*: the
training version's own examples. Data first, options keyword-only, plain results.
"""

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

TOKEN = re.compile(r"[a-z0-9']+")
REFUSAL = re.compile(
    r"\b(i can(?:no|')t|i am unable|i'm unable|i won't|as an ai|i'm sorry|i am sorry)\b", re.I
)


@dataclass(frozen=True)
class Metric:
    """A monitored number: its default alert threshold and which side of it is bad."""

    name: str
    title: str
    threshold: float
    bad_when: str  # "above" or "below"
    low: float = 0.0
    high: float = math.inf


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("length_ks", "Input length drift (KS statistic)", 0.3, "above", 0, 1),
        Metric("oov_rate", "Out-of-vocabulary rate", 0.3, "above", 0, 1),
        Metric("embedding_auc", "Embedding drift (domain-classifier AUC)", 0.8, "above", 0, 1),
        Metric("label_tvd", "Output label drift (total variation)", 0.3, "above", 0, 1),
        Metric("output_length_ks", "Output length drift (KS statistic)", 0.3, "above", 0, 1),
        Metric("refusal_rate", "Refusal rate", 0.2, "above", 0, 1),
        Metric("prompt_overlap", "Overlap of answer with prompt", 1.0, "above", 0, 1),
        Metric("negative_feedback_rate", "Negative feedback rate", 0.3, "above", 0, 1),
        Metric("correction_rate", "Correction rate", 0.2, "above", 0, 1),
        Metric("error_rate", "Error rate", 0.05, "above", 0, 1),
        Metric("latency_p95_ms", "Latency p95 (ms)", 5000.0, "above", 0),
    )
}


class ThresholdError(ValueError):
    """A threshold that names no metric or lies outside the metric's range."""


def check_thresholds(values: Mapping[str, object]) -> dict[str, float]:
    """Validated ``{metric: threshold}``; raises ThresholdError naming the bad entry."""
    cleaned = {}
    for name, value in values.items():
        metric = METRICS.get(name)
        if metric is None:
            raise ThresholdError(f"Unknown metric '{name}'; known: {', '.join(sorted(METRICS))}.")
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise ThresholdError(f"The threshold of '{name}' must be a number; got {value!r}.")
        if not metric.low <= value <= metric.high:
            upper = "" if metric.high == math.inf else f" and {metric.high:g}"
            raise ThresholdError(
                f"The threshold of '{name}' must lie between {metric.low:g}{upper}; got {value}."
            )
        cleaned[name] = float(value)
    return cleaned


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text.casefold())


def ks_drift(reference: Sequence[float], current: Sequence[float]) -> dict:
    """Two-sample Kolmogorov–Smirnov statistic and p-value."""
    from scipy.stats import ks_2samp

    if len(reference) == 0 or len(current) == 0:
        return {"statistic": 0.0, "p_value": 1.0}
    result = ks_2samp(np.asarray(reference, float), np.asarray(current, float))
    return {"statistic": float(result.statistic), "p_value": float(result.pvalue)}


def oov_rate(reference_texts: Sequence[str], current_texts: Sequence[str]) -> dict:
    """Share of the current tokens never seen in the reference texts."""
    vocabulary = {token for text in reference_texts for token in tokens(text)}
    current = [token for text in current_texts for token in tokens(text)]
    unseen = sum(token not in vocabulary for token in current)
    return {"rate": unseen / len(current) if current else 0.0, "vocabulary": len(vocabulary)}


def label_drift(reference: Mapping[str, int], current: Mapping[str, int]) -> dict:
    """Total variation distance between two label distributions, with a chi-square test
    of the current counts against the reference shares."""
    from scipy.stats import chisquare

    labels = sorted(set(reference) | set(current))
    ref = np.array([reference.get(label, 0) for label in labels], float)
    cur = np.array([current.get(label, 0) for label in labels], float)
    if ref.sum() == 0 or cur.sum() == 0:
        return {"tvd": 0.0, "p_value": 1.0}
    ref_share, cur_share = ref / ref.sum(), cur / cur.sum()
    tvd = 0.5 * float(np.abs(ref_share - cur_share).sum())
    expected = (ref + 0.5) / (ref + 0.5).sum() * cur.sum()  # smoothed: no zero expectations
    return {"tvd": tvd, "p_value": float(chisquare(cur, expected).pvalue)}


def domain_classifier_auc(
    reference: np.ndarray, current: np.ndarray, *, folds: int = 5, seed: int = 0
) -> float:
    """Cross-validated ROC AUC of a logistic regression telling current from reference
    rows: 0.5 when the two are indistinguishable, near 1 when they drifted apart."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    x = np.vstack([reference, current])
    y = np.r_[np.zeros(len(reference)), np.ones(len(current))]
    folds = min(folds, len(reference), len(current))
    if folds < 2:
        return 0.5
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    model = LogisticRegression(max_iter=1000, C=1.0)
    scores = cross_val_predict(model, x, y, cv=splitter, method="predict_proba")[:, 1]
    return float(roc_auc_score(y, scores))


def mmd_permutation_test(
    reference: np.ndarray, current: np.ndarray, *, permutations: int = 200, seed: int = 0
) -> dict:
    """Squared maximum mean discrepancy (RBF kernel, median-distance bandwidth) and its
    permutation p-value."""
    x = np.vstack([reference, current]).astype(float)
    n = len(reference)
    if n == 0 or len(current) == 0:
        return {"mmd": 0.0, "p_value": 1.0}
    squared = np.sum(x**2, 1)
    distances = np.maximum(squared[:, None] + squared[None, :] - 2 * x @ x.T, 0)
    median = np.median(distances[distances > 0]) if np.any(distances > 0) else 1.0
    kernel = np.exp(-distances / median)

    def statistic(order: np.ndarray) -> float:
        a, b = order[:n], order[n:]
        return float(
            kernel[np.ix_(a, a)].mean() + kernel[np.ix_(b, b)].mean()
            - 2 * kernel[np.ix_(a, b)].mean()
        )  # fmt: skip

    observed = statistic(np.arange(len(x)))
    rng = np.random.default_rng(seed)
    exceed = sum(statistic(rng.permutation(len(x))) >= observed for _ in range(permutations))
    return {"mmd": observed, "p_value": (exceed + 1) / (permutations + 1)}


def refusal_rate(outputs: Sequence[str]) -> float:
    return sum(bool(REFUSAL.search(text)) for text in outputs) / len(outputs) if outputs else 0.0


def prompt_overlap(prompts: Sequence[str], outputs: Sequence[str]) -> float:
    """Mean share of an answer's tokens that also appear in its prompt."""
    shares = []
    for prompt, output in zip(prompts, outputs, strict=True):
        answer = tokens(output)
        if answer:
            seen = set(tokens(prompt))
            shares.append(sum(token in seen for token in answer) / len(answer))
    return float(np.mean(shares)) if shares else 0.0


def wilson_interval(successes: int, n: int, *, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def breaches(values: Mapping[str, float], thresholds: Mapping[str, float]) -> list[dict]:
    """The metrics past their thresholds (defaults from METRICS unless given)."""
    found = []
    for name, value in values.items():
        metric = METRICS.get(name)
        if metric is None or value is None:
            continue
        threshold = thresholds.get(name, metric.threshold)
        bad = value > threshold if metric.bad_when == "above" else value < threshold
        if bad:
            found.append({"metric": name, "value": value, "threshold": threshold})
    return found


def label_counts(labels: Sequence[str]) -> dict[str, int]:
    return dict(Counter(labels))
