"""Synthetic text: built-in augmentation and near-duplicate detection. Pure Python.

Augmentation is deterministic: the same text, method and seed give the same output.
Near duplicates are found on normalised tokens (lower-cased, punctuation stripped):
two texts are near duplicates when the Jaccard similarity of their token sets is at
least ``NEAR_DUPLICATE_THRESHOLD``. An inverted index keeps the comparison to texts that
share a token.
"""

import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

NEAR_DUPLICATE_THRESHOLD = 0.9
METHODS = ("synonym", "template", "drop", "swap")
TOKEN = re.compile(r"[\w']+", re.UNICODE)

# A small built-in thesaurus: enough for paraphrase-style variation without a model.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "good": ("great", "fine", "nice"),
    "great": ("excellent", "good", "superb"),
    "bad": ("poor", "awful", "terrible"),
    "big": ("large", "huge"),
    "small": ("little", "tiny"),
    "buy": ("purchase", "get"),
    "free": ("complimentary", "no-cost"),
    "call": ("phone", "ring"),
    "now": ("today", "right away"),
    "win": ("receive", "claim"),
    "happy": ("glad", "pleased"),
    "quick": ("fast", "rapid"),
    "help": ("assist", "support"),
    "movie": ("film", "picture"),
    "like": ("enjoy", "love"),
    "very": ("really", "extremely"),
    "send": ("text", "forward"),
    "message": ("note", "text"),
    "money": ("cash", "funds"),
    "prize": ("reward", "award"),
}
TEMPLATES = (
    "{text}",
    "Honestly, {text}",
    "{text} Just saying.",
    "To be clear: {text}",
    "FYI {text}",
    "{text} Thanks.",
)


def normalised_tokens(text: str) -> frozenset[str]:
    return frozenset(TOKEN.findall(text.lower()))


def jaccard(first: frozenset[str], second: frozenset[str]) -> float:
    if not first and not second:
        return 1.0
    shared = len(first & second)
    return shared / (len(first) + len(second) - shared)


class NearDuplicateIndex:
    """Reference texts indexed by token; `closest` finds the most similar one."""

    def __init__(self, references: Mapping[object, str]) -> None:
        self.tokens = {key: normalised_tokens(text) for key, text in references.items()}
        self.postings: dict[str, list] = defaultdict(list)
        for key, tokens in self.tokens.items():
            for token in tokens:
                self.postings[token].append(key)

    def closest(self, text: str) -> tuple[object, float] | None:
        """(key, similarity) of the most similar reference sharing a token, or None."""
        tokens = normalised_tokens(text)
        shared = Counter(key for token in tokens for key in self.postings.get(token, ()))
        best = None
        for key, overlap in shared.items():
            other = self.tokens[key]
            score = overlap / (len(tokens) + len(other) - overlap)
            if best is None or score > best[1]:
                best = (key, score)
        return best


def near_duplicates(
    texts: Mapping[object, str],
    references: Mapping[object, str],
    *,
    threshold: float = NEAR_DUPLICATE_THRESHOLD,
) -> dict[object, tuple[object, float]]:
    """For each text, the reference it nearly duplicates (similarity >= threshold)."""
    index = NearDuplicateIndex(references)
    found = {}
    for key, text in texts.items():
        match = index.closest(text)
        if match is not None and match[1] >= threshold:
            found[key] = match
    return found


def augment(text: str, *, method: str, seed: int) -> str:
    """One variant of ``text`` made by ``method`` (see METHODS), seeded."""
    if method not in METHODS:
        raise ValueError(f"unknown augmentation method '{method}'; expected {', '.join(METHODS)}")
    rng = random.Random(f"{seed}:{method}:{text}")
    words = text.split()
    if method == "synonym":
        return " ".join(_synonym(word, rng) for word in words)
    if method == "template":
        templates = [t for t in TEMPLATES if t != "{text}"]
        return rng.choice(templates).format(text=text)
    if method == "drop" and len(words) > 3:
        drop = rng.randrange(len(words))
        return " ".join(word for i, word in enumerate(words) if i != drop)
    if method == "swap" and len(words) > 2:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
        return " ".join(words)
    return text


def _synonym(word: str, rng: random.Random) -> str:
    core = word.strip(".,!?;:").lower()
    choices = SYNONYMS.get(core)
    if not choices or rng.random() < 0.3:
        return word
    replacement = rng.choice(choices)
    if word[:1].isupper():
        replacement = replacement.capitalize()
    return word.replace(word.strip(".,!?;:"), replacement, 1)


def variants(text: str, *, methods: Iterable[str], count: int, seed: int) -> list[tuple[str, str]]:
    """Up to ``count`` distinct (method, text) variants differing from ``text``, trying the
    methods in turn with successive seeds."""
    methods = list(methods)
    found: list[tuple[str, str]] = []
    seen = {text}
    for attempt in range(count * 4):
        method = methods[attempt % len(methods)]
        variant = augment(text, method=method, seed=seed + attempt)
        if variant not in seen:
            seen.add(variant)
            found.append((method, variant))
        if len(found) == count:
            break
    return found
