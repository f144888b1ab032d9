"""The periodic job: for every project with loop work, push pending feedback to Label
Studio, apply pulled reviews, measure active deployments, evaluate triggers, advance
open retraining cycles, and (once the project uses it) top up, send and pull the
live-quality sample. `loop_tick` (command) and the task call the same function."""

from django.db.models import Q

from curation.models import Project
from loop.models import RetrainingCycle
from serving.models import Deployment


def loop_tick(*, project: Project, push_feedback: bool = True) -> dict:
    from loop.services.cycles import retraining_cycle_advance
    from loop.services.feedback import feedback_push_pending, feedback_reviews_apply
    from loop.services.live_quality import live_quality_refresh
    from loop.services.monitoring import monitoring_snapshot_compute
    from loop.services.triggers import triggers_evaluate

    report: dict = {"project": project.name, "reviews": feedback_reviews_apply(project=project)}
    if push_feedback:
        push = feedback_push_pending(project=project)
        report["feedback_push_run"] = push.pk if push else None
    snapshots = []
    for deployment in Deployment.objects.filter(project=project, status=Deployment.Status.ACTIVE):
        snapshots.append(monitoring_snapshot_compute(deployment=deployment).pk)
    report["snapshots"] = snapshots
    report["cycles_started"] = [c.pk for c in triggers_evaluate(project=project)]
    open_cycles = project.retraining_cycles.filter(
        status__in=(RetrainingCycle.Status.AWAITING_APPROVAL, RetrainingCycle.Status.TRAINING)
    )
    report["cycles"] = {c.pk: retraining_cycle_advance(cycle=c).status for c in open_cycles}
    report["live_quality"] = live_quality_refresh(project=project)
    return report


def loop_projects():
    """Projects with something for the loop: a deployment, a trigger or an open cycle."""
    return Project.objects.filter(
        Q(deployments__isnull=False) | Q(retraining_triggers__isnull=False)
    ).distinct()
