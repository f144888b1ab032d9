"""Errors raised while reading a file, located by line (text files) or row (columnar files)."""

from collections.abc import Callable

from curation.exceptions import ImportFileError


class ImportRowError(ImportFileError):
    """An `ImportFileError` in a Parquet file or saved dataset: these have rows, not lines,
    so the message says "row N" (``line`` still holds N for `as_dict`)."""

    def __init__(
        self,
        message: str,
        *,
        file: str,
        line: int | None = None,
        field: str | None = None,
        option: str | None = None,
    ) -> None:
        super().__init__(message, file=file, line=line, field=field, option=option)
        if line is not None:
            self.args = (str(self).replace(f"{file}, line {line}", f"{file}, row {line}", 1),)


# error(message, position=None, field=None, option=None) -> the exception to raise
ErrorFactory = Callable[..., ImportFileError]


def error_factory(file: str, unit: str) -> ErrorFactory:
    """A function building located errors for one file; ``unit`` is "line" or "row"."""
    cls = ImportRowError if unit == "row" else ImportFileError

    def error(
        message: str,
        position: int | None = None,
        field: str | None = None,
        option: str | None = None,
    ):
        return cls(message, file=file, line=position, field=field, option=option)

    return error
