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


class _Translator:
    def __init__(self, tree: _parser.SubPattern, flags: int, *, wide: bool) -> None:
        self.state, self.flags, self.wide = tree.state, flags, wide
        self.relaxed = False
        self.pattern = self.sequence(tree.data, tail=True)

    def char_class(self, node) -> str:
        """The characters Python's engine accepts for a one-character node: exactly, on
        ASCII; a superset of the non-ASCII ones (see the module docstring)."""
        compiled = _compiler.compile(_parser.SubPattern(self.state, [node]), self.flags)
        codes = frozenset(code for code in range(128) if compiled.fullmatch(chr(code)))
        if not self.wide:
            return _char_class(codes, wide=False)
        literals = _literal_codes(node)
        if literals is None:
            return _char_class(codes, wide=True)
        if self.flags & re.IGNORECASE:
            if any(code >= 128 for code in literals):
                return _char_class(codes, wide=True)
            literals = {ord(char) for char in IGNORECASE_TO_ASCII if compiled.fullmatch(char)}
        return _char_class(codes | frozenset(literals), wide=False)

    def sequence(self, items, *, tail: bool) -> str:
        last = len(items) - 1
        return "".join(
            self.node(op, av, tail=tail and i == last) for i, (op, av) in enumerate(items)
        )

    def relax(self) -> str:
        self.relaxed = True
        return ""

    def node(self, op, av, *, tail: bool) -> str:
        name = str(op)
        if name in _SINGLE_CHARACTER:
            return self.char_class((op, av))
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
            return self.repeat(name, *av)
        if name == "AT":
            return self.at(str(av), tail=tail)
        if name in {"ASSERT", "ASSERT_NOT"}:
            return self.relax()
        raise _Untranslatable  # GROUPREF, GROUPREF_EXISTS, anything new

    def repeat(self, name: str, low: int, high, body) -> str:
        if name == "POSSESSIVE_REPEAT":
            self.relaxed = True
        if low > _RE2_MAX_REPEAT:
            raise _Untranslatable
        inner = "(?:" + self.sequence(body, tail=False) + ")"
        if high is _parser.MAXREPEAT or high > _RE2_MAX_REPEAT:
            self.relaxed |= high is not _parser.MAXREPEAT
            return inner + f"{{{low},}}"
        return inner + f"{{{low},{high}}}"

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
