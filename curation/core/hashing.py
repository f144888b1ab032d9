"""Content hashes: the identity of an example's content, of a frozen row, of a version.

Everything is SHA-256 over a canonical JSON encoding (sorted keys, no whitespace,
UTF-8), so the same content gives the same hash on every machine and database.
"""

import hashlib
import json
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def normalise_text(text: str) -> str:
    """NFC-normalise and strip surrounding whitespace: two texts that differ only there
    are the same content to a reader and to a model's tokenizer."""
    return unicodedata.normalize("NFC", text).strip()


def content_hash(fields: Mapping[str, str]) -> str:
    """SHA-256 of an example's content fields (never its label)."""
    normalised = {name: normalise_text(value) for name, value in fields.items()}
    return hashlib.sha256(canonical_json(normalised).encode("utf-8")).hexdigest()


def row_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 of one frozen version row (external id, fields, label, split, …)."""
    return hashlib.sha256(canonical_json(record).encode("utf-8")).hexdigest()


def combined_hash(row_hashes: Iterable[str]) -> str:
    """SHA-256 over row hashes in the order given; callers sort them deterministically."""
    digest = hashlib.sha256()
    for value in row_hashes:
        digest.update(value.encode("ascii"))
        digest.update(b"\n")
    return digest.hexdigest()


def file_sha256(path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
