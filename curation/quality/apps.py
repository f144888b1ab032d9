from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "curation.quality"
    label = "quality"
    verbose_name = "Data quality"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from curation.services.runs import register_run_handler

        register_run_handler(
            "quality_check", "curation.quality.services.checks.quality_check_run_handler"
        )
