"""The YouTube benchmark's logic on a slice: test labels never enter Assay, and both models
are scored on the test rows."""

import pytest

from benchmarks import youtube_spam_weak_supervision as bench
from curation.models import Example, LabelOrigin


@pytest.mark.slow
def test_benchmark_on_a_slice(shared_data, db, tmp_path):
    rows = bench.load_rows(shared_data / "youtube_spam")
    assert len(rows) == 1956 and sum(r["split"] == "test" for r in rows) == 250
    part = (
        rows[:150]
        + [r for r in rows if r["dev"]][:60]
        + [r for r in rows if r["split"] == "test"][:60]
    )
    part = list({r["key"]: r for r in part}.values())
    result = bench.run_in_assay(part, tmp_path, bench.LABELING_FUNCTIONS)

    test_keys = {r["key"] for r in part if r["split"] == "test"}
    assert result["test_examples"] == len(test_keys) == 60
    assert result["dev_examples"] == sum(r["dev"] for r in part)
    human = set(
        Example.objects.filter(resolved_label_origin=LabelOrigin.IMPORT).values_list(
            "external_id", flat=True
        )
    )
    assert not human & test_keys  # test labels stay outside Assay
    assert set(result["test_accuracy"]) == {"majority_vote", "label_model"}
    assert all(0.5 < value <= 1.0 for value in result["test_accuracy"].values())
    assert result["chosen_test_accuracy"] == result["test_accuracy"][result["chosen"]]
