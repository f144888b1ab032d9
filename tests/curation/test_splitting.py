from collections import Counter

from curation.core.splitting import (
    SplitItem,
    assign_splits,
    merge_pins,
    prompt_group,
    split_targets,
)


def test_split_targets_add_up_and_follow_ratios():
    assert split_targets(747, {"train": 0.8, "validation": 0.1, "test": 0.1}) == {
        "train": 597,
        "validation": 75,
        "test": 75,
    }
    assert sum(split_targets(4827, {"train": 0.8, "validation": 0.1, "test": 0.1}).values()) == 4827


def test_duplicates_share_a_split_and_strata_hit_targets():
    # 10 triples of duplicates in stratum "b", the rest single items.
    items = [
        SplitItem(
            key=i,
            group=f"g{i // 3}" if i < 30 else f"g{i}",
            stratum="b" if i < 30 or i % 4 == 0 else "a",
        )
        for i in range(1000)
    ]
    splits = assign_splits(items, seed=7)
    by_group: dict[str, set[str]] = {}
    for item in items:
        by_group.setdefault(item.group, set()).add(splits[item.key])
    assert all(len(s) == 1 for s in by_group.values())
    per_stratum = Counter((item.stratum, splits[item.key]) for item in items)
    for stratum in ("a", "b"):
        n = sum(v for (s, _), v in per_stratum.items() if s == stratum)
        for name, ratio in (("train", 0.8), ("validation", 0.1), ("test", 0.1)):
            assert abs(per_stratum[(stratum, name)] - n * ratio) <= 1


def test_same_seed_same_splits_regardless_of_input_order():
    items = [SplitItem(key=i, group=f"h{i}", stratum=str(i % 3)) for i in range(300)]
    first = assign_splits(items, seed=1)
    assert assign_splits(list(reversed(items)), seed=1) == first
    assert assign_splits(items, seed=2) != first


def test_pinned_groups_keep_their_split():
    items = [SplitItem(key=i, group=f"h{i}") for i in range(100)]
    pinned = {"h0": "test", "h1": "test"}
    splits = assign_splits(items, seed=3, pinned=pinned)
    assert splits[0] == splits[1] == "test"
    assert Counter(splits.values()) == {"train": 80, "validation": 10, "test": 10}


def test_duplicates_with_conflicting_labels_still_share_a_split():
    items = [SplitItem(key=i, group="same", stratum=label) for i, label in enumerate("aab")]
    items += [SplitItem(key=10 + i, group=f"u{i}", stratum="a") for i in range(50)]
    splits = assign_splits(items, seed=0)
    assert splits[0] == splits[1] == splits[2]


def test_a_prompt_is_one_group_whatever_its_response():
    first = prompt_group({"system": "Be brief.", "prompt": "name[Aromi]", "response": "Aromi."})
    other = prompt_group({"system": "Be brief.", "prompt": "name[Aromi]", "response": "Aromi!"})
    assert first == other
    assert prompt_group({"system": "Be long.", "prompt": "name[Aromi]", "response": "A."}) != first
    assert prompt_group({"prompt": " name[Aromi] ", "response": "x"}) == prompt_group(
        {"prompt": "name[Aromi]", "response": "y"}
    )


def test_a_group_a_parent_spread_over_splits_is_pinned_where_it_was_evaluated():
    pairs = [("a", "train"), ("a", "test"), ("a", "train"), ("b", "validation"), ("b", "train")]
    pairs += [("c", "train")]
    assert merge_pins(pairs) == {"a": "test", "b": "validation", "c": "train"}
