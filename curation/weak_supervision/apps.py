"""Weak supervision: labeling functions, their analysis, and the label model that turns
their votes into weak labels (Django app label ``weak_supervision``)."""

from django.apps import AppConfig


class WeakSupervisionConfig(AppConfig):
    name = "curation.weak_supervision"
    label = "weak_supervision"
    verbose_name = "Weak supervision"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from curation.services.runs import register_run_kind

        services = "curation.weak_supervision.services"
        links = "curation.weak_supervision.views.runs.run_result_links"
        register_run_kind(
            "lf_apply",
            handler=f"{services}.application.lf_apply_run_handler",
            title="Labeling-function run",
            result_links=links,
        )
        register_run_kind(
            "label_model_fit",
            handler=f"{services}.fit.label_model_fit_run_handler",
            title="Label model fit",
            result_links=links,
        )
