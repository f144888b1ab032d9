"""How to read a file for import: `ImportOptions`, and telling a format from a path."""

import codecs
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from curation.exceptions import AssayError

FORMATS = ("auto", "csv", "tsv", "jsonl", "parquet", "hf_dataset")
EXTENSION_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
# Keys of a mapping besides the project's content fields.
LABEL_KEY = "label"
ID_KEY = "id"
PARENT_KEY = "parent"  # synthetic imports: the id of the example a record was made from
SYNTHETIC_PROVENANCE_KEYS = ("generator", "method", "prompt", "seed")


@dataclass(frozen=True)
class ImportOptions:
    """Everything needed to turn a file's records into examples; stored in run params."""

    format: str = field(
        default="auto", metadata={"help": "csv, tsv, jsonl, parquet, hf_dataset, or auto"}
    )
    mapping: dict[str, str] = field(
        default_factory=dict,
        metadata={
            "help": "Assay field -> source column: the project's content fields, and optional "
            "'label' and 'id'. Fields left out take the column of the same name when present."
        },
    )
    has_header: bool = field(default=True, metadata={"help": "First line holds column names."})
    columns: list[str] | None = field(
        default=None, metadata={"help": "Column names for a delimited file (replace the header)."}
    )
    delimiter: str | None = field(
        default=None, metadata={"help": "One character; ',' for csv and TAB for tsv if unset."}
    )
    quoting: bool = field(
        default=True, metadata={"help": "Honour '\"' quoting; off for files with bare quotes."}
    )
    encoding: str = field(default="utf-8", metadata={"help": "Text encoding of csv/tsv/jsonl."})
    split: str | None = field(default=None, metadata={"help": "Split of a saved DatasetDict."})
    synthetic: dict[str, str] | None = field(
        default=None,
        metadata={
            "help": "Import as synthetic examples, pending human review, with this provenance: "
            "generator, method, prompt, seed. Map 'parent' to a column of parent example ids."
        },
    )

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise AssayError(
                f"Unknown format '{self.format}'; expected one of {', '.join(FORMATS)}."
            )
        if self.delimiter is not None and len(self.delimiter) != 1:
            raise AssayError(f"The delimiter must be one character, not {self.delimiter!r}.")
        try:
            codecs.lookup(self.encoding)
        except LookupError as exc:
            raise AssayError(f"Unknown text encoding '{self.encoding}'.") from exc
        if not isinstance(self.mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in self.mapping.items()
        ):
            raise AssayError("The field mapping must map field names to column names.")
        # Frozen, but the dict/list values are the caller's: copy them so later edits by the
        # caller cannot change options already stored in a run.
        object.__setattr__(self, "mapping", dict(self.mapping))
        if self.synthetic is not None:
            unknown = sorted(set(self.synthetic) - set(SYNTHETIC_PROVENANCE_KEYS))
            if unknown:
                raise AssayError(
                    f"Unknown synthetic provenance: {', '.join(unknown)} (expected "
                    f"{', '.join(SYNTHETIC_PROVENANCE_KEYS)})."
                )
            if not str(self.synthetic.get("generator", "")).strip():
                raise AssayError("A synthetic import needs the generator's name.")
            provenance = {key: str(value) for key, value in self.synthetic.items()}
            if any("\x00" in value for value in provenance.values()):
                raise AssayError("The synthetic provenance contains a NUL character (\\x00).")
            object.__setattr__(self, "synthetic", provenance)
        elif PARENT_KEY in self.mapping:
            raise AssayError("Only a synthetic import maps a 'parent' column.")
        if self.columns is not None:
            object.__setattr__(self, "columns", [str(c) for c in self.columns])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ImportOptions":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise AssayError(f"Unknown import options: {', '.join(unknown)}.")
        return cls(**data)

    def resolved_format(self, path: Path) -> str:
        return detect_format(path) if self.format == "auto" else self.format


def detect_format(path: Path) -> str:
    """The format a path's extension (or being a directory) implies; a compression suffix
    (``data.csv.gz``, ``data.jsonl.zst``) is looked through."""
    from .compression import strip_compression_suffix

    if path.is_dir():
        return "hf_dataset"
    found = EXTENSION_FORMATS.get(strip_compression_suffix(path).suffix.lower())
    if found is None:
        raise AssayError(
            f"Cannot tell the format of '{path.name}' from its extension; choose one of "
            f"{', '.join(FORMATS[1:])} with the format option."
        )
    return found
