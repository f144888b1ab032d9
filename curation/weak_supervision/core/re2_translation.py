"""Python regular expressions restated for RE2 (pyarrow's string kernels), so that a column
is searched row by row in C++ at DFA speed, with the answers Python's ``re.search`` gives.

RE2 and ``re`` disagree on details (``\\s``, ``\\w`` and ``\\b`` are ASCII in RE2 and
Unicode in ``re``; their case folding differs; RE2 has no look-arounds or back-references),
so the pattern is not copied but rebuilt from the stdlib parser's tree:

- every node that matches one character (a literal, a class, ``.``, ``\\w``...) becomes an
  explicit RE2 class of the ASCII characters Python's own engine accepts for it, tried
  one by one with the pattern's flags (so IGNORECASE, DOTALL and ``\\s``'s odd members are
  Python's);
- for rows that are not pure ASCII such a class also accepts non-ASCII characters: for a
  literal or a set of ASCII literals and ranges only those Python may match (itself when
  case-sensitive; under IGNORECASE those of `IGNORECASE_TO_ASCII` it accepts), for any other
  node every non-ASCII character; and ``\\b`` is dropped, so the RE2 pattern matches *at
  least* where Python's does;
- look-arounds, ``\\B``, possessive and atomic groups are likewise relaxed to what always
  holds.

`Re2Plan.ascii` is exact on ASCII rows unless something was relaxed (`ascii_exact`); where
it is not exact, a row without an RE2 match has no Python match either, and a row with one
is searched by Python from RE2's first match on (no Python match can start earlier, since
every Python match is also a match of the relaxed pattern at the same start). Patterns
with back-references, conditionals, MULTILINE or inline flags on a group are not
translated (`re2_plan` returns None) and take the Python path.
"""

import re
from dataclasses import dataclass
from re import _compiler, _parser  # the stdlib's own regex parser and compiler

_ALL_ASCII = frozenset(range(128))
_WIDE = (0x80, 0x10FFFF)
# The only non-ASCII characters re.IGNORECASE matches to any ASCII character (a test
# brute-forces this over every code point): İ, ı, ſ and the Kelvin sign.
IGNORECASE_TO_ASCII = "\u0130\u0131\u017f\u212a"
_RE2_MAX_REPEAT = 1000
_SINGLE_CHARACTER = {"LITERAL", "NOT_LITERAL", "ANY", "IN", "CATEGORY"}
_REPEATS = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}
_BEGINNINGS = {"AT_BEGINNING", "AT_BEGINNING_STRING"}


class _Untranslatable(Exception):
    pass


@dataclass(frozen=True)
class Re2Plan:
    """RE2 patterns for one Python pattern: ``ascii`` for pure-ASCII rows (exact when
    ``ascii_exact``), ``wide`` for the other rows (a superset: confirm with Python)."""

    ascii: str
    ascii_exact: bool
    wide: str


@dataclass(frozen=True)
class _Chars:
    """What a one-character node accepts: ``ascii`` exactly; ``wide`` the non-ASCII
    characters it may accept (None: any of them)."""

    ascii: frozenset[int]
    wide: frozenset[int] | None

    def __and__(self, other: "_Chars") -> "_Chars":
        if self.wide is None or other.wide is None:
            wide = other.wide if self.wide is None else self.wide
        else:
            wide = self.wide & other.wide
        return _Chars(self.ascii & other.ascii, wide)

    def complement(self) -> "_Chars":
        return _Chars(_ALL_ASCII - self.ascii, None)  # a superset of the non-ASCII ones


def _char_class(codes: frozenset[int], *, wide: bool) -> str:
    """An RE2 class of ``codes``, and of every non-ASCII character when ``wide``."""
    ranges, run = [], None
    for code in sorted(codes):
        if run and code == run[1] + 1:
            run[1] = code
        else:
            run = [code, code]
            ranges.append(run)
    if wide:
        ranges.append(list(_WIDE))
    parts = [rf"\x{{{lo:x}}}" + (rf"-\x{{{hi:x}}}" if hi > lo else "") for lo, hi in ranges]
    if not parts:
        return r"[^\x{0}-\x{10FFFF}]"  # matches nothing
    if len(parts) == 1 and "-" not in parts[0]:
        return parts[0]
    return "[" + "".join(parts) + "]"


def _literal_codes(node) -> set[int] | None:
    """The code points of a literal, or of a set of ASCII literals and ranges; None for
    any other one-character node (whose non-ASCII matches are not worked out)."""
    op, av = str(node[0]), node[1]
    if op == "LITERAL":
        return {av}
    if op != "IN":
        return None
    codes: set[int] = set()
    for kind, value in av:
        if str(kind) == "LITERAL" and value < 128:
            codes.add(value)
        elif str(kind) == "RANGE" and value[1] < 128:
            codes.update(range(value[0], value[1] + 1))
        else:
            return None
    return codes


def _is_single(item) -> bool:
    return str(item[0]) in _SINGLE_CHARACTER


def _single_repeat(item):
    """``(low, high, node)`` for a greedy or lazy repeat of one one-character node."""
    if str(item[0]) in {"MAX_REPEAT", "MIN_REPEAT"}:
        low, high, body = item[1]
        if len(body.data) == 1 and _is_single(body.data[0]):
            return low, high, body.data[0]
    return None


class _Translator:
    """One RE2 pattern for ASCII rows (``wide=False``) or for the other rows."""

    def __init__(self, tree: _parser.SubPattern, flags: int, *, wide: bool) -> None:
        self.state, self.flags, self.wide = tree.state, flags, wide
        self.relaxed = False
        self.pattern = self.sequence(tree.data, tail=True, top=True)

    def chars(self, node) -> _Chars:
        """What Python's engine accepts for a one-character node (see the module
        docstring): its ASCII characters tried one by one with the pattern's flags."""
        compiled = _compiler.compile(_parser.SubPattern(self.state, [node]), self.flags)
        codes = frozenset(code for code in range(128) if compiled.fullmatch(chr(code)))
        literals = _literal_codes(node)
        if literals is None:
            return _Chars(codes, None)
        if self.flags & re.IGNORECASE:
            if any(code >= 128 for code in literals):
                return _Chars(codes, None)
            literals = {ord(char) for char in IGNORECASE_TO_ASCII if compiled.fullmatch(char)}
        return _Chars(codes, frozenset(code for code in literals if code >= 128))

    def emit(self, chars: _Chars) -> str:
        if not self.wide:
            return _char_class(chars.ascii, wide=False)
        if chars.wide is None:
            return _char_class(chars.ascii, wide=True)
        return _char_class(chars.ascii | chars.wide, wide=False)

    def count(self, low: int, high) -> str:
        """RE2's bounds for ``{low,high}``. A wide range becomes unbounded (relaxed): RE2's
        DFA would track every position in it and fall back to its slow engine."""
        if low > _RE2_MAX_REPEAT:
            raise _Untranslatable
        if high is _parser.MAXREPEAT or high - low > 4:
            self.relaxed |= high is not _parser.MAXREPEAT
            return f"{{{low},}}"
        return f"{{{low},{high}}}"

    def relax(self) -> str:
        self.relaxed = True
        return ""

    def sequence(self, items, *, tail: bool, top: bool = False) -> str:
        """Items in order. A look-around of one character is folded into the character
        next to it (or, at either end of the pattern, becomes one); at the top level a
        leading or trailing repeat keeps only its minimum (a match exists either way)."""
        items, out = list(items), []
        last = len(items) - 1
        for i, (op, av) in enumerate(items):
            name, at_tail = str(op), tail and i == last
            if name in {"ASSERT", "ASSERT_NOT"}:
                out.append(self.assertion(items, i, out, negative=name == "ASSERT_NOT", top=top))
            elif (
                top and i in (0, last) and _trimmable(items[i]) and not _beside_assertion(items, i)
            ):
                low, _high, body = av
                out.append(f"(?:{self.sequence(body, tail=False)}){{{low}}}" if low else "")
            else:
                out.append(self.node(op, av, tail=at_tail))
        return "".join(out)

    def assertion(self, items, i, out, *, negative: bool, top: bool) -> str:
        direction, body = items[i][1]
        if len(body.data) != 1 or not _is_single(body.data[0]):
            return self.relax()
        chars = self.chars(body.data[0])
        wanted = chars.complement() if negative else chars
        last = len(items) - 1
        if direction == 1 and i == last and top:  # a look-ahead at the very end
            return f"(?:{self.emit(wanted)}|\\z)" if negative else self.emit(chars)
        if direction == -1 and i == 0 and top:  # a look-behind at the very start
            return f"(?:^|{self.emit(wanted)})" if negative else self.emit(chars)
        if direction == 1 and i < last and (merged := self.merge(items, i + 1, wanted, first=True)):
            items[i + 1] = merged
            return ""
        if direction == -1 and i > 0 and (merged := self.merge(items, i - 1, wanted, first=False)):
            out[-1] = self.node(*merged, tail=False)
            return ""
        return self.relax()

    def merge(self, items, j: int, wanted: _Chars, *, first: bool):
        """Item ``j`` with its first (or last) character limited to ``wanted``, as a
        parsed item whose one-character nodes are pre-built RE2 classes; None if item
        ``j`` is not one character or a repeat of one with at least one."""
        item = items[j]
        if isinstance(item, _Emitted):
            return None
        if _is_single(item):
            return _Emitted(self.emit(self.chars(item) & wanted))
        if (repeat := _single_repeat(item)) is None or repeat[0] < 1:
            return None
        low, high, node = repeat
        rest_high = high if high is _parser.MAXREPEAT else high - 1
        edge, rest = self.emit(self.chars(node) & wanted), self.emit(self.chars(node))
        rest += self.count(low - 1, rest_high)
        return _Emitted(edge + rest if first else rest + edge)

    def node(self, op, av, *, tail: bool) -> str:
        if op is _Emitted:
            return av
        name = str(op)
        if name in _SINGLE_CHARACTER:
            return self.emit(self.chars((op, av)))
        if name == "SUBPATTERN":
            _group, add_flags, del_flags, body = av
            if add_flags or del_flags:
                raise _Untranslatable
            return "(?:" + self.sequence(body, tail=tail) + ")"
        if name == "ATOMIC_GROUP":
            self.relaxed = True
            return "(?:" + self.sequence(av, tail=tail) + ")"
        if name == "BRANCH":
            return "(?:" + "|".join(self.sequence(b, tail=tail) for b in av[1]) + ")"
        if name in _REPEATS:
            low, high, body = av
            self.relaxed |= name == "POSSESSIVE_REPEAT"
            return "(?:" + self.sequence(body, tail=False) + ")" + self.count(low, high)
        if name == "AT":
            return self.at(str(av), tail=tail)
        raise _Untranslatable  # GROUPREF, GROUPREF_EXISTS, anything new

    def at(self, code: str, *, tail: bool) -> str:
        if code in _BEGINNINGS:
            return "^"
        if code == "AT_END_STRING":
            return r"\z"
        if code == "AT_END" and tail:  # Python's $: the end, or before a final newline
            return r"(?:\n?\z)"
        if code in {"AT_BOUNDARY", "AT_UNI_BOUNDARY"} and not self.wide:
            return r"\b"  # the same on ASCII text: the ASCII word characters
        return self.relax()


class _Emitted(tuple):
    """An item already written as RE2 (a merged look-around), standing in the item list
    as ``(_Emitted, text)``."""

    def __new__(cls, text: str):
        return super().__new__(cls, (cls, text))


def _trimmable(item) -> bool:
    return not isinstance(item, _Emitted) and str(item[0]) in {"MAX_REPEAT", "MIN_REPEAT"}


def _beside_assertion(items, i: int) -> bool:
    """Whether a look-around next to item ``i`` may look into it."""
    return any(
        0 <= j < len(items)
        and not isinstance(items[j], _Emitted)
        and str(items[j][0]) in {"ASSERT", "ASSERT_NOT", "AT"}
        for j in (i - 1, i + 1)
    )


def re2_plan(pattern: re.Pattern) -> Re2Plan | None:
    """RE2 patterns with ``pattern.search``'s answers (see the module docstring), or None
    when ``pattern`` uses something that is not translated."""
    if isinstance(pattern.pattern, bytes) or pattern.flags & (re.MULTILINE | re.LOCALE):
        return None
    try:
        tree = _parser.parse(pattern.pattern, pattern.flags)
        narrow = _Translator(tree, pattern.flags, wide=False)
        wide = _Translator(tree, pattern.flags, wide=True)
    except (_Untranslatable, RecursionError):
        return None
    return Re2Plan(ascii=narrow.pattern, ascii_exact=not narrow.relaxed, wide=wide.pattern)
