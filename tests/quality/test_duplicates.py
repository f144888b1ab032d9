"""Exact and near duplicates, and duplicates across the splits of a version."""

import random

from curation.quality.core.duplicates import (
    cross_split_clusters,
    exact_duplicate_clusters,
    jaccard,
    near_duplicate_clusters,
    shingles,
)

WORDS = "alpha beta gamma delta river stone cloud paper green orange window music".split()


def random_texts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choices(WORDS, k=40)) for _ in range(n)]


def test_exact_duplicates_ignore_case_and_spacing():
    texts = ["Hello  World", "something else", "hello world", "HELLO WORLD "]
    clusters = exact_duplicate_clusters(texts)
    assert [c.indices for c in clusters] == [(0, 2, 3)]


def test_planted_near_duplicates_are_found_and_nothing_else():
    texts = random_texts(60)
    words = texts[5].split()
    texts.append(" ".join(words[:-1] + ["zebra"]))  # one word changed: index 60
    texts.append(texts[7] + " and one more")  # a few words added: index 61
    clusters = near_duplicate_clusters(texts, threshold=0.8)
    found = {c.indices for c in clusters}
    assert found == {(5, 60), (7, 61)}
    assert all(c.kind == "near" and 0.8 <= c.similarity < 1 for c in clusters)


def test_a_near_cluster_lists_exact_copies_too():
    texts = random_texts(20, seed=3)
    texts.append(texts[4] + " extra")  # 20
    texts.append(texts[4])  # 21, an exact copy of 4
    clusters = near_duplicate_clusters(texts, threshold=0.8)
    assert [c.indices for c in clusters] == [(4, 20, 21)]


def test_jaccard_of_shingles():
    assert jaccard(shingles("a b c d"), shingles("a b c d")) == 1.0
    assert jaccard(shingles("a b c d"), shingles("x y z w")) == 0.0


def test_a_duplicate_in_train_and_test_is_a_leak():
    texts = random_texts(30, seed=5)
    texts.append(texts[2] + " again")  # 30
    splits = ["train"] * 30 + ["test"]
    clusters = near_duplicate_clusters(texts)
    leaks = cross_split_clusters(clusters, splits)
    assert [(c.indices, found) for c, found in leaks] == [((2, 30), ["test", "train"])]
    assert cross_split_clusters(clusters, ["train"] * 31) == []
