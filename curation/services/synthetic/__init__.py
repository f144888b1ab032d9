"""Synthetic examples: generated from seed examples (built-in augmentation, or an
OpenAI-compatible endpoint when ``ASSAY_SYNTHETIC_ENDPOINT`` is configured) or imported
from a file (`ImportOptions.synthetic`); always pending until a person accepts them on
the review page, and flagged when they nearly duplicate a real example.

No version takes a synthetic example before it is accepted
(`curation.services.versions.build.version_eligible_examples`), and a version holds at
most the project's ``synthetic_share_cap`` of them.
"""

from .generation import (
    synthetic_generate,
    synthetic_generate_run_handler,
    synthetic_generate_start,
    synthetic_near_duplicates_flag,
)
from .review import synthetic_example_accept, synthetic_example_edit, synthetic_example_reject

__all__ = [
    "synthetic_example_accept",
    "synthetic_example_edit",
    "synthetic_example_reject",
    "synthetic_generate",
    "synthetic_generate_run_handler",
    "synthetic_generate_start",
    "synthetic_near_duplicates_flag",
]
