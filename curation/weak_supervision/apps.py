"""Weak supervision: labeling functions, their analysis, and the label model that turns
their votes into weak labels (Django app label ``weak_supervision``)."""

from django.apps import AppConfig


class WeakSupervisionConfig(AppConfig):
    name = "curation.weak_supervision"
    label = "weak_supervision"
    verbose_name = "Weak supervision"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from curation.services.runs import register_run_handler

        services = "curation.weak_supervision.services"
        register_run_handler("lf_apply", f"{services}.application.lf_apply_run_handler")
        register_run_handler("label_model_fit", f"{services}.fit.label_model_fit_run_handler")
