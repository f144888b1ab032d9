"""Import a CSV, TSV, JSON Lines, Parquet file or saved HF dataset into a project."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from curation.exceptions import AssayError
from curation.management.cli import add_user_argument, command_user, project_from_ref, run_inline
from curation.permissions import Action
from curation.services.imports import ImportOptions, import_run_params

DELIMITER_NAMES = {"\\t": "\t", "tab": "\t", "TAB": "\t"}


# The flag for each import option an error can name (`ImportFileError.option`).
OPTION_FLAGS = {
    "mapping": "--map FIELD=COLUMN",
    "encoding": "--encoding",
    "columns": "--columns a,b",
    "split": "--split",
    "format": "--format",
}


class Command(BaseCommand):
    help = (
        "Import examples from a file (all or nothing). The format follows the extension "
        "(.csv .tsv .jsonl/.json .parquet, a folder = saved HF dataset; text files may be "
        "gzip or Zstandard compressed, e.g. .csv.gz, .jsonl.zst); fields the mapping "
        "leaves out take the column of the same name (likewise 'label' and 'id')."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="Project id or exact name.")
        parser.add_argument("path", help="File, or folder of a saved Hugging Face dataset.")
        parser.add_argument(
            "--format",
            default="auto",
            choices=["auto", "csv", "tsv", "jsonl", "parquet", "hf_dataset"],
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="FIELD=COLUMN",
            help="Take FIELD (a content field, 'label' or 'id') from COLUMN; repeatable.",
        )
        parser.add_argument("--no-header", action="store_true", help="First line is data.")
        parser.add_argument("--columns", help="Comma-separated column names (csv/tsv).")
        parser.add_argument("--delimiter", help="One character; '\\t' or 'tab' for a tab.")
        parser.add_argument(
            "--no-quoting", action="store_true", help="Treat '\"' as an ordinary character."
        )
        parser.add_argument("--encoding", default="utf-8")
        parser.add_argument("--split", help="Split of a saved DatasetDict.")
        parser.add_argument(
            "--synthetic-generator",
            help="Import as synthetic examples (pending review) made by this generator.",
        )
        parser.add_argument("--synthetic-method", help="How they were made (e.g. a prompt name).")
        parser.add_argument("--synthetic-seed", help="The generator's seed.")
        add_user_argument(parser)

    def handle(self, *args, **options):
        user = command_user(options["user"])
        project = project_from_ref(options["project"], user=user, action=Action.EDIT_DATA)
        try:
            import_options = ImportOptions(
                format=options["format"],
                mapping=parse_mapping(options["map"]),
                has_header=not options["no_header"],
                columns=_split_names(options["columns"]),
                delimiter=DELIMITER_NAMES.get(options["delimiter"], options["delimiter"]),
                quoting=not options["no_quoting"],
                encoding=options["encoding"],
                split=options["split"],
                synthetic=_synthetic(options),
            )
            # The user's own file: the handler deletes only uploaded copies.
            params = import_run_params(path=Path(options["path"]), options=import_options)
        except AssayError as exc:
            raise CommandError(str(exc)) from exc
        run = run_inline(
            created_by=user,
            kind="import",
            target=project,
            project=project,
            params=params,
            quiet=options["verbosity"] == 0,
            option_flags=OPTION_FLAGS,
        )
        self.stdout.write(describe_report(run.result))


def _synthetic(options) -> dict[str, str] | None:
    if not options["synthetic_generator"]:
        return None
    provenance = {"generator": options["synthetic_generator"]}
    for key in ("method", "seed"):
        if options[f"synthetic_{key}"]:
            provenance[key] = options[f"synthetic_{key}"]
    return provenance


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise CommandError(f"--map expects FIELD=COLUMN, got '{pair}'.")
        mapping[field.strip()] = column.strip()
    return mapping


def _split_names(value: str | None) -> list[str] | None:
    if not value:
        return None
    return [name.strip() for name in value.split(",")]


def describe_report(report: dict) -> str:
    lines = [
        f"Imported {report['created']:,} examples from {report['file']} "
        f"({report['labelled']:,} labelled)."
    ]
    if report["label_set_added"]:
        lines.append(f"Label set adopted from the file: {', '.join(report['label_set_added'])}.")
    lines.append(
        f"Exact duplicates: {report['duplicates_in_file']:,} within the file, "
        f"{report['duplicates_of_existing']:,} of examples already in the project."
    )
    for sample in report["duplicate_samples"]:
        where = ", ".join(f"{k} {v}" for k, v in sample.items() if k != "duplicate_of")
        lines.append(f"  {where} duplicates {sample['duplicate_of']}")
    return "\n".join(lines)
