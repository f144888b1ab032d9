"""Declarative labeling functions: validated specs, compiled to whole-column operations.

An LF spec is a kind plus parameters; it votes one label where its rule holds and abstains
elsewhere. Kinds (parameters in brackets, ``field`` is always the content field read):

- ``keyword`` [keywords, mode any|all, case_sensitive=False, whole_word=True]: the text
  contains any (all) of the keywords. Case-insensitive means both sides are ``str.lower()``-ed;
  a whole word is not preceded or followed by a word character (``\\w``).
- ``regex`` [pattern, case_sensitive=False]: ``re.search`` finds the pattern.
- ``length`` [unit chars|words, min, max]: ``min <= length <= max`` (either bound optional);
  words are ``str.split()`` tokens.
- ``field_overlap`` [other, min, max]: the share of ``other``'s distinct words (lower-cased
  ``\\w+``) that also occur in ``field`` lies in the bounds; abstains when ``other`` is empty.
- ``stopword_share`` [min, max]: the share of the words that are common English function
  words lies in the bounds (a language heuristic); abstains on texts without words.

`compile_spec` validates (raising `LFSpecError` that names the problem) and returns a
`CompiledLF` whose ``mask(columns)`` gives the rows the rule holds for, all at once.
`snorkel_bridge` states the same rules one row at a time, as Snorkel LFs.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .columns import SEPARATOR, WORD, DenseScan, TextColumn, pattern_is_joinable
from .literals import literal_patterns, required_literals
from .re2_translation import re2_plan

KINDS = ("keyword", "regex", "length", "field_overlap", "stopword_share")

ENGLISH_STOPWORDS = frozenset(
    "a an and are as at be but by for from had has have he her his i if in is it its me my "
    "no not of on or our she so that the their them there they this to was we were what "
    "when which who will with would you your".split()
)


class LFSpecError(ValueError):
    """A labeling-function spec is invalid; the message names the parameter."""


@dataclass(frozen=True)
class CompiledLF:
    """An LF ready to run: its name, the label index it votes, and its rule over columns."""

    name: str
    vote: int
    fields: tuple[str, ...]
    rule: Callable[[Mapping[str, TextColumn]], np.ndarray] = field(repr=False)

    def mask(self, columns: Mapping[str, TextColumn]) -> np.ndarray:
        return self.rule(columns)


def _bool(params: dict, name: str, default: bool) -> bool:
    value = params.get(name, default)
    if not isinstance(value, bool):
        raise LFSpecError(f"'{name}' must be true or false, not {value!r}.")
    return value


def _bound(params: dict, name: str, *, integer: bool) -> float | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    kind = int if integer else float
    try:
        number = kind(value)
    except (TypeError, ValueError) as exc:
        raise LFSpecError(f"'{name}' must be a number, not {value!r}.") from exc
    if number < 0:
        raise LFSpecError(f"'{name}' must not be negative.")
    return number


def _bounds(params: dict, *, integer: bool) -> tuple[float | None, float | None]:
    low, high = _bound(params, "min", integer=integer), _bound(params, "max", integer=integer)
    if low is None and high is None:
        raise LFSpecError("Give 'min', 'max' or both.")
    if low is not None and high is not None and low > high:
        raise LFSpecError(f"'min' ({low}) is larger than 'max' ({high}).")
    return low, high


def _within(values: np.ndarray, low, high) -> np.ndarray:
    mask = np.ones(len(values), dtype=bool)
    if low is not None:
        mask &= values >= low
    if high is not None:
        mask &= values <= high
    return mask


def keyword_patterns(params: dict) -> tuple[list[list[re.Pattern]], bool]:
    """A keyword spec's patterns, one per keyword, in groups: a row matches when every
    group has a pattern that matches (mode ``any``: one group; ``all``: one per keyword).
    Also whether the patterns read lower-cased text."""
    words, mode, lowered, whole = _keyword_params(params)
    patterns = [_keyword_pattern(word, whole=whole) for word in words]
    return ([patterns] if mode == "any" else [[p] for p in patterns]), lowered


def _keyword_params(params: dict) -> tuple[list[str], str, bool, bool]:
    """The keywords as searched (lower-cased unless case-sensitive), the mode, whether
    the text is lower-cased, and whether keywords are whole words."""
    keywords = params.get("keywords")
    if isinstance(keywords, str):
        keywords = [k for k in (part.strip() for part in keywords.split(",")) if k]
    if not keywords or not all(isinstance(k, str) and k for k in keywords):
        raise LFSpecError("'keywords' must be a non-empty list of non-empty words.")
    mode = params.get("mode", "any")
    if mode not in ("any", "all"):
        raise LFSpecError(f"'mode' must be 'any' or 'all', not {mode!r}.")
    lowered = not _bool(params, "case_sensitive", False)
    whole = _bool(params, "whole_word", True)
    return [k.lower() if lowered else k for k in keywords], mode, lowered, whole


def _keyword_dense_scan(word: str, *, whole: bool, lowered: bool) -> DenseScan | None:
    """The RE2 form of a keyword for ASCII rows of the *original* text, used where the
    keyword is common (`TextColumn.scan_mask`). On ASCII text, lower-casing is IGNORECASE
    over ASCII letters, which the RE2 plan spells out; a keyword that is not ASCII never
    occurs in an ASCII row, and gets no RE2 form."""
    if not word.isascii():
        return None
    escaped = re.escape(word)
    python = re.compile(rf"(?<!\w){escaped}(?!\w)" if whole else escaped, re.I if lowered else 0)
    plan = re2_plan(python)
    return DenseScan(word, plan.ascii) if plan is not None and plan.ascii_exact else None


def _keyword_pattern(word: str, *, whole: bool) -> re.Pattern:
    """``word``; a whole word is not preceded or followed by a word character. The left
    test is a look-behind placed *after* the literal, so the pattern still starts with the
    literal and the regex engine skips ahead to it fast (a leading look-behind makes it try
    every position: about 50x slower)."""
    if not whole:
        return re.compile(re.escape(word))
    return re.compile(rf"{re.escape(word)}(?<!\w{re.escape(word)})(?!\w)")


def _compile_keyword(params: dict, text_field: str):
    groups, lowered = keyword_patterns(params)
    words, mode, _lowered, whole = _keyword_params(params)
    dense = [_keyword_dense_scan(word, whole=whole, lowered=lowered) for word in words]
    dense_groups = [dense] if mode == "any" else [[scan] for scan in dense]
    # Our patterns only consume the keyword and look around for \w, so unless a keyword
    # holds a line break a match never touches the separator of the joined column.
    within_rows = not any(SEPARATOR in p.pattern for group in groups for p in group)

    def any_of(column: TextColumn, patterns: list[re.Pattern], scans, only) -> np.ndarray:
        if within_rows:
            return column.scan_mask(patterns, dense=scans, only=only)
        return np.logical_or.reduce([column.search_mask(p) for p in patterns])

    def rule(columns):
        column = columns[text_field].lowered if lowered else columns[text_field]
        # Mode all: a later keyword is only looked for in rows that hold the earlier ones.
        mask = None
        for group, scans in zip(groups, dense_groups, strict=True):
            found = any_of(column, group, scans, mask)
            mask = found if mask is None else mask & found
        return mask

    return rule, (text_field,)


def regex_pattern(params: dict) -> re.Pattern:
    pattern = params.get("pattern")
    if not isinstance(pattern, str) or not pattern:
        raise LFSpecError("'pattern' must be a non-empty regular expression.")
    flags = 0 if _bool(params, "case_sensitive", False) else re.IGNORECASE
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise LFSpecError(f"'pattern' is not a valid regular expression: {exc}.") from exc


def _compile_regex(params: dict, text_field: str):
    pattern = regex_pattern(params)
    joinable = pattern_is_joinable(pattern)
    literals = required_literals(pattern)
    usable = literals is not None and not any(SEPARATOR in literal for literal in literals)
    prefilter = literal_patterns(literals) if usable else None
    re2 = re2_plan(pattern)

    def rule(columns):
        column = columns[text_field]
        return column.regex_mask(pattern, prefilter=prefilter, joinable=joinable, re2=re2)

    return rule, (text_field,)


def _compile_length(params: dict, text_field: str):
    unit = params.get("unit", "chars")
    if unit not in ("chars", "words"):
        raise LFSpecError(f"'unit' must be 'chars' or 'words', not {unit!r}.")
    low, high = _bounds(params, integer=True)

    def rule(columns):
        column = columns[text_field]
        return _within(column.char_lengths if unit == "chars" else column.word_counts, low, high)

    return rule, (text_field,)


def _share_rule(shares: list[float | None], low, high) -> np.ndarray:
    values = np.array([-1.0 if s is None else s for s in shares], dtype=float)
    return _within(values, low, high) & (values >= 0)


def _compile_field_overlap(params: dict, text_field: str):
    other = params.get("other")
    if not isinstance(other, str) or not other:
        raise LFSpecError("'other' must name the field whose words are looked for.")
    if other == text_field:
        raise LFSpecError("'other' must be a different field from 'field'.")
    low, high = _bounds(params, integer=False)

    def rule(columns):
        shares = [
            len(words & theirs) / len(theirs) if theirs else None
            for words, theirs in zip(
                columns[text_field].word_sets, columns[other].word_sets, strict=True
            )
        ]
        return _share_rule(shares, low, high)

    return rule, (text_field, other)


def stopword_share(text: str) -> float | None:
    words = WORD.findall(text.lower())
    return sum(word in ENGLISH_STOPWORDS for word in words) / len(words) if words else None


def _compile_stopword_share(params: dict, text_field: str):
    low, high = _bounds(params, integer=False)

    def rule(columns):
        return _share_rule([stopword_share(t) for t in columns[text_field].texts], low, high)

    return rule, (text_field,)


_COMPILERS = {
    "keyword": _compile_keyword,
    "regex": _compile_regex,
    "length": _compile_length,
    "field_overlap": _compile_field_overlap,
    "stopword_share": _compile_stopword_share,
}


def compile_spec(
    *, name: str, kind: str, params: dict, vote: int, fields: list[str] | tuple[str, ...]
) -> CompiledLF:
    """Validate a spec against the project's content ``fields`` and compile it."""
    if kind not in _COMPILERS:
        raise LFSpecError(f"Unknown LF kind '{kind}'; expected one of {', '.join(KINDS)}.")
    text_field = params.get("field") or (fields[0] if fields else "")
    if text_field not in fields:
        raise LFSpecError(f"'field' must be one of {', '.join(fields)}, not {text_field!r}.")
    if kind == "field_overlap" and params.get("other") not in (None, "", *fields):
        raise LFSpecError(f"'other' must be one of {', '.join(fields)}.")
    rule, used = _COMPILERS[kind](params, text_field)
    return CompiledLF(name=name, vote=vote, fields=used, rule=rule)


def columns_for(rows: Mapping[str, list[str]]) -> dict[str, TextColumn]:
    return {name: TextColumn(values) for name, values in rows.items()}


def apply_compiled(
    lfs: list[CompiledLF], columns: Mapping[str, TextColumn], n_rows: int
) -> np.ndarray:
    """The label matrix (rows × LFs, ``-1`` where an LF abstains)."""
    matrix = np.full((n_rows, len(lfs)), -1, dtype=np.int64)
    for j, lf in enumerate(lfs):
        matrix[lf.mask(columns), j] = lf.vote
    return matrix
