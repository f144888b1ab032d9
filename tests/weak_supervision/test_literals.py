"""The literal prefilter never changes which rows a regex LF votes on."""

import re
import sys

import numpy as np
import pytest

from curation.weak_supervision.core.columns import TextColumn
from curation.weak_supervision.core.declarative import apply_compiled, columns_for, compile_spec
from curation.weak_supervision.core.literals import (
    FOLDS_TO_ASCII,
    literal_patterns,
    required_literals,
)


@pytest.mark.parametrize(
    ("pattern", "flags", "expected"),
    [
        ("check.*out", re.I, ["check"]),
        (r"http|www\.|\.com\b", re.I, [".com", "http", "www."]),
        (r"£\s?\d+|\$\s?\d+|\bcash\b", re.I, ["$", "cash", "£"]),
        (r"\b0\d{9,10}\b", re.I, ["0"]),
        ("(?:ab)+cde", 0, ["cde"]),
        ("(?:abcd){2}x", 0, ["abcd"]),
        ("Hello World", 0, ["Hello World"]),
        ("Hello", re.I, ["hello"]),
        ("a|b*", 0, None),  # the second branch can match without any literal
        ("(?:xyz)?q", 0, ["q"]),  # the optional group is not required
        (r"\d+", 0, None),
        ("(?i:abc)d", 0, ["d"]),  # a group with its own flags is left out
        ("caf[ée]", re.I, ["caf"]),
        ("straße", re.I, ["stra"]),  # ß is cased: it breaks the run
        ("x*", 0, None),
        ("ı|ſ", 0, ["ı", "ſ"]),
        ("ı|ſ", re.I, None),
    ],
)
def test_required_literals(pattern, flags, expected):
    assert required_literals(re.compile(pattern, flags)) == expected


def test_folds_to_ascii_lists_every_letter_ignorecase_maps_to_ascii():
    # Brute force over every code point: which non-ASCII characters does IGNORECASE match
    # to an ASCII letter that is not their lower case?
    ascii_letter = re.compile("[a-z]", re.IGNORECASE)
    found = set()
    for code in range(128, sys.maxunicode + 1):
        char = chr(code)
        if ascii_letter.fullmatch(char):
            letters = [c for c in "abcdefghijklmnopqrstuvwxyz" if re.fullmatch(c, char, re.I)]
            if char.lower() not in letters:
                found.add(char)
    assert found == set(FOLDS_TO_ASCII)


FOLDING_TEXTS = [
    "KİSS me",  # dotted capital I: IGNORECASE 'kiss' matches, 'kİss'.lower() does not
    "kıss",  # dotless i
    "ſale now",  # long s
    "\u212aiss",  # Kelvin sign
    "kiss\nme",  # holds the separator
    "Kiss 🎉 emoji row",
    "nothing here",
    "STRASSE",
    "Straße",
    "call 07123456789 now",
    "CALL £100 cash",
    "",
]


@pytest.mark.parametrize(
    "pattern",
    [
        "kiss",
        "sale",
        r"call.*\d+",
        r"\b0\d{9,10}\b",
        r"£\s?\d+|\bcash\b",
        "straße",
        "emoji|me$",
        "ki(?:ss|tten)",
    ],
)
@pytest.mark.parametrize("case_sensitive", [False, True])
def test_prefiltered_regex_gives_the_row_by_row_answer(pattern, case_sensitive):
    compiled = re.compile(pattern, 0 if case_sensitive else re.IGNORECASE)
    lf = compile_spec(
        name="lf",
        kind="regex",
        params={"pattern": pattern, "case_sensitive": case_sensitive},
        vote=1,
        fields=["text"],
    )
    matrix = apply_compiled([lf], columns_for({"text": FOLDING_TEXTS}), len(FOLDING_TEXTS))
    expected = [compiled.search(text) is not None for text in FOLDING_TEXTS]
    assert (matrix[:, 0] == 1).tolist() == expected


def test_ignorecase_folds_reach_rows_whose_lower_case_differs():
    column = TextColumn(FOLDING_TEXTS)
    pattern = re.compile("kiss", re.IGNORECASE)
    mask = column.regex_mask(pattern, prefilter=literal_patterns(["kiss"]))
    assert mask.tolist()[:6] == [True, True, False, True, True, True]


def test_prefilter_matches_plain_search_on_random_text():
    rng = np.random.default_rng(11)
    alphabet = list("abcKSsİıſ\u212a0123 \n£$.éß🎉") + ["http", "www.", "cash", "check", "out"]
    texts = ["".join(rng.choice(alphabet, size=rng.integers(0, 14))) for _ in range(4000)]
    patterns = ["check.*out", r"http|www\.", r"\$\s?\d+|cash", "ks+", r"\b0\d{2}", "ıs|ſk"]
    for case_sensitive in (False, True):
        for source in patterns:
            pattern = re.compile(source, 0 if case_sensitive else re.IGNORECASE)
            # ı and ſ are cased: under IGNORECASE they cannot stand in a literal
            literals = required_literals(pattern) or ["s", "k"]
            mask = TextColumn(texts).regex_mask(pattern, prefilter=literal_patterns(literals))
            expected = [pattern.search(text) is not None for text in texts]
            assert mask.tolist() == expected, source
