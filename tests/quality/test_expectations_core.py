"""The expectation suite run through Great Expectations on small frames."""

import pytest

from curation.exceptions import AssayError
from curation.quality.core.expectations import ExpectationSpec, run_expectations, validate_spec

ROWS = [
    {"text": "a fine text", "label": "ham", "external_id": "1"},
    {"text": "   ", "label": "ham", "external_id": "2"},
    {"text": "write to bob@example.com", "label": "eggs", "external_id": "2"},
    {"text": "call 555-123-4567 now", "label": "spam", "external_id": "4"},
]


@pytest.mark.slow
def test_suite_reports_each_failure_with_counts_and_samples():
    specs = [
        ExpectationSpec("not_empty", "text", key="a"),
        ExpectationSpec("label_in_set", "label", {"labels": ["ham", "spam"]}, key="b"),
        ExpectationSpec("unique_external_id", "external_id", key="c"),
        ExpectationSpec("no_pii", "text", {"patterns": ["email", "phone"]}, key="d"),
        ExpectationSpec("length_between", "text", {"min_length": 1, "max_length": 100}, key="e"),
        ExpectationSpec("not_empty", "prompt", key="f"),
    ]
    by_key = {o.key: o for o in run_expectations(ROWS, specs)}
    assert (by_key["a"].success, by_key["a"].unexpected_rows) == (False, [1])
    assert (by_key["b"].unexpected_count, by_key["b"].sample_values) == (1, ["eggs"])
    assert by_key["c"].unexpected_rows == [1, 2]
    assert by_key["d"].unexpected_rows == [2, 3]
    assert by_key["e"].success and by_key["e"].unexpected_count == 0
    assert not by_key["f"].success and "no column 'prompt'" in by_key["f"].description


def test_bad_rules_are_refused_with_the_reason():
    with pytest.raises(AssayError, match="above the maximum"):
        validate_spec(ExpectationSpec("length_between", params={"min_length": 9, "max_length": 2}))
    with pytest.raises(AssayError, match="not a valid regular expression"):
        validate_spec(ExpectationSpec("not_match_regex", params={"regex": "("}))
    with pytest.raises(AssayError, match="Unknown PII"):
        validate_spec(ExpectationSpec("no_pii", params={"patterns": ["ssn"]}))
    with pytest.raises(AssayError, match="Unknown expectation kind"):
        validate_spec(ExpectationSpec("vibes"))
