"""Importing examples from files: CSV, TSV, JSON Lines, Parquet and saved HF datasets.

`examples_import` does the work (all or nothing, see `.files`); `import_start` queues it
as a run whose handler, `import_run_handler`, is what both the worker and the
``assay_import`` command execute.
"""

from curation.core.readers import ImportOptions

from .files import ImportReport, examples_import
from .runs import import_run_handler, import_run_params, import_start, import_upload_store

__all__ = [
    "ImportOptions",
    "ImportReport",
    "examples_import",
    "import_run_handler",
    "import_run_params",
    "import_start",
    "import_upload_store",
]
