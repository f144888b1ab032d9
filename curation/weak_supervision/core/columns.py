"""Text columns prepared once and shared by every LF that reads them.

The fast path joins a column's rows into one string with a separator no row contains, so a
compiled pattern makes one pass over the whole column instead of one call per row. Row
boundaries are kept as offsets. Two scans use the joined form:

- `TextColumn.scan_mask`, for patterns that cannot match the separator (one keyword, one
  literal): every hit lies inside one row, so all hits are found with ``finditer`` and
  their rows looked up at once.
- `TextColumn.search_mask`, for any pattern: a match that runs across a separator is never
  trusted, the rows it touches are searched again one by one, so the result is exactly what
  ``pattern.search(row)`` gives for every row. Searches are bounded to windows of rows, so
  a pattern that runs across separators costs a window at most.

Regex LFs (and keywords common in ASCII rows) can skip the joined form: `TextColumn.re2_mask`
searches every row with RE2 through pyarrow, with the answers of Python's ``re`` (see
`re2_translation`).

Rows are joined in two blocks, pure-ASCII rows and the rest: Python stores a string with
the width of its widest character, so one emoji would make the whole joined column four
bytes a character. Each block is lower-cased in one call. Rows that contain
the separator are kept out of the blocks and searched on their own.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import compress, zip_longest

import numpy as np

from .literals import FOLDS_TO_ASCII
from .re2_translation import Re2Plan

SEPARATOR = "\n"
# A search runs at most this many rows ahead: a greedy pattern that can cross separators
# (``[^a]+``, ``\s*``) then costs a window, never the rest of the column.
WINDOW_ROWS = 256

# Zero-width assertions that look outside a row behave differently in the joined string
# (``^``, ``$``, ``\A``, ``\Z``, look-arounds). ``\b`` and ``\B`` are safe: the separator is
# a non-word character, exactly like the start and end of a row.
_SAFE_AT_CODES = {"AT_BOUNDARY", "AT_NON_BOUNDARY", "AT_UNI_BOUNDARY", "AT_UNI_NON_BOUNDARY"}


def pattern_is_joinable(pattern: re.Pattern) -> bool:
    """Whether ``pattern`` matches a row the same way inside the joined column."""
    from re import _parser  # the stdlib's own regex parser

    def walk(node) -> bool:
        if isinstance(node, _parser.SubPattern):
            return all(walk(item) for item in node.data)
        if isinstance(node, tuple | list):
            if len(node) == 2 and str(node[0]) in {"ASSERT", "ASSERT_NOT"}:
                return False
            if len(node) == 2 and str(node[0]) == "AT":
                return str(node[1]) in _SAFE_AT_CODES
            return all(walk(item) for item in node)
        return True

    return walk(_parser.parse(pattern.pattern, pattern.flags))


@dataclass(frozen=True)
class _Block:
    """Some rows of a column joined by the separator: row ``i`` of the block is
    ``joined[starts[i]:ends[i]]`` and row ``rows[i]`` of the column."""

    joined: str
    starts: np.ndarray
    ends: np.ndarray
    rows: np.ndarray

    @classmethod
    def build(cls, parts: list[str], rows: np.ndarray, joined: str | None = None) -> "_Block":
        lengths = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
        starts = np.zeros(len(parts), dtype=np.int64)
        np.cumsum(lengths[:-1] + 1, out=starts[1:])
        return cls(
            SEPARATOR.join(parts) if joined is None else joined, starts, starts + lengths, rows
        )

    def lowered(self) -> "_Block":
        """The block ``str.lower()``-ed in one call. That equals lowering row by row: the
        separator ends a Greek final-sigma context just as a string end does, and the one
        character whose lower case is longer, İ, moves the offsets after it by one."""
        joined = self.joined.lower()
        if len(joined) == len(self.joined):
            return _Block(joined, self.starts, self.ends, self.rows)
        spans = zip(self.starts.tolist(), self.ends.tolist(), strict=True)
        dotted = np.fromiter(
            (self.joined.count("\u0130", start, end) for start, end in spans),
            dtype=np.int64,
            count=len(self.rows),
        )
        lengths = self.ends - self.starts + dotted
        starts = np.zeros(len(lengths), dtype=np.int64)
        np.cumsum(lengths[:-1] + 1, out=starts[1:])
        return _Block(joined, starts, starts + lengths, self.rows)

    def hit_rows(self, pattern: re.Pattern) -> np.ndarray:
        """Column rows with a hit of ``pattern``, which must never match the separator."""
        hits = np.fromiter((m.start() for m in pattern.finditer(self.joined)), dtype=np.int64)
        return self.rows[np.searchsorted(self.starts, hits, side="right") - 1]

    def search(self, pattern: re.Pattern, recheck) -> np.ndarray:
        """Which of the block's rows ``pattern.search`` matches; ``recheck(column_rows)``
        searches rows one by one where a match crossed a separator."""
        starts, ends, found = self.starts, self.ends, np.zeros(len(self.rows), dtype=bool)
        search, n_rows = pattern.search, len(self.rows)
        for first in range(0, n_rows, WINDOW_ROWS):
            last = min(first + WINDOW_ROWS, n_rows) - 1
            position, endpos = int(starts[first]), int(ends[last])
            while (match := search(self.joined, position, endpos)) is not None:
                start, end = match.span()
                row = int(np.searchsorted(starts, start, side="right")) - 1
                if end <= ends[row]:
                    found[row] = True
                else:  # the match crossed a separator: re-check the rows it touched
                    to_row = int(np.searchsorted(starts, end, side="right")) - 1
                    found[row : to_row + 1] = recheck(self.rows[row : to_row + 1])
                    row = to_row
                if row >= last:
                    break
                position = int(starts[row + 1])
        return found


@dataclass(frozen=True)
class DenseScan:
    """A keyword pattern's literal and its exact RE2 form on ASCII rows of the original
    (not lower-cased) text: see `TextColumn.scan_mask`."""

    literal: str
    re2: str


def _arrow_strings(texts: list[str]):
    """A pyarrow ``large_string`` array of ``texts``, built from one UTF-8 buffer and its
    offsets (``pyarrow.array`` on a list of long strings is several times slower)."""
    import pyarrow as pa  # heavy; only regex LFs need it

    encoded = [text.encode() for text in texts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)), out=offsets[1:])
    return pa.LargeStringArray.from_buffers(
        len(encoded), pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))
    )


@lru_cache(maxsize=1024)
def _plain_literal(pattern: re.Pattern) -> str | None:
    """The string a case-sensitive pattern of literal characters only matches, else None
    (``in`` finds it faster than the regex engine)."""
    if pattern.flags & re.IGNORECASE or isinstance(pattern.pattern, bytes):
        return None
    from re import _parser  # the stdlib's own regex parser

    items = _parser.parse(pattern.pattern, pattern.flags).data
    if not items or any(str(op) != "LITERAL" for op, _ in items):
        return None
    return "".join(chr(code) for _, code in items)


class TextColumn:
    """One content field of every row, with its joined form built on first use."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = ["" if t is None else str(t) for t in texts]

    def __len__(self) -> int:
        return len(self.texts)

    @cached_property
    def lowered(self) -> "TextColumn":
        return _LoweredColumn(self)

    @cached_property
    def _layout(self) -> tuple[tuple[_Block, _Block], np.ndarray]:
        """The ASCII block, the wide block, and the rows kept apart (they hold the
        separator)."""
        texts = self.texts
        is_ascii = np.fromiter(map(str.isascii, texts), dtype=bool, count=len(texts))
        # Found before joining: long documents nearly all hold a line break, and joining
        # them only to search for it costs as much as a scan.
        alone = np.fromiter((SEPARATOR in t for t in texts), dtype=bool, count=len(texts))
        ascii_block, wide = (
            _Block.build(list(compress(texts, selector)), selector.nonzero()[0])
            for selector in (is_ascii & ~alone, ~is_ascii & ~alone)
        )
        return (ascii_block, wide), alone.nonzero()[0]

    def search_mask(self, pattern: re.Pattern, *, joinable: bool = True) -> np.ndarray:
        """Rows where ``pattern.search(row)`` finds a match."""
        if not joinable or not self.texts:
            return self._search_rows(pattern, range(len(self)))
        blocks, alone = self._layout
        mask = np.zeros(len(self), dtype=bool)
        for block in blocks:
            mask[block.rows] = block.search(pattern, lambda rows: self._search_rows(pattern, rows))
        if len(alone):
            mask[alone] = self._search_rows(pattern, alone)
        return mask

    def scan_mask(
        self,
        patterns: Sequence[re.Pattern],
        *,
        dense: Sequence[DenseScan | None] = (),
        only: np.ndarray | None = None,
    ) -> np.ndarray:
        """Rows where any of ``patterns`` finds a match, for patterns that can never match
        the separator (literals without a line break, our keyword patterns). One literal
        per pattern, because the engine skips ahead to a literal far faster than to any of
        several (an alternation is tried at every position its first characters allow).

        ``dense`` may give a pattern's RE2 form for ASCII rows: where its literal occurs
        more than once per four rows of the ASCII block, RE2 answers for every ASCII row
        (a cost per row) instead of Python visiting every occurrence (a cost per hit).
        Rows outside the blocks are searched one by one, and only where still needed: not
        once a pattern matched, not outside ``only`` (the answer there may then be wrong:
        for a caller that ignores those rows), and with ``in`` for a plain literal."""
        blocks, alone = self._layout
        mask, answered = np.zeros(len(self), dtype=bool), np.zeros(len(self), dtype=bool)
        for pattern, scan in zip_longest(patterns, dense[: len(patterns)]):
            for n, block in enumerate(blocks):
                common = scan and block.joined.count(scan.literal) > len(block.rows) // 4
                if n == 0 and common and (found := self._ascii_re2(scan.re2)) is not None:
                    rows, hits = found
                    mask[rows[hits]] = answered[rows] = True
                    continue
                mask[block.hit_rows(pattern)] = True
            todo = alone[~mask[alone] & ~answered[alone]]
            if only is not None:
                todo = todo[only[todo]]
            if len(todo):
                literal = _plain_literal(pattern)
                if literal is None:
                    mask[todo] = self._search_rows(pattern, todo)
                else:
                    mask[todo] = [literal in self._row(i) for i in todo.tolist()]
        return mask

    def regex_mask(
        self,
        pattern: re.Pattern,
        *,
        prefilter: Sequence[re.Pattern] | None,
        joinable: bool = True,
        re2: Re2Plan | None = None,
    ) -> np.ndarray:
        """Rows where ``pattern.search(row)`` finds a match. With an ``re2`` plan, RE2
        searches every row (`re2_mask`); else with a ``prefilter`` (one pattern per
        `required_literals`), only rows containing one of them are searched."""
        if re2 is not None and (mask := self.re2_mask(pattern, re2)) is not None:
            return mask
        if prefilter is None:
            return self.search_mask(pattern, joinable=joinable)
        if pattern.flags & re.IGNORECASE:
            candidates = self.lowered.scan_mask(prefilter) | self.folds_to_ascii
        else:
            candidates = self.scan_mask(prefilter)
        rows = candidates.nonzero()[0]
        mask = np.zeros(len(self), dtype=bool)
        mask[rows] = self._search_rows(pattern, rows)
        return mask

    @cached_property
    def _arrow(self):
        """``(rows, pyarrow array, is_ascii)`` for the ASCII rows and for the rest; None
        when a row cannot be UTF-8 encoded (a lone surrogate)."""
        texts = self.texts
        is_ascii = np.fromiter(map(str.isascii, texts), dtype=bool, count=len(texts))
        try:
            return [
                (rows, _arrow_strings(list(compress(texts, selector))), ascii_rows)
                for selector, ascii_rows in ((is_ascii, True), (~is_ascii, False))
                if len(rows := selector.nonzero()[0])
            ]
        except UnicodeEncodeError:
            return None

    def _ascii_re2(self, re2: str):
        """``(rows, hits)``: the ASCII rows of the original text, and which of them RE2
        ``re2`` matches; None when there are none or pyarrow refuses."""
        import pyarrow as pa
        import pyarrow.compute as pc

        blocks = self._arrow
        if not blocks or not blocks[0][2]:
            return None
        rows, array, _ascii = blocks[0]
        try:
            return rows, pc.match_substring_regex(array, re2).to_numpy(zero_copy_only=False)
        except pa.ArrowInvalid:
            return None

    def re2_mask(self, pattern: re.Pattern, plan: Re2Plan) -> np.ndarray | None:
        """Rows where ``pattern.search(row)`` finds a match, searched by RE2 (see
        `re2_translation`): where the plan is exact, RE2's answer; elsewhere only rows RE2
        matches are searched by Python, from RE2's first match on. None when RE2 refuses
        the pattern (too large a program) or the column cannot go to pyarrow."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if (blocks := self._arrow) is None:
            return None
        mask, texts = np.zeros(len(self.texts), dtype=bool), self.texts
        try:
            for rows, array, ascii_rows in blocks:
                if ascii_rows and plan.ascii_exact:
                    found = pc.match_substring_regex(array, plan.ascii)
                    mask[rows] = found.to_numpy(zero_copy_only=False)
                    continue
                at = pc.find_substring_regex(array, plan.ascii if ascii_rows else plan.wide)
                at = at.to_numpy(zero_copy_only=False)
                for i in (at >= 0).nonzero()[0].tolist():
                    text, start = texts[rows[i]], int(at[i])  # a UTF-8 byte offset
                    if not ascii_rows:
                        start = len(text.encode()[:start].decode())
                    mask[rows[i]] = pattern.search(text, start) is not None
        except pa.ArrowInvalid:
            return None
        return mask

    @cached_property
    def folds_to_ascii(self) -> np.ndarray:
        """Rows with a letter that IGNORECASE matches to an ASCII one, unlike its lower
        case (only rows with a non-ASCII character can hold one)."""
        (_ascii, wide), alone = self._layout
        mask = np.zeros(len(self.texts), dtype=bool)
        for char in FOLDS_TO_ASCII:
            if char in wide.joined:
                mask[wide.hit_rows(re.compile(char))] = True
        mask[alone] = [any(char in self.texts[i] for char in FOLDS_TO_ASCII) for i in alone]
        return mask

    def _row(self, i: int) -> str:
        return self.texts[i]

    def _search_rows(self, pattern: re.Pattern, rows) -> np.ndarray:
        texts, search = self.texts, pattern.search
        return np.fromiter(
            (search(texts[i]) is not None for i in rows), dtype=bool, count=len(rows)
        )

    @cached_property
    def char_lengths(self) -> np.ndarray:
        return np.fromiter(map(len, self.texts), dtype=np.int64, count=len(self.texts))

    @cached_property
    def word_counts(self) -> np.ndarray:
        return np.fromiter(
            (len(t.split()) for t in self.texts), dtype=np.int64, count=len(self.texts)
        )

    @cached_property
    def word_sets(self) -> list[frozenset[str]]:
        return [frozenset(WORD.findall(t)) for t in self.lowered.texts]


class _LoweredColumn(TextColumn):
    """A column's rows ``str.lower()``-ed. Its blocks are the original's lower-cased in
    one call each; its row texts are only made when asked for."""

    def __init__(self, original: TextColumn) -> None:
        # No super().__init__(): it would lower every row up front.
        self._original = original

    def __len__(self) -> int:
        return len(self._original)

    @cached_property
    def texts(self) -> list[str]:  # type: ignore[override]  # lazily, see the class docstring
        return [t.lower() for t in self._original.texts]

    @cached_property
    def _layout(self) -> tuple[tuple[_Block, _Block], np.ndarray]:
        (ascii_block, wide), alone = self._original._layout
        return (ascii_block.lowered(), wide.lowered()), alone

    @property
    def _arrow(self):  # type: ignore[override]  # RE2 plans spell out case on the original
        return self._original._arrow

    @cached_property
    def _rows_lowered(self) -> dict[int, str]:
        return {}

    def _row(self, i: int) -> str:
        """Row ``i`` lowered, each row once, only when searched (the rows kept out of the
        blocks are usually few)."""
        if (text := self._rows_lowered.get(i)) is None:
            text = self._rows_lowered[i] = self._original.texts[i].lower()
        return text

    def _search_rows(self, pattern: re.Pattern, rows) -> np.ndarray:
        search = pattern.search
        return np.fromiter(
            (search(self._row(i)) is not None for i in rows), dtype=bool, count=len(rows)
        )


WORD = re.compile(r"\w+")
