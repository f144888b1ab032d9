"""Text embeddings for drift: the bundled MiniLM (default), or a hashing vectorizer that
needs no model (fast, for tests and tiny deployments)."""

from collections.abc import Sequence

import numpy as np


def hashed_embeddings(texts: Sequence[str], *, features: int = 256) -> np.ndarray:
    """Word and character n-gram counts hashed into ``features`` columns, L2-normalised."""
    from sklearn.feature_extraction.text import HashingVectorizer

    vectorizer = HashingVectorizer(
        n_features=features, analyzer="char_wb", ngram_range=(2, 4), alternate_sign=False
    )
    return vectorizer.transform([text or "" for text in texts]).toarray()


def text_embeddings(texts: Sequence[str], *, kind: str = "minilm") -> np.ndarray:
    """Embeddings of ``texts`` by ``kind``: ``minilm`` (all-MiniLM-L6-v2, mean-pooled) or
    ``hashing``."""
    if kind == "hashing":
        return hashed_embeddings(texts)
    if kind != "minilm":
        raise ValueError(f"Unknown embedding kind '{kind}': use 'minilm' or 'hashing'.")
    from curation.quality.core.label_issues import sentence_embeddings

    return sentence_embeddings(list(texts))
