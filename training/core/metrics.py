"""Task metrics from real predictions, bootstrap confidence intervals and the verdict.

Classification: accuracy, macro-F1 and AUC-ROC (scikit-learn). Generation: ROUGE-L
(rouge-score, the best F-measure over an example's references) and corpus BLEU
(sacrebleu, multi-reference). Scores are on a 0-1 scale for classification and 0-100 for
generation, as each field usually reports them.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


def classification_metrics(
    y_true: Sequence[int], y_pred: Sequence[int], probabilities: np.ndarray | None = None
) -> dict[str, float | None]:
    """Accuracy and macro-F1 over the classes seen; AUC-ROC from class probabilities
    (one-vs-rest macro for more than two classes), None when only one class is present."""
    from sklearn.metrics import accuracy_score, f1_score

    result: dict[str, float | None] = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "auc_roc": None,
    }
    if probabilities is not None:
        result["auc_roc"] = auc_roc(y_true, probabilities)
    return result


def auc_roc(y_true: Sequence[int], probabilities: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    y_true = np.asarray(y_true)
    probabilities = np.asarray(probabilities, dtype=float)
    present = np.unique(y_true)
    if len(present) < 2:
        return None
    if probabilities.shape[1] == 2:
        return float(roc_auc_score(y_true, probabilities[:, 1]))
    # One-vs-rest over the classes present; renormalise their probabilities.
    sub = probabilities[:, present]
    sub = sub / np.clip(sub.sum(axis=1, keepdims=True), 1e-12, None)
    if len(present) == 2:
        return float(roc_auc_score(y_true == present[1], sub[:, 1]))
    return float(roc_auc_score(y_true, sub, multi_class="ovr", labels=present))


def rouge_l_scores(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> np.ndarray:
    """Per-example ROUGE-L F-measure (×100), the best over the example's references."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    return np.array(
        [
            100 * max(scorer.score(ref, pred)["rougeL"].fmeasure for ref in refs)
            for pred, refs in zip(predictions, references, strict=True)
        ]
    )


def corpus_bleu(
    predictions: Sequence[str], references: Sequence[Sequence[str]], *, lowercase: bool = False
) -> float:
    """Multi-reference corpus BLEU (×100); references may differ in number per example.
    With ``lowercase`` it is mteval-v13a's default, case-insensitive BLEU, the one the E2E
    challenge's script reports."""
    import sacrebleu

    width = max(len(refs) for refs in references)
    # sacrebleu wants one stream per reference position; None marks a missing reference.
    streams = [[refs[i] if i < len(refs) else None for refs in references] for i in range(width)]
    return float(sacrebleu.corpus_bleu(list(predictions), streams, lowercase=lowercase).score)


# The E2E challenge's ROUGE-L (its script runs the MS-COCO caption evaluator): lower-cased
# Penn Treebank tokens with punctuation tokens dropped, LCS precision and recall each the
# best over the references, combined with beta = 1.2.
_PTB_TOKEN = re.compile(
    r"n't\b|'(?:s|re|ve|ll|d|m)\b|[^\W_]+(?:[-&][^\W_]+)*\.?|\S",
    re.IGNORECASE,
)
_PTB_PUNCTUATION = frozenset(".?!,:;-'`\"()[]{}") | {"--", "...", "''", "``"}
_COCO_BETA = 1.2


def ptb_tokens(text: str) -> list[str]:
    """An approximation of the Stanford PTB tokenizer the COCO evaluator calls, lower-cased
    and without punctuation tokens; it matches that tokenizer on the E2E test references."""
    tokens = []
    text = text.lower().replace("n't", " n't").replace("£", "#")  # its currency mapping
    for token in _PTB_TOKEN.findall(text):
        if token.endswith(".") and len(token) > 1:
            token = token[:-1]  # a word's full stop: the tokenizer splits it off, then drops it
        if token not in _PTB_PUNCTUATION:
            tokens.append(token)
    return tokens


def _lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    previous = [0] * (len(b) + 1)
    for token in a:
        current = [0]
        for j, other in enumerate(b):
            current.append(previous[j] + 1 if token == other else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def e2e_rouge_l_scores(
    predictions: Sequence[str], references: Sequence[Sequence[str]]
) -> np.ndarray:
    """Per-example ROUGE-L (×100) as the E2E challenge's script computes it."""
    scores = []
    for prediction, refs in zip(predictions, references, strict=True):
        candidate = ptb_tokens(prediction)
        best_precision = best_recall = 0.0
        for ref in refs:
            tokens = ptb_tokens(ref)
            lcs = _lcs_length(candidate, tokens)
            best_precision = max(best_precision, lcs / max(len(candidate), 1))
            best_recall = max(best_recall, lcs / max(len(tokens), 1))
        if best_precision and best_recall:
            beta2 = _COCO_BETA**2
            f = (1 + beta2) * best_precision * best_recall / (best_recall + beta2 * best_precision)
            scores.append(100 * f)
        else:
            scores.append(0.0)
    return np.array(scores)


def generation_metrics(
    predictions: Sequence[str], references: Sequence[Sequence[str]]
) -> dict[str, float]:
    if not predictions:
        return {"rouge_l": 0.0, "bleu": 0.0}
    return {
        "rouge_l": float(rouge_l_scores(predictions, references).mean()),
        "bleu": corpus_bleu(predictions, references),
    }


@dataclass(frozen=True)
class Interval:
    value: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return {"value": self.value, "low": self.low, "high": self.high}


def bootstrap_interval(
    statistic: Callable[[np.ndarray], float],
    n: int,
    *,
    samples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> Interval:
    """Percentile bootstrap: ``statistic`` is called with the full index range, then with
    ``samples`` resamples (with replacement) of ``n`` indices."""
    rng = np.random.default_rng(seed)
    value = float(statistic(np.arange(n)))
    draws = np.array([statistic(rng.integers(0, n, size=n)) for _ in range(samples)])
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return Interval(value=value, low=float(low), high=float(high))


def verdict(difference: Interval, *, metric: str) -> str:
    """Plain words for a fine-tuned-minus-base interval."""
    if difference.low > 0:
        return (
            f"Fine-tuning helped: {metric} rose by {difference.value:.3g} "
            f"(95% CI {difference.low:.3g} to {difference.high:.3g})."
        )
    if difference.high < 0:
        return (
            f"Fine-tuning hurt: {metric} fell by {-difference.value:.3g} "
            f"(95% CI {difference.low:.3g} to {difference.high:.3g})."
        )
    return (
        f"No clear difference in {metric}: {difference.value:+.3g} "
        f"(95% CI {difference.low:.3g} to {difference.high:.3g} includes 0)."
    )
