"""Reads for the monitoring pages and API: each deployment's windows, the alerts, and the
thresholds in force (the project's own, else the defaults in `loop.core.drift.METRICS`)."""

from curation.models import Project
from loop.core import drift
from loop.models import Alert, MonitoringSnapshot
from loop.selectors.policy import loop_policy
from serving.models import Deployment

# Numbers a chart draws that live in a snapshot's details rather than its metrics.
DETAIL_SERIES = ("mmd_p_value", "latency_p50_ms")


def thresholds_in_force(project: Project) -> dict[str, float]:
    """Every monitored metric's threshold: the project's where set, else the default."""
    saved = loop_policy(project).alert_thresholds or {}
    return {name: float(saved.get(name, m.threshold)) for name, m in drift.METRICS.items()}


def snapshot_values(snapshot: MonitoringSnapshot) -> dict:
    """The metrics plus the chartable details of one window."""
    values = dict(snapshot.metrics)
    values.update({k: snapshot.details.get(k) for k in DETAIL_SERIES if k in snapshot.details})
    return values


def snapshots_for_project(project: Project, *, limit: int = 26) -> list[dict]:
    """Per deployment (newest first): its latest ``limit`` windows, oldest first."""
    rows = []
    for deployment in Deployment.objects.filter(project=project).order_by("-created_at"):
        windows = list(deployment.snapshots.order_by("-window_start")[:limit])[::-1]
        if windows or deployment.is_active:
            rows.append({"deployment": deployment, "snapshots": windows})
    return rows


def alerts_for_project(project: Project, *, limit: int = 100):
    return Alert.objects.filter(project=project).select_related("deployment")[:limit]
