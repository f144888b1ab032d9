from django.apps import AppConfig


class CurationConfig(AppConfig):
    name = "curation"
    verbose_name = "Curation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from curation.services.runs import register_run_kind

        register_run_kind(
            "synthetic_generate",
            handler="curation.services.synthetic.synthetic_generate_run_handler",
            title="Synthetic generation",
            result_links="curation.views.synthetic.synthetic_result_links",
        )
