"""Errors of the Label Studio integration that a user can act on."""

from curation.exceptions import AssayError


class LabelStudioError(AssayError):
    """Label Studio refused a call or answered something Assay cannot use."""


class LabelStudioUnavailable(LabelStudioError):
    """Label Studio does not answer at the configured URL (down, wrong URL)."""


class LabelStudioNotLinked(AssayError):
    """The project has no Label Studio project yet."""
