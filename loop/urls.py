from django.urls import path

from loop.views import pages

prefix = "projects/<int:project_id>/loop/"

urlpatterns = [
    path(prefix, pages.monitoring, name="loop-monitoring"),
    path(f"{prefix}policy/", pages.policy_update, name="loop-policy"),
    path(f"{prefix}live-quality/", pages.live_quality, name="loop-live-quality"),
    path(f"{prefix}feedback/", pages.feedback_queue, name="loop-feedback"),
    path(f"{prefix}feedback/push/", pages.feedback_push, name="loop-feedback-push"),
    path(
        f"{prefix}feedback/<int:feedback_id>/decide/",
        pages.feedback_decide,
        name="loop-feedback-decide",
    ),
    path(f"{prefix}triggers/", pages.triggers, name="loop-triggers"),
    path(f"{prefix}tick/", pages.tick, name="loop-tick"),
    path(f"{prefix}costs/", pages.costs, name="loop-costs"),
    path("loop/cycles/<int:cycle_id>/", pages.cycle_detail, name="loop-cycle-detail"),
    path(
        "loop/cycles/<int:cycle_id>/experiment/",
        pages.cycle_experiment_start,
        name="loop-cycle-experiment",
    ),
]
