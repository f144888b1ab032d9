"""Data-quality services: running checks, editing the expectation suite, reviewing findings."""

from curation.quality.services.checks import (
    quality_check_execute,
    quality_check_run_handler,
    quality_check_start,
)
from curation.quality.services.expectations import (
    expectation_rule_create,
    expectation_rule_delete,
    expectation_rule_update,
    expectation_suite_defaults_create,
)
from curation.quality.services.findings import (
    finding_dismiss,
    finding_reopen,
    finding_resolve,
    findings_send_for_review,
)

__all__ = [
    "expectation_rule_create",
    "expectation_rule_delete",
    "expectation_rule_update",
    "expectation_suite_defaults_create",
    "finding_dismiss",
    "finding_reopen",
    "finding_resolve",
    "findings_send_for_review",
    "quality_check_execute",
    "quality_check_run_handler",
    "quality_check_start",
]
