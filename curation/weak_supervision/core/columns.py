"""Text columns prepared once and shared by every LF that reads them.

The fast path joins a column's rows into one string with a separator no row contains, so a
compiled pattern makes one pass over the whole column (``pattern.search`` from row to row)
instead of one call per row. Row boundaries are kept as offsets; a match that runs across a
separator is never trusted: the rows it touches are searched again one by one, so the
result is exactly what ``pattern.search(row)`` gives for every row. Searches are bounded to windows
of rows, so a pattern that runs across separators costs a window at most.
"""

import re
from functools import cached_property

import numpy as np

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


class TextColumn:
    """One content field of every row, with its joined form built on first use."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = ["" if t is None else str(t) for t in texts]

    def __len__(self) -> int:
        return len(self.texts)

    @cached_property
    def lowered(self) -> "TextColumn":
        return TextColumn([t.lower() for t in self.texts])

    @cached_property
    def _joined(self) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
        """The rows joined by the separator; rows that contain it are left empty in the
        joined string (and searched on their own)."""
        own = np.fromiter((SEPARATOR in t for t in self.texts), dtype=bool, count=len(self))
        parts = [t if not alone else "" for t, alone in zip(self.texts, own, strict=True)]
        lengths = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
        starts = np.zeros(len(parts), dtype=np.int64)
        np.cumsum(lengths[:-1] + 1, out=starts[1:])
        return SEPARATOR.join(parts), starts, starts + lengths, own.nonzero()[0]

    def search_mask(self, pattern: re.Pattern, *, joinable: bool = True) -> np.ndarray:
        """Rows where ``pattern.search(row)`` finds a match."""
        if not joinable or not self.texts:
            return self._search_rows(pattern, range(len(self.texts)))
        joined, starts, ends, alone = self._joined
        mask = np.zeros(len(self.texts), dtype=bool)
        search, n_rows = pattern.search, len(self.texts)
        for first in range(0, n_rows, WINDOW_ROWS):
            last = min(first + WINDOW_ROWS, n_rows) - 1
            position, endpos = int(starts[first]), int(ends[last])
            while (match := search(joined, position, endpos)) is not None:
                start, end = match.span()
                row = int(np.searchsorted(starts, start, side="right")) - 1
                if end <= ends[row]:
                    mask[row] = True
                else:  # the match crossed a separator: re-check the rows it touched
                    to_row = int(np.searchsorted(starts, end, side="right")) - 1
                    mask[row : to_row + 1] = self._search_rows(pattern, range(row, to_row + 1))
                    row = to_row
                if row >= last:
                    break
                position = int(starts[row + 1])
        if len(alone):
            mask[alone] = self._search_rows(pattern, alone)
        return mask

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


WORD = re.compile(r"\w+")
