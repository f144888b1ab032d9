"""The readiness report of a dataset version: computed from the version's members by the
pure checks in `curation.core.readiness`, stored on the version as JSON."""

from django.db import transaction
from django.utils import timezone

from curation.core.readiness import readiness_checks, summarise
from curation.exceptions import VersionImmutable
from curation.models import DatasetVersion
from curation.models import VersionStatus as Status
from curation.selectors.readiness import readiness_inputs

OPEN_STATUSES = (Status.DRAFT, Status.IN_REVIEW)


def readiness_report(version: DatasetVersion) -> dict:
    """The report for ``version`` as it is now, without storing it."""
    return summarise(readiness_checks(readiness_inputs(version)))


@transaction.atomic
def version_readiness_refresh(*, version: DatasetVersion) -> DatasetVersion:
    """Compute and store the report of a draft or in-review version. Approved and
    rejected versions keep the report they were decided on."""
    version = (
        DatasetVersion.objects.select_for_update().select_related("project").get(pk=version.pk)
    )
    if version.status not in OPEN_STATUSES:
        raise VersionImmutable(
            f"{version} is {version.get_status_display().lower()}; its readiness report is "
            f"the one it was decided on."
        )
    version.readiness = readiness_report(version)
    version.readiness_at = timezone.now()
    version.save(update_fields=["readiness", "readiness_at"])
    return version


def failing_checks(report: dict) -> list[dict]:
    return [check for check in report.get("checks", []) if check["status"] == "fail"]
