"""Literal strings a regular expression cannot match without: a cheap prefilter.

``required_literals(pattern)`` returns strings such that every match of ``pattern`` contains
at least one of them (or ``None`` when no such set is known). A column scan for those
literals is a plain substring search, which the regex engine runs far faster than a search
that must try the full pattern at every position (it cannot skip ahead when a pattern starts
with a look-around, a class or, under ``re.IGNORECASE``, a cased letter). Only the rows that
contain a literal are then searched with the real pattern, so the answer is unchanged.

Case-insensitive patterns are prefiltered on ``str.lower()``-ed text. That is exact as long
as every literal character is ASCII or has no case: the regex engine treats such a character
as equal to another only when their lower cases agree, except for three non-ASCII letters
that it folds onto ASCII ones (`FOLDS_TO_ASCII`); rows containing those are always searched.
"""

import re
from re import _parser  # the stdlib's own regex parser; re._compiler reads the same tree

# Non-ASCII characters that ``re.IGNORECASE`` matches to an ASCII letter although their
# ``str.lower()`` is not that letter (brute-forced over all code points by the tests; the
# Kelvin sign, for one, is not here: its lower case is a plain "k").
FOLDS_TO_ASCII = "\u0130\u0131\u017f"  # İ (lower case "i" + a combining dot), ı, ſ

_REPEATS = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}


def _usable(char: str, *, ignore_case: bool) -> bool:
    """Whether ``char`` can stand in a literal: any character in a case-sensitive pattern;
    under IGNORECASE only those whose matches all share one ``str.lower()``."""
    if not ignore_case or char.isascii():
        return True
    return char.lower() == char == char.upper()


def _sequence(items, ignore_case: bool) -> list[str] | None:
    """The best required-literal set of a sequence of parsed items: each literal run and
    each item's own set is required on its own, so the most selective one is kept."""
    candidates: list[list[str]] = []
    run: list[str] = []
    for op, argument in items:
        if str(op) == "LITERAL" and _usable(chr(argument), ignore_case=ignore_case):
            run.append(chr(argument))
            continue
        if run:
            candidates.append(["".join(run)])
            run = []
        if (found := _item(str(op), argument, ignore_case)) is not None:
            candidates.append(found)
    if run:
        candidates.append(["".join(run)])
    # Longer literals are rarer: rank by the shortest alternative, then by fewer of them.
    return max(candidates, key=lambda lits: (min(map(len, lits)), -len(lits)), default=None)


def _item(op: str, argument, ignore_case: bool) -> list[str] | None:
    if op == "BRANCH":
        alternatives = [_sequence(branch, ignore_case) for branch in argument[1]]
        if any(found is None for found in alternatives):
            return None
        return sorted({literal for found in alternatives for literal in found})
    if op == "IN":  # the parser turns ``a|b`` into ``[ab]``; a short set of literals counts
        if len(argument) <= 8 and all(str(kind) == "LITERAL" for kind, _ in argument):
            chars = [chr(code) for _, code in argument]
            if all(_usable(char, ignore_case=ignore_case) for char in chars):
                return sorted(set(chars))
        return None
    if op == "SUBPATTERN":
        _group, add_flags, del_flags, body = argument
        if add_flags or del_flags:  # (?i:...) and friends: its own case rules; skip it
            return None
        return _sequence(body, ignore_case)
    if op == "ATOMIC_GROUP":
        return _sequence(argument, ignore_case)
    if op in _REPEATS:
        low, _high, body = argument
        return _sequence(body, ignore_case) if low >= 1 else None
    return None


def required_literals(pattern: re.Pattern) -> list[str] | None:
    """Strings one of which occurs in every match of ``pattern`` (lower-cased when the
    pattern ignores case), or None when the pattern guarantees none."""
    if isinstance(pattern.pattern, bytes) or pattern.flags & re.LOCALE:
        return None
    ignore_case = bool(pattern.flags & re.IGNORECASE)
    found = _sequence(_parser.parse(pattern.pattern, pattern.flags).data, ignore_case)
    if not found or not all(found):
        return None
    return sorted({literal.lower() for literal in found}) if ignore_case else found


def literal_patterns(literals: list[str]) -> list[re.Pattern]:
    """One case-sensitive pattern per literal (see `TextColumn.scan_mask` for why)."""
    return [re.compile(re.escape(literal)) for literal in sorted(set(literals))]
