"""Blind human preference between the fine-tuned and the base model (pure Python).

A study takes test prompts with both systems' responses, shows each pair to annotators as
"Response A" and "Response B" (which side is the fine-tuned one is drawn per item with a
seeded generator and never leaves Assay), and reads back one vote per annotation: A
better, B better, or about the same. Unblinded, the votes give:

- the **preference rate**: the share of decided votes (ties left out, counted apart) that
  prefer the fine-tuned response, with a 95% Wilson interval and a two-sided sign test
  (exact binomial against 50%);
- the same per item, by **majority**: an item goes to the side more of its annotators
  preferred (tie votes abstain; equal counts make the item a tie).

Votes on one item are not independent, so when any item has several annotators the
verdict is taken from the per-item majorities; with one vote per item both agree.
"""

import math
import random
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import asdict, dataclass
from xml.sax.saxutils import quoteattr

SIDES = ("a", "b")
CHOICES = ("a", "b", "tie")
OUTCOMES = ("tuned", "base", "tie")
ALPHA = 0.05
Z_95 = 1.959963984540054

PREFERENCE_CONTROL = "preference"
ITEM_KEY = "assay_preference_item"
# The words annotators see, and the vote each stands for.
CHOICE_LABELS = {"a": "A is better", "b": "B is better", "tie": "About the same"}


class PreferenceError(ValueError):
    """A study cannot be made from what the run holds, or its options are wrong."""


@dataclass(frozen=True)
class PairSample:
    """One test prompt with both systems' responses (as the run's evaluation kept them)."""

    index: int
    prompt: str
    tuned: str
    base: str
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class BlindItem:
    """What annotators see (prompt, A, B) and what only Assay knows (``tuned_side``)."""

    index: int
    prompt: str
    output_a: str
    output_b: str
    tuned_side: str

    def task_data(self, number: int) -> dict:
        """The Label Studio task: the pair and a neutral key, nothing naming a system."""
        return {
            "prompt": self.prompt,
            "response_a": self.output_a,
            "response_b": self.output_b,
            ITEM_KEY: number,
        }


def comparison_pairs(comparison: dict | None, *, task_type: str) -> list[PairSample]:
    """The prompt/response pairs a generation run's final comparison stored; raises
    `PreferenceError` saying why there are none (classification, unfinished, an old run)."""
    if task_type != "generation":
        raise PreferenceError(
            "Blind preference compares generated text; a classification run's outputs are "
            "labels, so compare its metrics instead."
        )
    if not comparison or not comparison.get("systems"):
        raise PreferenceError("This run has no test-split comparison yet; wait until it finishes.")
    prompts = comparison.get("sample_prompts")
    if not prompts:
        raise PreferenceError(
            "This run's evaluation did not store the test prompts with its samples (it ran "
            "before they were kept), so a blind comparison is not available: re-run the "
            "training to evaluate it again."
        )
    systems = comparison["systems"]
    tuned, base = systems["fine_tuned"]["samples"], systems["base"]["samples"]
    references = comparison.get("sample_references") or [[] for _ in prompts]
    n = min(len(prompts), len(tuned), len(base))
    return [PairSample(i, prompts[i], tuned[i], base[i], tuple(references[i])) for i in range(n)]


def blind_assign(
    pairs: Sequence[PairSample], *, sample_size: int, seed: int
) -> tuple[list[BlindItem], int]:
    """Draw ``sample_size`` pairs and hide which side is the fine-tuned response.

    Pairs whose two responses are the same text are left out (there is nothing to prefer);
    their count is returned beside the items. The sides are balanced (half of the items
    put the fine-tuned response first, the odd one drawn) and shuffled, so each item's
    side is random; the same pairs and seed always give the same study.
    """
    if sample_size < 1:
        raise PreferenceError(f"The sample size must be at least 1, not {sample_size}.")
    different = [p for p in pairs if p.tuned.strip() != p.base.strip()]
    identical = len(pairs) - len(different)
    if not different:
        raise PreferenceError(
            f"All {len(pairs)} stored test outputs of the fine-tuned and the base model are "
            "identical: there is nothing to prefer."
        )
    if sample_size > len(different):
        raise PreferenceError(
            f"The run holds {len(different)} test prompts whose two responses differ "
            f"({identical} identical left out); ask for at most {len(different)}, "
            f"not {sample_size}."
        )
    rng = random.Random(seed)
    chosen = sorted(rng.sample(different, sample_size), key=lambda p: p.index)
    sides = ["a", "b"] * (sample_size // 2)
    if sample_size % 2:
        sides.append(rng.choice(SIDES))
    rng.shuffle(sides)
    items = [
        BlindItem(
            index=pair.index,
            prompt=pair.prompt,
            output_a=pair.tuned if side == "a" else pair.base,
            output_b=pair.base if side == "a" else pair.tuned,
            tuned_side=side,
        )
        for pair, side in zip(chosen, sides, strict=True)
    ]
    return items, identical


def unblind(choice: str, tuned_side: str) -> str:
    """A vote ('a', 'b', 'tie') as 'tuned', 'base' or 'tie'."""
    if choice not in CHOICES:
        raise PreferenceError(f"Unknown vote '{choice}'; expected one of {', '.join(CHOICES)}.")
    if tuned_side not in SIDES:
        raise PreferenceError(f"Unknown side '{tuned_side}'; expected 'a' or 'b'.")
    if choice == "tie":
        return "tie"
    return "tuned" if choice == tuned_side else "base"


# -- the labelling interface ---------------------------------------------------------------


def preference_label_config() -> str:
    """The Label Studio interface: the prompt, the two responses side by side, one choice."""
    choices = "\n".join(
        f"    <Choice value={quoteattr(label)}/>" for label in CHOICE_LABELS.values()
    )
    return f"""<View>
  <Header value="Prompt"/>
  <Text name="prompt" value="$prompt"/>
  <View style="display: flex; gap: 1em;">
    <View style="flex: 1;">
      <Header value="Response A"/>
      <Text name="response_a" value="$response_a"/>
    </View>
    <View style="flex: 1;">
      <Header value="Response B"/>
      <Text name="response_b" value="$response_b"/>
    </View>
  </View>
  <Header value="Which response is better?"/>
  <Choices name="{PREFERENCE_CONTROL}" toName="prompt" choice="single-radio" required="true">
{choices}
  </Choices>
</View>"""


def vote_from_result(result: Sequence[dict]) -> str | None:
    """The vote ('a', 'b', 'tie') an annotation result holds, or None when it holds none."""
    by_label = {label: choice for choice, label in CHOICE_LABELS.items()}
    for region in result:
        if region.get("from_name") != PREFERENCE_CONTROL:
            continue
        for value in (region.get("value") or {}).get("choices") or []:
            if value in by_label:
                return by_label[value]
    return None


# -- statistics ----------------------------------------------------------------------------


def wilson_interval(successes: int, trials: int, *, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95% by default)."""
    if trials < 1:
        raise PreferenceError("A proportion needs at least one trial.")
    if not 0 <= successes <= trials:
        raise PreferenceError(f"{successes} successes out of {trials} trials is impossible.")
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def sign_test(successes: int, trials: int) -> float:
    """Two-sided exact binomial test of ``successes`` against a 50% rate."""
    from scipy.stats import binomtest

    return float(binomtest(successes, trials, 0.5, alternative="two-sided").pvalue)


@dataclass(frozen=True)
class Tally:
    """Tuned-better, base-better and tie counts with the rate among the decided ones."""

    tuned: int
    base: int
    ties: int
    rate: float | None
    low: float | None
    high: float | None
    p_value: float | None

    @property
    def decided(self) -> int:
        return self.tuned + self.base

    @property
    def total(self) -> int:
        return self.decided + self.ties

    @classmethod
    def of(cls, counts: Counter) -> "Tally":
        tuned, base, ties = counts["tuned"], counts["base"], counts["tie"]
        decided = tuned + base
        if not decided:
            return cls(tuned, base, ties, None, None, None, None)
        low, high = wilson_interval(tuned, decided)
        return cls(tuned, base, ties, tuned / decided, low, high, sign_test(tuned, decided))

    def as_dict(self) -> dict:
        return {**asdict(self), "decided": self.decided, "total": self.total}


@dataclass(frozen=True)
class PreferenceStats:
    """Vote-level and item-level tallies, and the verdict in plain words."""

    votes: Tally
    items: Tally
    basis: str  # "votes" or "items": which tally the verdict rests on
    verdict: str

    def as_dict(self) -> dict:
        return {
            "votes": self.votes.as_dict(),
            "items": self.items.as_dict(),
            "basis": self.basis,
            "verdict": self.verdict,
        }


def item_majority(outcomes: Iterable[str]) -> str:
    """An item's outcome: the side more of its annotators preferred; ties abstain, and
    equal counts make the item a tie."""
    counts = Counter(outcomes)
    if counts["tuned"] > counts["base"]:
        return "tuned"
    if counts["base"] > counts["tuned"]:
        return "base"
    return "tie"


def preference_stats(outcomes: Iterable[tuple[Hashable, str]]) -> PreferenceStats:
    """Statistics of unblinded votes, given as (item key, 'tuned' | 'base' | 'tie')."""
    by_item: dict[Hashable, list[str]] = defaultdict(list)
    for item, outcome in outcomes:
        if outcome not in OUTCOMES:
            raise PreferenceError(f"Unknown outcome '{outcome}'; expected {', '.join(OUTCOMES)}.")
        by_item[item].append(outcome)
    votes = Tally.of(Counter(o for values in by_item.values() for o in values))
    items = Tally.of(Counter(item_majority(values) for values in by_item.values()))
    several = any(len(values) > 1 for values in by_item.values())
    basis = "items" if several else "votes"
    return PreferenceStats(votes, items, basis, _verdict(items if several else votes, basis))


def _percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def _verdict(tally: Tally, basis: str) -> str:
    if tally.total == 0:
        return "No votes yet."
    if tally.rate is None:
        unit = "items are ties by majority" if basis == "items" else "votes are ties"
        return f"No preference either way: all {tally.total} {unit}."
    assert tally.low is not None and tally.high is not None and tally.p_value is not None
    won = (
        f"won the majority on {tally.tuned} of {tally.decided} decided items"
        if basis == "items"
        else f"won {tally.tuned} of {tally.decided} decided votes"
    )
    figures = (
        f"the fine-tuned response {won} ({_percent(tally.rate)}, 95% CI "
        f"{_percent(tally.low)}–{_percent(tally.high)}; {tally.ties} ties), "
        f"sign test p = {tally.p_value:.3g}"
    )
    if tally.p_value < ALPHA:
        winner = "fine-tuned" if tally.rate > 0.5 else "base"
        return f"Annotators prefer the {winner} model: {figures}."
    return f"No significant preference: {figures}; more votes would narrow the interval."
