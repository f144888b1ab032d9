"""The vectorised applier gives exactly Snorkel PandasLFApplier's label matrix."""

import numpy as np
import pandas as pd
import pytest
from snorkel.labeling import PandasLFApplier

from curation.weak_supervision.core.columns import TextColumn, pattern_is_joinable
from curation.weak_supervision.core.declarative import (
    LFSpecError,
    apply_compiled,
    columns_for,
    compile_spec,
)
from curation.weak_supervision.core.snorkel_bridge import snorkel_lf

EDGE_TEXTS = [
    "Check out my channel",
    "",
    "I LOVE this song",
    "ÄÖÜ STRASSE straße İstanbul",
    "subscribe!!! http://spam.example",
    "check\nout the newline",
    "my",
    "mymy my-song",
    "x" * 60,
    "Ünïcode café naïve résumé",
    "song-song songs",
    "\ufeffmy bom",
    "checkout then out",
    "a\x00b separator inside",
    "  lots   of   spaces  ",
]

SPECS = [
    ("any_words", "keyword", {"keywords": ["my", "subscribe"]}, 1),
    ("substring", "keyword", {"keywords": ["song"], "whole_word": False}, 0),
    (
        "all_case",
        "keyword",
        {"keywords": ["Check", "out"], "mode": "all", "case_sensitive": True},
        1,
    ),
    ("overlapping", "keyword", {"keywords": ["my", "mymy", "my-song"]}, 1),
    ("unicode_kw", "keyword", {"keywords": ["straße", "istanbul", "café"]}, 0),
    ("regex_span", "regex", {"pattern": "check.*out"}, 1),
    ("regex_anchor", "regex", {"pattern": "^i love"}, 0),
    ("regex_negclass", "regex", {"pattern": "[^a]+out"}, 1),
    ("regex_empty", "regex", {"pattern": "x*"}, 1),
    ("regex_lookahead", "regex", {"pattern": r"song(?!s)"}, 0),
    ("regex_end", "regex", {"pattern": r"out$", "case_sensitive": True}, 1),
    ("short", "length", {"unit": "words", "max": 3}, 0),
    ("chars", "length", {"unit": "chars", "min": 10, "max": 30}, 1),
    ("english", "stopword_share", {"min": 0.2}, 0),
]


def _both(texts, specs):
    compiled = [
        compile_spec(name=n, kind=k, params=p, vote=v, fields=["text"]) for n, k, p, v in specs
    ]
    ours = apply_compiled(compiled, columns_for({"text": texts}), len(texts))
    lfs = [snorkel_lf(name=n, kind=k, params=p, vote=v, fields=["text"]) for n, k, p, v in specs]
    theirs = PandasLFApplier(lfs).apply(pd.DataFrame({"text": texts}), progress_bar=False)
    return ours, theirs


def test_matrix_equals_snorkel_on_edge_cases():
    ours, theirs = _both(EDGE_TEXTS, SPECS)
    assert ours.shape == (len(EDGE_TEXTS), len(SPECS))
    assert np.array_equal(ours, theirs)
    # the edge cases actually exercise the rules: every LF both votes and abstains somewhere
    assert all((ours[:, j] >= 0).any() for j in range(len(SPECS)) if SPECS[j][0] != "regex_empty")
    assert all((ours[:, j] < 0).any() for j in range(len(SPECS)) if SPECS[j][0] != "regex_empty")


def test_matrix_equals_snorkel_on_shuffled_random_rows():
    rng = np.random.default_rng(7)
    words = ["my", "song", "check", "out", "Subscribe", "é", "MY", "-", "http", "\n", "plz"]
    texts = [" ".join(rng.choice(words, size=rng.integers(0, 9))) for _ in range(3000)]
    ours, theirs = _both(texts, SPECS)
    assert np.array_equal(ours, theirs)


def test_fields_overlap_matches_snorkel():
    rows = {
        "prompt": ["What is the capital of France?", "", "Name three colours", "hi"],
        "response": ["The capital of France is Paris.", "anything", "Red.", "HI there"],
    }
    specs = [
        ("on_topic", "field_overlap", {"field": "response", "other": "prompt", "min": 0.3}, 0),
        ("off_topic", "field_overlap", {"field": "response", "other": "prompt", "max": 0.0}, 1),
    ]
    fields = ["prompt", "response"]
    compiled = [
        compile_spec(name=n, kind=k, params=p, vote=v, fields=fields) for n, k, p, v in specs
    ]
    ours = apply_compiled(compiled, columns_for(rows), 4)
    lfs = [snorkel_lf(name=n, kind=k, params=p, vote=v, fields=fields) for n, k, p, v in specs]
    theirs = PandasLFApplier(lfs).apply(pd.DataFrame(rows), progress_bar=False)
    assert np.array_equal(ours, theirs)
    assert ours[:, 0].tolist() == [0, -1, -1, 0]  # empty prompt: no overlap to measure
    assert ours[:, 1].tolist() == [-1, -1, 1, -1]


def test_anchors_and_lookarounds_fall_back_to_row_by_row():
    import re

    assert pattern_is_joinable(re.compile(r"\bcheck\b.*out"))
    assert not pattern_is_joinable(re.compile(r"^check"))
    assert not pattern_is_joinable(re.compile(r"song(?!s)"))
    column = TextColumn(["a check", "check b"])
    assert column.search_mask(re.compile("^check"), joinable=False).tolist() == [False, True]


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        ("keyword", {"keywords": []}, "keywords"),
        ("keyword", {"keywords": ["a"], "mode": "some"}, "mode"),
        ("regex", {"pattern": "(unclosed"}, "not a valid regular expression"),
        ("length", {"unit": "chars"}, "min"),
        ("length", {"min": 5, "max": 2}, "larger than"),
        ("length", {"min": "five"}, "must be a number"),
        ("keyword", {"keywords": ["a"], "field": "body"}, "'field' must be one of text"),
        ("telepathy", {}, "Unknown LF kind"),
    ],
)
def test_invalid_specs_name_the_problem(kind, params, message):
    with pytest.raises(LFSpecError, match=message):
        compile_spec(name="x", kind=kind, params=params, vote=0, fields=["text"])
