"""Dataset versions: building a frozen, content-hashed snapshot of a project's curated
examples, reviewing it, and checking that nothing in it changed since.

Review workflow::

    draft ──submit──▶ in_review ──approve──▶ approved   (final, immutable)
      │                   │
      └──────reject───────┴──────reject───▶ rejected    (final)

A draft may be rejected straight away, so a build that is plainly wrong can be closed
without a pointless review round. Approval needs a submitted version (someone must have
asked for review) and a clean `dataset_version_verify`. Rejected versions stay rejected:
their members are frozen, so fixing the data means building a new version. Anything asked
of an approved version raises `VersionImmutable`; the database triggers of migration 0002
refuse too. Only a data lead or admin approves or rejects (`curation.permissions`);
every transition is in the audit log.
"""

from curation.services.versions.build import (
    FROZEN_COLUMNS,
    dataset_version_build,
    member_row_hash,
    version_build_run_handler,
    version_build_start,
    version_eligible_examples,
    version_hash,
)
from curation.services.versions.review import (
    dataset_version_approve,
    dataset_version_reject,
    dataset_version_submit,
)
from curation.services.versions.verification import VersionVerification, dataset_version_verify

__all__ = [
    "FROZEN_COLUMNS",
    "VersionVerification",
    "dataset_version_approve",
    "dataset_version_build",
    "dataset_version_reject",
    "dataset_version_submit",
    "dataset_version_verify",
    "member_row_hash",
    "version_build_run_handler",
    "version_build_start",
    "version_eligible_examples",
    "version_hash",
]
