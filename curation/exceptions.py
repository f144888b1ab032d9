"""Errors a user can act on. Their message is shown as is, on the page, the API and the CLI."""


class AssayError(Exception):
    """Base class for errors whose message is meant for the user."""


class RunAlreadyActive(AssayError):
    """A run of the same kind is already queued or running on the same object."""


class VersionImmutable(AssayError):
    """The dataset version is approved (or otherwise closed) and cannot change."""


class InvalidTransition(AssayError):
    """A dataset version cannot move from its current status to the one asked for."""


class ImportFileError(AssayError):
    """A file cannot be imported. Names the file, and the line and field when known.

    ``option`` names the import option that fixes it (an `ImportOptions` field, which is
    also the API's and the form's name for it); the message says it in those words, and
    only the command line translates it into its flag (`assay_import.OPTION_FLAGS`)."""

    def __init__(
        self,
        message: str,
        *,
        file: str,
        line: int | None = None,
        field: str | None = None,
        option: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.option = option
        self.reason = message
        where = file
        if line is not None:
            where += f", line {line}"
        if field is not None:
            where += f", field '{field}'"
        super().__init__(f"{where}: {message}")

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "option": self.option,
            "reason": self.reason,
        }


class RunNotActive(AssayError):
    """The run has already ended, so there is nothing to cancel."""


class RunCancelled(BaseException):  # noqa: N818 - a signal like KeyboardInterrupt, not an error
    """Raised at a run's next progress point after someone asked to cancel it.

    A BaseException, like KeyboardInterrupt, so that a handler's ``except Exception``
    cannot swallow it: it must unwind through the handler's data transaction (which rolls
    back) up to `run_execute`, which records the run as cancelled."""

    def __init__(self, cancelled_by: str) -> None:
        super().__init__(f"Cancelled by {cancelled_by}.")
        self.cancelled_by = cancelled_by
