"""Label Studio data-manager filters Assay sends when it lists tasks (plain dicts, JSON-encoded
into the ``query`` parameter by the adapter)."""

from datetime import UTC, datetime

# Tasks with at least one annotation, submitted or cancelled (LS counts them separately).
ANNOTATED_FILTER = {
    "conjunction": "or",
    "items": [
        {"filter": f"filter:tasks:{column}", "operator": "greater", "type": "Number", "value": 0}
        for column in ("total_annotations", "cancelled_annotations")
    ],
}


def filter_time(value: datetime) -> str:
    """The one datetime format LS's data-manager filters accept (UTC, trailing Z)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def updated_after_filter(moment: datetime) -> dict:
    """Tasks LS changed after ``moment``."""
    return {
        "filter": "filter:tasks:updated_at",
        "operator": "greater",
        "type": "Datetime",
        "value": filter_time(moment),
    }
