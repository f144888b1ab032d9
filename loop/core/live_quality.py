"""Live quality from a labelled sample of logged requests, pure Python and numpy (no
Django): the stratified draw, the reading of a person's reference for a generated answer,
and the metrics with 95% bootstrap intervals.

Classification: accuracy and macro-F1 (over the classes present, as
`training.core.metrics.classification_metrics` computes it) of the model's answers
against the labels people chose. Generation: ROUGE-L (×100, as the training evaluation
reports it) of the answer against the reference people wrote or accepted.
"""

from collections.abc import Hashable, Mapping, Sequence
from datetime import datetime

import numpy as np

from training.core.metrics import bootstrap_interval, rouge_l_scores

BOOTSTRAP_SAMPLES = 1000


def iso_week(moment: datetime) -> str:
    """``2026-W48``: the ISO year and week of ``moment`` (in its own time zone)."""
    year, week, _day = moment.isocalendar()
    return f"{year}-W{week:02d}"


def stratified_draw(
    candidates: Sequence[tuple[Hashable, Hashable]],
    *,
    size: int,
    taken: Mapping[Hashable, int] | None = None,
    seed: int = 0,
) -> list[Hashable]:
    """Keys of ``candidates`` (``(key, stratum)`` pairs) drawn at random without
    replacement, up to ``size`` per stratum less what earlier draws ``taken`` there; a
    stratum with fewer candidates gives them all. Keys come back in candidate order."""
    if size < 1:
        raise ValueError(f"size must be at least 1; got {size}.")
    taken = taken or {}
    by_stratum: dict[Hashable, list[int]] = {}
    for index, (_key, stratum) in enumerate(candidates):
        by_stratum.setdefault(stratum, []).append(index)
    rng = np.random.default_rng(seed)
    chosen: list[int] = []
    for stratum in sorted(by_stratum, key=str):
        indices = by_stratum[stratum]
        wanted = max(0, size - taken.get(stratum, 0))
        if wanted >= len(indices):
            chosen.extend(indices)
        elif wanted:
            chosen.extend(int(i) for i in rng.choice(indices, wanted, replace=False))
    return [candidates[i][0] for i in sorted(chosen)]


def generation_reference(*, verdict: str, corrected: str, output: str) -> str | None:
    """The reference a generation review gives: the person's text when they wrote one
    different from the answer, the answer itself when they accepted it, and None when
    they rejected it without writing a reference (the answer then scores 0)."""
    corrected = corrected.strip()
    if verdict == "accept":
        return corrected or output
    if corrected and corrected != output.strip():
        return corrected
    return None


def macro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Macro-F1 over the classes present in either array (integer class codes)."""
    classes = np.union1d(truth, predicted)
    scores = []
    for c in classes:
        tp = np.sum((truth == c) & (predicted == c))
        fp = np.sum((truth != c) & (predicted == c))
        fn = np.sum((truth == c) & (predicted != c))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return float(np.mean(scores)) if scores else 0.0


def classification_quality(
    predicted: Sequence[str], gold: Sequence[str], *, samples: int = BOOTSTRAP_SAMPLES,
    seed: int = 0,
) -> dict:  # fmt: skip
    """``{"n", "accuracy", "macro_f1"}``, each metric ``{"value", "low", "high"}`` (95%
    percentile bootstrap over the labelled answers)."""
    n = len(gold)
    if n == 0:
        return {"n": 0, "accuracy": None, "macro_f1": None}
    codes = {label: i for i, label in enumerate(sorted(set(gold) | set(predicted)))}
    truth = np.array([codes[g] for g in gold])
    guess = np.array([codes[p] for p in predicted])
    correct = (truth == guess).astype(float)
    return {
        "n": n,
        "accuracy": bootstrap_interval(
            lambda idx: float(correct[idx].mean()), n, samples=samples, seed=seed
        ).as_dict(),
        "macro_f1": bootstrap_interval(
            lambda idx: macro_f1(truth[idx], guess[idx]), n, samples=samples, seed=seed
        ).as_dict(),
    }


def generation_quality(
    outputs: Sequence[str], references: Sequence[str | None], *,
    samples: int = BOOTSTRAP_SAMPLES, seed: int = 0,
) -> dict:  # fmt: skip
    """``{"n", "rouge_l"}``: mean ROUGE-L (×100) of each answer against its reference (0
    where the reference is None: rejected without one), with a 95% bootstrap interval."""
    n = len(outputs)
    if n == 0:
        return {"n": 0, "rouge_l": None}
    scores = np.zeros(n)
    scored = [i for i, ref in enumerate(references) if ref is not None]
    if scored:
        scores[scored] = rouge_l_scores([outputs[i] for i in scored],
                                        [[references[i]] for i in scored])  # fmt: skip
    interval = bootstrap_interval(lambda idx: float(scores[idx].mean()), n, samples=samples,
                                  seed=seed)  # fmt: skip
    return {"n": n, "rouge_l": interval.as_dict()}
