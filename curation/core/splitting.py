"""Deterministic, stratified, leakage-free train/validation/test splits.

Items that share a group always land in the same split: for classification the group is
the content hash, so an exact duplicate can never sit in train and in test at once; for
generation it is the prompt (`prompt_group`), so a prompt answered by several references
(E2E NLG has about nine per meaning representation) is never trained on and tested on.
Within each stratum (the label, for classification) the split sizes hit their targets
exactly whenever the groups allow it: groups are placed largest first, so the many single
items left at the end fill each split to its target. The order within a size is a seeded
hash of the group key: the same items and seed give the same splits on every machine, and
the result does not depend on the order the items came in.
"""

import hashlib
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from curation.core.hashing import content_hash

SPLITS = ("train", "validation", "test")
DEFAULT_RATIOS = {"train": 0.8, "validation": 0.1, "test": 0.1}
RESPONSE_FIELD = "response"
# When a parent version put one group in several splits, the child keeps the one a model
# must not train on: nothing evaluated on before is trained on later.
PIN_PRECEDENCE = ("test", "validation", "train")


@dataclass(frozen=True)
class SplitItem:
    key: Hashable
    group: str
    stratum: str | None = None


def split_targets(count: int, ratios: Mapping[str, float]) -> dict[str, int]:
    """Whole-number split sizes that add up to ``count`` (largest-remainder rounding)."""
    total = sum(ratios[name] for name in SPLITS)
    if total <= 0 or any(ratios[name] < 0 for name in SPLITS):
        raise ValueError(f"split ratios must be non-negative and not all zero: {dict(ratios)}")
    exact = {name: count * ratios[name] / total for name in SPLITS}
    targets = {name: int(exact[name]) for name in SPLITS}
    remainder_order = sorted(SPLITS, key=lambda n: (-(exact[n] - targets[n]), SPLITS.index(n)))
    for name in remainder_order[: count - sum(targets.values())]:
        targets[name] += 1
    return targets


def prompt_group(fields: Mapping[str, Any]) -> str:
    """The split group of a generation example: the hash of every content field but the
    response (the prompt, and the system text where the project has one)."""
    return content_hash({k: str(v) for k, v in fields.items() if k != RESPONSE_FIELD})


def merge_pins(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Group → split from (group, split) pairs of a parent version; a group the parent
    spread over several splits (built before grouping by prompt) is pinned to the one
    earliest in `PIN_PRECEDENCE`."""
    pinned: dict[str, str] = {}
    for group, split in pairs:
        held = pinned.get(group)
        if held is None or PIN_PRECEDENCE.index(split) < PIN_PRECEDENCE.index(held):
            pinned[group] = split
    return pinned


def _seeded_rank(seed: int, group: str) -> str:
    return hashlib.sha256(f"{seed}:{group}".encode()).hexdigest()


def _group_stratum(items: list[SplitItem]) -> str:
    counts = Counter("" if item.stratum is None else item.stratum for item in items)
    return min(counts, key=lambda s: (-counts[s], s))


def assign_splits(
    items: Iterable[SplitItem],
    *,
    seed: int,
    ratios: Mapping[str, float] = DEFAULT_RATIOS,
    pinned: Mapping[str, str] | None = None,
) -> dict[Hashable, str]:
    """Map each item's key to ``train``, ``validation`` or ``test``.

    ``pinned`` maps group keys to the split they must keep (for example the splits of a
    parent version, so an example tested on before is never trained on later).
    """
    pinned = pinned or {}
    groups: dict[str, list[SplitItem]] = defaultdict(list)
    for item in items:
        groups[item.group].append(item)

    strata: dict[str, list[str]] = defaultdict(list)
    for group_key, members in groups.items():
        strata[_group_stratum(members)].append(group_key)

    assignment: dict[Hashable, str] = {}
    for stratum_groups in strata.values():
        size = {g: len(groups[g]) for g in stratum_groups}
        targets = split_targets(sum(size.values()), ratios)
        filled = dict.fromkeys(SPLITS, 0)
        placed: dict[str, str] = {}
        for group_key in stratum_groups:
            if group_key in pinned:
                placed[group_key] = pinned[group_key]
                filled[pinned[group_key]] += size[group_key]
        free = [g for g in stratum_groups if g not in placed]
        free.sort(key=lambda g: (-size[g], _seeded_rank(seed, g)))
        for group_key in free:
            placed[group_key] = _best_split(targets, filled, size[group_key])
            filled[placed[group_key]] += size[group_key]
        for group_key, split in placed.items():
            for item in groups[group_key]:
                assignment[item.key] = split
    return assignment


def _best_split(targets: Mapping[str, int], filled: Mapping[str, int], size: int) -> str:
    """The split with most room left, preferring one the whole group fits in."""

    def room(name: str) -> int:
        return targets[name] - filled[name]

    return max(SPLITS, key=lambda name: (room(name) >= size, room(name), -SPLITS.index(name)))
