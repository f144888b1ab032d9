"""The loop that keeps a model fresh: production feedback back into curation, monitoring
of deployments (drift, quality, errors) with alerts, retraining triggers and the
approval-gated retraining chain, and the cost of runs and deployments."""

from django.apps import AppConfig


class LoopConfig(AppConfig):
    name = "loop"
    verbose_name = "Loop"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from serving.models import FeedbackEvent

        from .services.feedback import feedback_event_saved

        # The front door's events API stays unaware of curation: a new correction or
        # negative rating becomes a pending example through this receiver.
        post_save.connect(feedback_event_saved, sender=FeedbackEvent, dispatch_uid="loop-feedback")
