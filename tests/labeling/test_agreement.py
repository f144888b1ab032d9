"""Agreement and consensus against hand-computed examples."""

import pytest

from labeling.core.agreement import (
    Rating,
    agreement_report,
    fleiss_kappa,
    majority_consensus,
)

# Three annotators, four messages. By hand:
#   consensus: m1 spam (3/3), m2 spam (2/3), m3 ham (3/3), m4 ham (2/3)
#   Fleiss: P_i = 1, 1/3, 1, 1/3 -> P = 2/3; p(spam) = p(ham) = 1/2 -> Pe = 1/2; kappa = 1/3
#   Cohen A-B: po 3/4, pe 1/2 -> 0.5; A-C: po 3/4, pe 1/2 -> 0.5; B-C: po 1/2, pe 3/8 -> 0.2
TABLE = {
    "a@x": ["spam", "spam", "ham", "ham"],
    "b@x": ["spam", "ham", "ham", "ham"],
    "c@x": ["spam", "spam", "ham", "spam"],
}


def _ratings(lead=None):
    return [
        Rating(item=f"m{i + 1}", annotator=who, value=value, order=i, lead_time_seconds=lead)
        for who, values in TABLE.items()
        for i, value in enumerate(values)
    ]


def test_project_agreement_matches_the_hand_computation():
    report = agreement_report(_ratings())

    assert report.fleiss_kappa == pytest.approx(1 / 3)
    kappas = {p.annotators: p.kappa for p in report.pairs}
    assert kappas == {
        ("a@x", "b@x"): pytest.approx(0.5),
        ("a@x", "c@x"): pytest.approx(0.5),
        ("b@x", "c@x"): pytest.approx(0.2),
    }
    assert report.mean_pairwise_kappa == pytest.approx(0.4)
    assert (report.items_rated, report.items_multi_rated) == (4, 4)


def test_per_annotator_agreement_matches_the_hand_computation():
    rows = {row.annotator: row for row in agreement_report(_ratings(lead=3.0)).annotators}

    assert rows["a@x"].kappa == pytest.approx(0.5)
    assert rows["b@x"].kappa == pytest.approx(0.35)
    assert rows["c@x"].kappa == pytest.approx(0.35)
    assert [rows[n].consensus_rate for n in ("a@x", "b@x", "c@x")] == [1.0, 0.75, 0.75]
    assert {row.labels for row in rows.values()} == {4}
    assert rows["a@x"].median_lead_time_seconds == 3.0


def test_consensus_is_the_majority_with_its_share():
    by_item = {}
    for rating in _ratings():
        by_item.setdefault(rating.item, []).append(rating)
    found = {item: majority_consensus(rs) for item, rs in by_item.items()}
    assert [(c.value, round(c.agreement, 4)) for c in found.values()] == [
        ("spam", 1.0),
        ("spam", 0.6667),
        ("ham", 1.0),
        ("ham", 0.6667),
    ]


def test_a_tie_goes_to_the_most_recent_rating():
    ratings = [Rating("m", "a", "spam", order=2), Rating("m", "b", "ham", order=5)]
    assert majority_consensus(ratings).value == "ham"
    assert majority_consensus(ratings).agreement == 0.5


def test_fleiss_kappa_of_the_textbook_example():
    # Fleiss (1971) as reproduced on Wikipedia: 10 subjects, 14 raters, 5 categories,
    # P = 0.378, Pe = 0.213, kappa = 0.210.
    rows = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    counts = [{str(j): n for j, n in enumerate(row) if n} for row in rows]
    assert fleiss_kappa(counts) == pytest.approx(0.210, abs=5e-4)


def test_agreement_is_undefined_rather_than_made_up():
    assert fleiss_kappa([{"spam": 1}]) is None  # nobody rated twice
    assert fleiss_kappa([{"spam": 2}, {"spam": 3}]) is None  # one category only
    report = agreement_report([Rating("m1", "a", "spam"), Rating("m2", "b", "ham")])
    assert report.pairs[0].kappa is None and report.mean_pairwise_kappa is None
