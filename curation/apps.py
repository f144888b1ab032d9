from django.apps import AppConfig


class CurationConfig(AppConfig):
    name = "curation"
    verbose_name = "Curation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from curation.services.runs import register_run_handler

        register_run_handler(
            "synthetic_generate", "curation.services.synthetic.synthetic_generate_run_handler"
        )
