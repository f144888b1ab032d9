"""Serving: deployments of trained models, the OpenAI-compatible front door for
applications, the request log, feedback events and A/B experiments."""

from django.apps import AppConfig


class ServingConfig(AppConfig):
    name = "serving"
    verbose_name = "Serving"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from curation.permissions import Action
        from curation.services.runs import register_run_kind

        register_run_kind(
            "deployment_start",
            handler="serving.services.deployments.deployment_start_run_handler",
            title="Deployment start",
            result_links="serving.views.pages.run_result_links",
            action=Action.SERVE,
        )
