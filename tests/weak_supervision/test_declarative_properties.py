"""Property-based check of the vectorised applier: for generated keyword and regex LFs and
generated texts (emoji, line breaks and the case-folding traps included), its label
matrix is exactly what the row-by-row rules of `declarative` give (`snorkel_bridge.row_rule`).

Runs are seeded (``derandomize``) and bounded so the suite is reproducible; raise
``LF_PROPERTY_EXAMPLES`` locally to search longer.
"""

import os
import re

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curation.weak_supervision.core.declarative import apply_compiled, columns_for, compile_spec
from curation.weak_supervision.core.re2_translation import IGNORECASE_TO_ASCII, re2_plan
from curation.weak_supervision.core.snorkel_bridge import row_rule

PROPERTY = settings(
    max_examples=int(os.environ.get("LF_PROPERTY_EXAMPLES", "60")),
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

WORDS = ["song", "Song", "SONG", "check", "out", "my", "free", "call", "win", "is", "x", "a1"]
TRAPS = [
    "straße", "STRASSE", "ẞ", "İstanbul", "ı", "ﬁnal", "ﬂ", "ΣΟΦΟΣ", "σοφός", "ς",
    "ſong", "\u212aelvin", "ǅ", "café", "cafe\u0301", "naïve", "😀", "👍🏽", "🇬🇧",
]  # fmt: skip
GLUE = st.sampled_from([" ", " ", "", "\n", "\t", ", ", "-", "_", "!", ".", "  ", "\r\n"])
# Mostly the words the LFs are built from, so that rules hold on some rows and not others.
TOKENS = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(WORDS),
    st.sampled_from(TRAPS),
    st.text(min_size=1, max_size=3),
)
TEXT = st.lists(st.tuples(TOKENS, GLUE), max_size=10).map(
    lambda parts: "".join(map("".join, parts))
)
TEXTS = st.lists(TEXT, min_size=1, max_size=40)

KEYWORD = st.fixed_dictionaries(
    {
        "keywords": st.lists(
            st.sampled_from(WORDS + TRAPS + ["check out"]), min_size=1, max_size=3
        ),
        "mode": st.sampled_from(["any", "all"]),
        "case_sensitive": st.booleans(),
        "whole_word": st.booleans(),
    }
)
CLASSES = [r"[a-z]", r"[A-Z]", r"\d", r"\w", r"\s", r"\S", r"[aeiou]", r"[^a-z ]", ".", r"\W"]
ATOM = st.one_of(
    st.sampled_from(WORDS + TRAPS).map(re.escape),
    st.lists(st.sampled_from(WORDS + TRAPS).map(re.escape), min_size=2, max_size=3).map(
        lambda words: "(?:" + "|".join(words) + ")"
    ),
    st.sampled_from(CLASSES),
)
QUANTIFIER = st.sampled_from(["", "", "+", "*", "?", "{1,3}", "{2,}", "+?", "*?", "*+", "{0,2}?"])
PIECE = st.one_of(
    st.tuples(ATOM, QUANTIFIER).map("".join),
    st.sampled_from(["^", "$", r"\b", r"\B", r"\A", r"\Z", r"(?=\s)", r"(?!\w)", r"(?<=\s)"]),
    st.sampled_from([r"(?<!\w)", r"(?<=[.!?])", r"(?>\w+)", r"\n", " ", r"(song)\1"]),
)
REGEX = st.fixed_dictionaries(
    {
        "pattern": st.lists(PIECE, min_size=1, max_size=4).map("".join),
        "case_sensitive": st.booleans(),
    }
)
SPEC = st.one_of(
    st.tuples(st.just("keyword"), KEYWORD),
    st.tuples(st.just("regex"), REGEX),
)


def _row_by_row(specs, texts):
    rules = [row_rule(kind, params, ["text"]) for kind, params in specs]
    return np.array(
        [[1 if rule({"text": text}) else -1 for rule in rules] for text in texts], dtype=np.int64
    ).reshape(len(texts), len(specs))


# What re.IGNORECASE matches to an ASCII letter although str.lower() differs, and more.
TRAP_SWAPS = str.maketrans({"s": "ſ", "k": "\u212a", "i": "ı", "I": "İ", "S": "ẞ", "f": "ﬁ"})


def _matching_rows(data, specs) -> list[str]:
    """Rows that hold a match of the specs' patterns (Hypothesis's own generator), with
    their case-folding twins and a trailing line break: where the rules are most likely
    to disagree."""
    rows = []
    for kind, params in specs:
        if kind != "regex":
            continue
        try:
            flags = 0 if params["case_sensitive"] else re.IGNORECASE
            text = data.draw(st.from_regex(re.compile(params["pattern"], flags)))
        except Exception:  # noqa: BLE001 -- from_regex refuses some constructs; skip those
            continue
        rows += [text, text.translate(TRAP_SWAPS), text + "\n", text.upper()]
    return rows


@PROPERTY
@given(specs=st.lists(SPEC, min_size=1, max_size=6), texts=TEXTS, data=st.data())
def test_vectorised_matrix_equals_row_by_row_rules(specs, texts, data):
    texts = texts + _matching_rows(data, specs)
    # ASCII rows again, so common keywords take the RE2 scan for dense literals too
    texts += [text for text in texts if text.isascii()] * 3
    compiled = [
        compile_spec(name=f"lf{j}", kind=kind, params=params, vote=1, fields=["text"])
        for j, (kind, params) in enumerate(specs)
    ]
    ours = apply_compiled(compiled, columns_for({"text": texts}), len(texts))
    assert np.array_equal(ours, _row_by_row(specs, texts)), (specs, texts)


def test_ignorecase_matches_no_other_non_ascii_character_to_ascii():
    """`re2_translation` lets only these non-ASCII characters stand for an ASCII literal
    or range under IGNORECASE; brute force over every code point."""
    every = "".join(chr(c) for c in range(128, 0x110000) if not 0xD800 <= c < 0xE000)
    assert sorted(re.findall(r"(?i)[\x00-\x7f]", every)) == sorted(IGNORECASE_TO_ASCII)


def test_patterns_re2_cannot_run_take_the_python_path():
    texts = ["song song", "songsong", "a" * 30, "b\ud800c"]  # a lone surrogate: no UTF-8
    specs = [
        ("regex", {"pattern": r"(song) \1"}),  # a back-reference
        ("regex", {"pattern": r"(?:a{1,1000}){1,1000}b?"}),  # too big for RE2's program
        ("regex", {"pattern": r"(?i:SONG)song"}),  # flags on a group
    ]
    assert re2_plan(re.compile(specs[0][1]["pattern"])) is None
    assert re2_plan(re.compile(specs[1][1]["pattern"])) is not None
    assert re2_plan(re.compile(specs[2][1]["pattern"])) is None
    compiled = [
        compile_spec(name=f"lf{j}", kind=kind, params=params, vote=1, fields=["text"])
        for j, (kind, params) in enumerate(specs)
    ]
    for rows in (texts, texts[:3]):
        ours = apply_compiled(compiled, columns_for({"text": rows}), len(rows))
        assert ours.tolist() == _row_by_row(specs, rows).tolist()
        assert ours[:3].tolist() == [[1, -1, -1], [-1, -1, 1], [-1, 1, -1]]


def test_rows_after_a_dotted_capital_i_keep_their_keyword_votes():
    """Lower-casing a block of rows in one call: İ becomes two characters, so every row
    after one moves; Greek final sigma depends on where a row ends."""
    texts = ["İİİ", "song İ", "x song", "ΟΔΟΣ", "οδος x", "İ\nsong", "σ song"]
    specs = [
        ("keyword", {"keywords": ["song"]}),
        ("keyword", {"keywords": ["οδος"]}),
        ("keyword", {"keywords": ["ς"], "whole_word": False}),
    ]
    compiled = [
        compile_spec(name=f"lf{j}", kind=kind, params=params, vote=1, fields=["text"])
        for j, (kind, params) in enumerate(specs)
    ]
    ours = apply_compiled(compiled, columns_for({"text": texts}), len(texts))
    assert ours[:, 0].tolist() == [-1, 1, 1, -1, -1, 1, 1]
    assert ours[:, 1].tolist() == [-1, -1, -1, 1, 1, -1, -1]  # ΟΔΟΣ lowers to οδος
    assert ours[:, 2].tolist() == [-1, -1, -1, 1, 1, -1, -1]
    assert ours.tolist() == _row_by_row(specs, texts).tolist()


def test_common_keywords_scanned_by_re2_keep_the_lower_case_rules():
    """A keyword in most rows is scanned by RE2 over the original ASCII rows; it must
    still match as ``str.lower()`` does, and only whole words where asked."""
    texts = ["Song x", "song", "SONG!", "a", "my-song", "songs", "sOnG\nx", "ſong"] * 5
    specs = [
        ("keyword", {"keywords": ["song"]}),
        ("keyword", {"keywords": ["SONG"], "whole_word": False}),
        ("keyword", {"keywords": ["song"], "case_sensitive": True}),
    ]
    compiled = [
        compile_spec(name=f"lf{j}", kind=kind, params=params, vote=1, fields=["text"])
        for j, (kind, params) in enumerate(specs)
    ]
    ours = apply_compiled(compiled, columns_for({"text": texts}), len(texts))
    assert ours[:8, 0].tolist() == [1, 1, 1, -1, 1, -1, 1, -1]
    assert ours[:8, 1].tolist() == [1, 1, 1, -1, 1, 1, 1, -1]
    assert ours[:8, 2].tolist() == [-1, 1, -1, -1, 1, -1, -1, -1]
    assert ours.tolist() == _row_by_row(specs, texts).tolist()


def test_all_mode_on_rows_with_line_breaks():
    """Rows holding a line break are searched one by one, later keywords of an ``all``
    LF only where the earlier ones were found, plain substrings with ``in``."""
    texts = ["my song\nfree", "my\nsong", "song\nx", "free call\nmy", "x\ny", "My Song"] * 3
    substrings = {"mode": "all", "case_sensitive": True, "whole_word": False}
    specs = [
        ("keyword", {"keywords": ["my", "song"], "mode": "all"}),
        ("keyword", {"keywords": ["so", "my"], **substrings}),
    ]
    compiled = [
        compile_spec(name=f"lf{j}", kind=kind, params=params, vote=1, fields=["text"])
        for j, (kind, params) in enumerate(specs)
    ]
    ours = apply_compiled(compiled, columns_for({"text": texts}), len(texts))
    assert ours[:6, 0].tolist() == [1, 1, -1, -1, -1, 1]
    assert ours[:6, 1].tolist() == [1, 1, -1, -1, -1, -1]
    assert ours.tolist() == _row_by_row(specs, texts).tolist()
