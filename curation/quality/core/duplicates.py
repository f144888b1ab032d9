"""Exact and near duplicates, and duplicates that straddle the splits of a version.

Exact duplicates share a normalised text (case and whitespace ignored). Near duplicates
are found with MinHash over word shingles and banded locality-sensitive hashing (numpy,
no extra dependency); every candidate pair LSH proposes is confirmed with the exact
Jaccard similarity of the shingle sets, so the threshold means what it says.
"""

import hashlib
import re
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

_WORD = re.compile(r"\w+")
_PRIME = np.uint64(4_294_967_311)  # the first prime above 2**32


@dataclass(frozen=True)
class DuplicateCluster:
    """Indices (into the texts given) of examples that duplicate each other.
    ``similarity`` is the lowest confirmed Jaccard similarity that joined the cluster
    (1.0 for exact duplicates)."""

    indices: tuple[int, ...]
    kind: str  # "exact" or "near"
    similarity: float


def normalised(text: str) -> str:
    return " ".join((text or "").lower().split())


def exact_duplicate_clusters(texts: Sequence[str]) -> list[DuplicateCluster]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, text in enumerate(texts):
        groups[hashlib.sha256(normalised(text).encode()).hexdigest()].append(i)
    return [
        DuplicateCluster(indices=tuple(members), kind="exact", similarity=1.0)
        for members in groups.values()
        if len(members) > 1
    ]


def shingles(text: str, *, size: int = 3) -> set[int]:
    """crc32 hashes of the text's word ``size``-grams (the whole text if it is shorter)."""
    words = _WORD.findall((text or "").lower())
    if len(words) < size:
        return {zlib.crc32(" ".join(words).encode())} if words else set()
    return {
        zlib.crc32(" ".join(words[i : i + size]).encode()) for i in range(len(words) - size + 1)
    }


def minhash_signatures(shingle_sets: Sequence[set[int]], *, num_perm: int, seed: int) -> np.ndarray:
    """(n, num_perm) MinHash signatures under ``num_perm`` seeded universal hash functions."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**31, size=num_perm, dtype=np.uint64)
    b = rng.integers(0, 2**32, size=num_perm, dtype=np.uint64)
    signatures = np.full((len(shingle_sets), num_perm), np.iinfo(np.uint64).max, dtype=np.uint64)
    for row, items in enumerate(shingle_sets):
        if items:
            values = np.fromiter(items, dtype=np.uint64, count=len(items))[:, None]
            signatures[row] = ((values * a + b) % _PRIME).min(axis=0)
    return signatures


def near_duplicate_clusters(
    texts: Sequence[str],
    *,
    threshold: float = 0.8,
    shingle_size: int = 3,
    bands: int = 32,
    rows: int = 4,
    seed: int = 0,
) -> list[DuplicateCluster]:
    """Clusters of texts whose shingle sets have Jaccard similarity >= ``threshold`` with
    another member, excluding clusters that are exact duplicates only."""
    sets = [shingles(text, size=shingle_size) for text in texts]
    representatives = _one_per_exact_group(texts)
    signatures = minhash_signatures(
        [sets[i] for i in representatives], num_perm=bands * rows, seed=seed
    )
    edges = {}
    for i, j in _lsh_candidates(signatures, bands=bands, rows=rows):
        a, b = representatives[i], representatives[j]
        similarity = jaccard(sets[a], sets[b])
        if similarity >= threshold:
            edges[(a, b)] = similarity
    return _clusters_from_edges(edges, texts)


def jaccard(a: set[int], b: set[int]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def _one_per_exact_group(texts: Sequence[str]) -> list[int]:
    seen: dict[str, int] = {}
    for i, text in enumerate(texts):
        seen.setdefault(normalised(text), i)
    return sorted(seen.values())


def _lsh_candidates(signatures: np.ndarray, *, bands: int, rows: int) -> set[tuple[int, int]]:
    candidates: set[tuple[int, int]] = set()
    for band in range(bands):
        buckets: dict[bytes, list[int]] = defaultdict(list)
        chunk = np.ascontiguousarray(signatures[:, band * rows : (band + 1) * rows])
        for i in range(len(chunk)):
            buckets[chunk[i].tobytes()].append(i)
        for members in buckets.values():
            if 1 < len(members) <= 200:  # a bigger bucket is boilerplate, not duplicates
                candidates.update(combinations(members, 2))
    return candidates


def _clusters_from_edges(edges: dict, texts: Sequence[str]) -> list[DuplicateCluster]:
    parent: dict[int, int] = {}

    def root(i: int) -> int:
        while parent.setdefault(i, i) != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in edges:
        parent[root(a)] = root(b)
    members: dict[int, list[int]] = defaultdict(list)
    for i in parent:
        members[root(i)].append(i)
    lowest: dict[int, float] = defaultdict(lambda: 1.0)
    for (a, _), similarity in edges.items():
        lowest[root(a)] = min(lowest[root(a)], similarity)
    exact_mates = _exact_mates(texts, members)
    return [
        DuplicateCluster(
            indices=tuple(sorted(set(group) | exact_mates[key])),
            kind="near",
            similarity=round(lowest[key], 4),
        )
        for key, group in sorted(members.items(), key=lambda item: min(item[1]))
    ]


def _exact_mates(texts: Sequence[str], members: dict[int, list[int]]) -> dict[int, set[int]]:
    """Exact copies of each cluster member, so a near cluster lists every copy."""
    by_text: dict[str, list[int]] = defaultdict(list)
    for i, text in enumerate(texts):
        by_text[normalised(text)].append(i)
    return {
        key: {mate for i in group for mate in by_text[normalised(texts[i])]}
        for key, group in members.items()
    }


def cross_split_clusters(
    clusters: Sequence[DuplicateCluster], splits: Sequence[str]
) -> list[tuple[DuplicateCluster, list[str]]]:
    """The clusters whose members sit in more than one split (a leak), with those splits."""
    leaks = []
    for cluster in clusters:
        found = sorted({splits[i] for i in cluster.indices if splits[i]})
        if len(found) > 1:
            leaks.append((cluster, found))
    return leaks
