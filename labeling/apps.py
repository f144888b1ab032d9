from django.apps import AppConfig


class LabelingConfig(AppConfig):
    name = "labeling"
    verbose_name = "Labeling"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from curation.services.runs import register_run_handler

        register_run_handler(
            "label_studio_push", "labeling.services.push.label_studio_push_run_handler"
        )
        register_run_handler(
            "label_studio_pull", "labeling.services.pull.label_studio_pull_run_handler"
        )
