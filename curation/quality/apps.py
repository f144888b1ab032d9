from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "curation.quality"
    label = "quality"
    verbose_name = "Data quality"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from curation.services.runs import register_run_kind

        register_run_kind(
            "quality_check",
            handler="curation.quality.services.checks.quality_check_run_handler",
            title="Quality check",
            result_links="curation.quality.views.checks.run_result_links",
        )
