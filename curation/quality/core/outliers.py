"""Outliers: texts far from the rest by length (robust z-score of log length) or by
content (an isolation forest over a low-rank TF-IDF projection)."""

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

LENGTH_Z_LIMIT = 3.5
MIN_ROWS_FOR_CONTENT = 20


@dataclass
class Outlier:
    """One unusual text. ``score`` grows with how unusual it is (0..1 for content,
    |z| / 10 capped at 1 for length); ``reasons`` say why in words."""

    index: int
    score: float
    reasons: list[str] = field(default_factory=list)
    length: int = 0


def length_outliers(texts: Sequence[str], *, z_limit: float = LENGTH_Z_LIMIT) -> list[Outlier]:
    """Empty texts, and texts whose log length lies more than ``z_limit`` robust standard
    deviations (median absolute deviation × 1.4826) from the median."""
    lengths = np.array([len(text or "") for text in texts], dtype=float)
    if len(lengths) == 0:
        return []
    logs = np.log1p(lengths)
    median = float(np.median(logs))
    spread = 1.4826 * float(np.median(np.abs(logs - median))) or 1e-9
    found = []
    for i, (length, z) in enumerate(zip(lengths, (logs - median) / spread, strict=True)):
        if length == 0:
            found.append(Outlier(index=i, score=1.0, reasons=["empty text"], length=0))
        elif abs(z) > z_limit:
            word = "long" if z > 0 else "short"
            reason = f"very {word}: {int(length)} characters (z = {z:+.1f})"
            found.append(Outlier(i, min(1.0, abs(z) / 10), [reason], int(length)))
    return found


def content_outliers(
    texts: Sequence[str], *, rate: float = 0.01, seed: int = 0, dimensions: int = 50
) -> list[Outlier]:
    """The ``rate`` share of texts an isolation forest finds easiest to isolate in a
    ``dimensions``-dimensional SVD projection of their word TF-IDF."""
    if len(texts) < MIN_ROWS_FOR_CONTENT:
        return []
    from sklearn.decomposition import TruncatedSVD
    from sklearn.ensemble import IsolationForest
    from sklearn.feature_extraction.text import TfidfVectorizer

    try:
        tfidf = TfidfVectorizer(sublinear_tf=True, min_df=1).fit_transform(texts)
    except ValueError:  # no words at all
        return []
    k = max(1, min(dimensions, tfidf.shape[1] - 1, len(texts) - 1))
    points = TruncatedSVD(n_components=k, random_state=seed).fit_transform(tfidf)
    forest = IsolationForest(contamination=rate, random_state=seed).fit(points)
    raw = -forest.score_samples(points)  # higher = more isolated, in (0, 1]
    flagged = np.flatnonzero(forest.predict(points) == -1)
    return [
        Outlier(int(i), round(float(raw[i]), 4), ["unusual content"], len(texts[i] or ""))
        for i in flagged[np.argsort(-raw[flagged], kind="stable")]
    ]


def find_outliers(texts: Sequence[str], *, rate: float = 0.01, seed: int = 0) -> list[Outlier]:
    """Length and content outliers merged per text, most unusual first."""
    merged: dict[int, Outlier] = {}
    for outlier in [*length_outliers(texts), *content_outliers(texts, rate=rate, seed=seed)]:
        if outlier.index in merged:
            known = merged[outlier.index]
            known.score = max(known.score, outlier.score)
            known.reasons.extend(outlier.reasons)
        else:
            merged[outlier.index] = outlier
    return sorted(merged.values(), key=lambda o: (-o.score, o.index))
