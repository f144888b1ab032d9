"""Fast plain-row INSERTs for large writes: imports and version builds."""

import functools
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections


class RowInserter:
    """INSERTs plain rows of one model with one ``executemany`` per batch.

    ``bulk_create`` builds model instances and compiles a statement every ~100 rows
    (SQLite's parameter limit); on a million-row import that was four fifths of the time.
    Rows are dicts keyed by field name (foreign keys by pk); fields a row leaves out take
    their model default. No signals are sent, as with ``bulk_create``.
    """

    def __init__(self, model) -> None:
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]

    def insert(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        db = connections[DEFAULT_DB_ALIAS]  # looked up once: the proxy costs per access
        quote = db.ops.quote_name
        columns = ", ".join(quote(f.column) for f in self.fields)
        placeholders = ", ".join(["%s"] * len(self.fields))
        sql = f"INSERT INTO {quote(self.model._meta.db_table)} ({columns}) VALUES ({placeholders})"
        converters = [(f.name, f.get_default(), self._converter(f, db)) for f in self.fields]
        params = [
            tuple(
                convert(row.get(name, default)) if convert else row.get(name, default)
                for name, default, convert in converters
            )
            for row in rows
        ]
        with db.cursor() as cursor:
            cursor.executemany(sql, params)

    @staticmethod
    def _converter(field, db):
        """How to adapt a field's values for the driver; None when they pass as they are."""
        kind = field.get_internal_type()
        if kind == "JSONField":
            return lambda value: db.ops.adapt_json_value(value, field.encoder)
        if kind in ("DateTimeField", "DateField"):
            # One timestamp per batch: adapt it once, not once per row.
            return functools.cache(lambda value: field.get_db_prep_save(value, db))
        return None
