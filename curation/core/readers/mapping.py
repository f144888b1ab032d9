"""The typed mapping step: a source record becomes content fields, a label and an id."""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .errors import ErrorFactory
from .options import ID_KEY, LABEL_KEY, PARENT_KEY

# Text PostgreSQL cannot store (a NUL character; a lone UTF-16 surrogate, which only a JSON
# \ud800-style escape can produce) while SQLite takes it: refused on both, so a file that
# imports on one database imports on the other.
UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class MappedRecord:
    position: int
    fields: dict[str, str]
    label: str  # "" when the record is unlabelled
    external_id: str | None  # None when the file has no id column
    parent: str | None = None  # synthetic imports: the parent example's id, when mapped


def resolve_mapping(
    mapping: dict[str, str],
    *,
    content_fields: list[str],
    columns: Iterable[str],
    error: ErrorFactory,
) -> dict[str, str]:
    """The mapping to use: the one given, with every field it leaves out taken from the
    column of the same name when the file has one. Every content field must be mapped."""
    columns = list(columns)
    known = [*content_fields, LABEL_KEY, ID_KEY, PARENT_KEY]
    unknown = sorted(set(mapping) - set(known))
    if unknown:
        raise error(
            f"the mapping names unknown fields: {', '.join(unknown)} "
            f"(this project's fields: {', '.join(known)})",
            option="mapping",
        )
    resolved = dict(mapping)
    for field in known:
        if field not in resolved and field in columns:
            resolved[field] = field
    unmapped = [field for field in content_fields if field not in resolved]
    if unmapped:
        raise error(
            f"no column for the field{'s' if len(unmapped) > 1 else ''} "
            f"{', '.join(unmapped)}; map {unmapped[0]} to a column with the mapping option "
            f"(columns found: {', '.join(columns) or 'none'})",
            option="mapping",
        )
    return resolved


def check_columns_present(mapping: dict[str, str], columns: list[str], error: ErrorFactory):
    for field, column in mapping.items():
        if column not in columns:
            raise error(missing_column_message(field, column, columns), field=column)


def missing_column_message(field: str, column: str, columns: Iterable[str]) -> str:
    found = ", ".join(columns) or "none"
    return f"column '{column}' for field '{field}' not found; columns found: {found}"


class RecordMapper:
    """Turns (position, record) into a `MappedRecord`, refusing anything a user would not
    want imported silently: text that is not text, empty content, labels outside the set,
    NUL characters (refused, not stripped: stripping would change the text the content hash
    and the source file agree on, and hide a file that is probably binary or corrupt).

    ``allowed_labels`` is the project's label set, or None to accept any label.
    """

    def __init__(
        self,
        mapping: dict[str, str],
        *,
        content_fields: list[str],
        allowed_labels: list[str] | None,
        error: ErrorFactory,
    ) -> None:
        self.content = [(field, mapping[field]) for field in content_fields]
        self.label_column = mapping.get(LABEL_KEY)
        self.id_column = mapping.get(ID_KEY)
        self.parent_column = mapping.get(PARENT_KEY)
        self.allowed_labels = frozenset(allowed_labels) if allowed_labels else None
        self._allowed_text = ", ".join(allowed_labels or [])
        self.error = error

    def __call__(self, position: int, record: dict[str, Any]) -> MappedRecord:
        fields = {}
        for field, column in self.content:
            value = self._value(position, record, field, column)
            if not isinstance(value, str):
                raise self.error(
                    f"wrong type: expected text, got {json_type_name(value)}", position, column
                )
            if not value.strip():
                raise self.error(f"empty text for {field}", position, column)
            self._check_storable(value, position, column)
            fields[field] = value
        return MappedRecord(
            position=position,
            fields=fields,
            label=self._label(position, record),
            external_id=self._external_id(position, record),
            parent=self._parent(position, record),
        )

    def _parent(self, position: int, record: dict[str, Any]) -> str | None:
        if self.parent_column is None:
            return None
        return self._as_text(record.get(self.parent_column), position, self.parent_column) or None

    def _value(self, position: int, record: dict[str, Any], field: str, column: str) -> Any:
        try:
            return record[column]
        except KeyError:
            raise self.error(
                missing_column_message(field, column, record), position, column
            ) from None

    def _label(self, position: int, record: dict[str, Any]) -> str:
        if self.label_column is None:
            return ""
        value = record.get(self.label_column)
        label = self._as_text(value, position, self.label_column)
        if len(label) > 255:
            raise self.error("label longer than 255 characters", position, self.label_column)
        if label and self.allowed_labels is not None and label not in self.allowed_labels:
            raise self.error(
                f"label '{label}' is not in the project's label set "
                f"(allowed: {self._allowed_text})",
                position,
                self.label_column,
            )
        return label

    def _external_id(self, position: int, record: dict[str, Any]) -> str | None:
        if self.id_column is None:
            return None
        value = self._value(position, record, ID_KEY, self.id_column)
        external_id = self._as_text(value, position, self.id_column)
        if not external_id:
            raise self.error("empty id", position, self.id_column)
        if len(external_id) > 255:
            raise self.error("id longer than 255 characters", position, self.id_column)
        return external_id

    def _as_text(self, value: Any, position: int, column: str) -> str:
        """Labels and ids may be text or whole numbers (class indices, numeric keys)."""
        if value is None:
            return ""
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            raise self.error(
                f"wrong type: expected text, got {json_type_name(value)}", position, column
            )
        self._check_storable(value, position, column)
        return value.strip()

    def _check_storable(self, value: str, position: int, column: str) -> None:
        found = UNSTORABLE_TEXT.search(value)
        if found is None:
            return
        character = found.group()
        if character == "\x00":
            problem = "a NUL character (\\x00)"
        else:
            problem = f"a lone surrogate (\\u{ord(character):04x}), which is not valid Unicode"
        raise self.error(
            f"the text contains {problem} at character {found.start() + 1}; "
            "databases cannot store it, remove it from the file",
            position,
            column,
        )


def json_type_name(value: Any) -> str:
    """How a user would name a value's type: JSON's null, Python's int/float/list/dict."""
    if value is None:
        return "null"
    return type(value).__name__
