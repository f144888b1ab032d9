from django.apps import AppConfig


class LabelingConfig(AppConfig):
    name = "labeling"
    verbose_name = "Labeling"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from curation.services.runs import register_run_kind

        register_run_kind(
            "label_studio_push",
            handler="labeling.services.push.label_studio_push_run_handler",
            title="Label Studio push",
            result_links="labeling.views.run_result_links",
        )
        register_run_kind(
            "label_studio_pull",
            handler="labeling.services.pull.label_studio_pull_run_handler",
            title="Label Studio pull",
            result_links="labeling.views.run_result_links",
        )
