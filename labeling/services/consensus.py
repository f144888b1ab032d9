"""The annotators' consensus per example, kept beside the resolved label."""

from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction

from curation.models import Label, LabelOrigin
from labeling.core.agreement import Rating, majority_consensus
from labeling.models import Consensus
from labeling.selectors.agreement import annotator_ratings

CHUNK = 900  # stay under SQLite's bound-parameter limit


@transaction.atomic
def consensus_refresh(*, example_ids: Iterable[int]) -> int:
    """Recompute the consensus of these examples from their annotator labels (majority,
    ties to the most recent label: the same value `example_label_resolve` picks); examples
    left without annotator labels lose theirs. Returns how many consensus rows exist now."""
    ids = sorted(set(example_ids))
    made = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        labels = Label.objects.filter(example_id__in=chunk, origin=LabelOrigin.ANNOTATOR)
        by_example: dict[int, list[Rating]] = defaultdict(list)
        for rating in annotator_ratings(labels):
            by_example[rating.item].append(rating)
        Consensus.objects.filter(example_id__in=chunk).delete()
        rows = []
        for example_id, ratings in by_example.items():
            found = majority_consensus(ratings)
            rows.append(
                Consensus(
                    example_id=example_id,
                    value=found.value,
                    agreement=found.agreement,
                    annotator_count=found.annotator_count,
                )
            )
        Consensus.objects.bulk_create(rows)
        made += len(rows)
    return made
