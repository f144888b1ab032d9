"""Prometheus metrics: request latency from django-prometheus, runs from the database.

Runs are executed by workers on any machine, so their numbers are read where every run is
recorded, the ``Run`` table, when /metrics is scraped: every web process reports the same
totals and no worker needs an exporter of its own. One grouped query per scrape.
"""

import os
from datetime import timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, Sum
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily

from curation.models import Run, RunStatus

# Upper bounds (seconds) of the run-duration histogram: from a quick import to a day's training.
RUN_DURATION_BUCKETS = (1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600)


class RunCollector:
    """``assay_runs{kind,status}``, ``assay_run_queue_depth{kind}``,
    ``assay_run_queue_oldest_seconds{kind}`` and ``assay_run_duration_seconds{kind,status}``
    (a histogram of finished runs, from start to finish)."""

    def collect(self):
        yield from self._counts()
        yield self._durations()

    def _counts(self):
        runs = GaugeMetricFamily(
            "assay_runs", "Runs recorded, by kind and status.", labels=["kind", "status"]
        )
        depth = GaugeMetricFamily(
            "assay_run_queue_depth", "Runs waiting for a worker, by kind.", labels=["kind"]
        )
        oldest = GaugeMetricFamily(
            "assay_run_queue_oldest_seconds",
            "How long the oldest run still waiting for a worker has waited, by kind.",
            labels=["kind"],
        )
        now = timezone.now()
        rows = Run.objects.values("kind", "status").annotate(n=Count("pk"), first=Min("created_at"))
        for row in rows.order_by("kind", "status"):
            runs.add_metric([row["kind"], row["status"]], row["n"])
            if row["status"] == RunStatus.QUEUED:
                depth.add_metric([row["kind"]], row["n"])
                oldest.add_metric([row["kind"]], (now - row["first"]).total_seconds())
        return runs, depth, oldest

    def _durations(self):
        family = HistogramMetricFamily(
            "assay_run_duration_seconds",
            "Seconds from start to finish of finished runs, by kind and status.",
            labels=["kind", "status"],
        )
        took = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
        buckets = {
            f"le_{bound}": Count("pk", filter=Q(took__lte=timedelta(seconds=bound)))
            for bound in RUN_DURATION_BUCKETS
        }
        rows = (
            Run.objects.filter(started_at__isnull=False, finished_at__isnull=False)
            .annotate(took=took)
            .values("kind", "status")
            .annotate(n=Count("pk"), total=Sum("took"), **buckets)
            .order_by("kind", "status")
        )
        for row in rows:
            cumulative = [(str(float(b)), row[f"le_{b}"]) for b in RUN_DURATION_BUCKETS]
            total = row["total"].total_seconds() if row["total"] is not None else 0.0
            family.add_metric(
                [row["kind"], row["status"]], [*cumulative, ("+Inf", row["n"])], total
            )
        return family


_RUN_REGISTRY = CollectorRegistry(auto_describe=False)
_RUN_REGISTRY.register(RunCollector())


def metrics_exposition() -> bytes:
    """The Prometheus text format of this process's metrics (or, under gunicorn with
    PROMETHEUS_MULTIPROC_DIR, of all its worker processes) and of the runs."""
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry) + generate_latest(_RUN_REGISTRY)
