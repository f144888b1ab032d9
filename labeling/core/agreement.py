"""Agreement between annotators, and the consensus label of each item. Pure Python.

Input is a list of `Rating` (who labelled which item how). Measures:

- **consensus** per item: the majority label; ties go to the most recent rating (the same
  rule `curation.services.labels.resolve_label` applies, so consensus and resolved label
  agree), with ``agreement`` = the share of the item's annotators who chose it;
- **Fleiss' kappa** over items rated by two or more annotators, in the form that allows
  a different number of ratings per item (with a constant number it is Fleiss 1971);
- **Cohen's kappa** for every pair of annotators on the items both rated
  (scikit-learn's ``cohen_kappa_score``), and per annotator the mean over their pairs
  weighted by shared items, plus how often they chose the consensus label.
"""

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from statistics import median
from typing import Any

# Pairs sharing fewer items than this get no kappa (it would be noise).
MIN_SHARED_ITEMS = 2


@dataclass(frozen=True)
class Rating:
    item: Any
    annotator: str
    value: str
    order: Any = 0  # anything comparable; the larger, the more recent
    lead_time_seconds: float | None = None


@dataclass(frozen=True)
class Consensus:
    value: str
    agreement: float
    annotator_count: int


@dataclass(frozen=True)
class PairAgreement:
    annotators: tuple[str, str]
    shared_items: int
    kappa: float | None


@dataclass
class AnnotatorAgreement:
    annotator: str
    labels: int = 0
    kappa: float | None = None  # mean pairwise Cohen's kappa, weighted by shared items
    consensus_rate: float | None = None  # share of multi-rated items matching the consensus
    median_lead_time_seconds: float | None = None


@dataclass
class AgreementReport:
    items_rated: int = 0
    items_multi_rated: int = 0
    fleiss_kappa: float | None = None
    mean_pairwise_kappa: float | None = None
    pairs: list[PairAgreement] = field(default_factory=list)
    annotators: list[AnnotatorAgreement] = field(default_factory=list)


def majority_consensus(ratings: list[Rating]) -> Consensus:
    """The majority value among one item's ratings (ties: the most recent rating's value)."""
    if not ratings:
        raise ValueError("majority_consensus needs at least one rating")
    votes = Counter(r.value for r in ratings)
    latest: dict[str, Any] = {}
    for rating in ratings:
        if rating.value not in latest or rating.order > latest[rating.value]:
            latest[rating.value] = rating.order
    value = max(votes, key=lambda v: (votes[v], latest[v]))
    return Consensus(
        value=value, agreement=votes[value] / len(ratings), annotator_count=len(ratings)
    )


def fleiss_kappa(item_counts: list[dict[str, int]]) -> float | None:
    """Fleiss' kappa from per-item category counts; items with fewer than two ratings are
    skipped. None when nothing is left or every rating is the same category (undefined)."""
    items = [counts for counts in item_counts if sum(counts.values()) >= 2]
    if not items:
        return None
    totals: Counter[str] = Counter()
    observed = 0.0
    for counts in items:
        n = sum(counts.values())
        observed += sum(c * (c - 1) for c in counts.values()) / (n * (n - 1))
        totals.update(counts)
    observed /= len(items)
    all_ratings = sum(totals.values())
    expected = sum((count / all_ratings) ** 2 for count in totals.values())
    if math.isclose(expected, 1.0):
        return None
    return (observed - expected) / (1 - expected)


def cohen_kappa(first: list[str], second: list[str]) -> float | None:
    """Cohen's kappa of two aligned label lists; None when undefined (one label only)."""
    from sklearn.metrics import cohen_kappa_score

    if len(set(first) | set(second)) < 2:
        return None
    kappa = float(cohen_kappa_score(first, second))
    return None if math.isnan(kappa) else kappa


def _latest_by_annotator(ratings: list[Rating]) -> dict[str, dict[Any, Rating]]:
    """annotator -> item -> their most recent rating of it."""
    table: dict[str, dict[Any, Rating]] = defaultdict(dict)
    for rating in ratings:
        previous = table[rating.annotator].get(rating.item)
        if previous is None or rating.order >= previous.order:
            table[rating.annotator][rating.item] = rating
    return table


def _pairs(table: dict[str, dict[Any, Rating]]) -> list[PairAgreement]:
    pairs = []
    for a, b in combinations(sorted(table), 2):
        shared = sorted(set(table[a]) & set(table[b]), key=str)
        kappa = None
        if len(shared) >= MIN_SHARED_ITEMS:
            kappa = cohen_kappa(
                [table[a][i].value for i in shared], [table[b][i].value for i in shared]
            )
        pairs.append(PairAgreement(annotators=(a, b), shared_items=len(shared), kappa=kappa))
    return pairs


def _weighted_mean(values: list[tuple[float, int]]) -> float | None:
    weight = sum(w for _, w in values)
    return sum(v * w for v, w in values) / weight if weight else None


def _annotator_rows(
    table: dict[str, dict[Any, Rating]],
    pairs: list[PairAgreement],
    consensus: dict[Any, Consensus],
) -> list[AnnotatorAgreement]:
    rows = []
    for name in sorted(table):
        mine = table[name]
        pair_kappas = [
            (p.kappa, p.shared_items) for p in pairs if name in p.annotators and p.kappa is not None
        ]
        multi = [i for i in mine if consensus[i].annotator_count >= 2]
        matches = sum(mine[i].value == consensus[i].value for i in multi)
        lead_times = [r.lead_time_seconds for r in mine.values() if r.lead_time_seconds is not None]
        rows.append(
            AnnotatorAgreement(
                annotator=name,
                labels=len(mine),
                kappa=_weighted_mean(pair_kappas),
                consensus_rate=matches / len(multi) if multi else None,
                median_lead_time_seconds=median(lead_times) if lead_times else None,
            )
        )
    return rows


def agreement_report(ratings: list[Rating]) -> AgreementReport:
    """Project-level and per-annotator agreement over all ratings."""
    table = _latest_by_annotator(ratings)
    by_item: dict[Any, list[Rating]] = defaultdict(list)
    for per_item in table.values():
        for item, rating in per_item.items():
            by_item[item].append(rating)
    consensus = {item: majority_consensus(rs) for item, rs in by_item.items()}
    pairs = _pairs(table)
    return AgreementReport(
        items_rated=len(by_item),
        items_multi_rated=sum(1 for rs in by_item.values() if len(rs) >= 2),
        fleiss_kappa=fleiss_kappa([Counter(r.value for r in rs) for rs in by_item.values()]),
        mean_pairwise_kappa=_weighted_mean(
            [(p.kappa, p.shared_items) for p in pairs if p.kappa is not None]
        ),
        pairs=pairs,
        annotators=_annotator_rows(table, pairs, consensus),
    )
