"""Training: fine-tuning runs on approved dataset versions, evaluation and the model registry.

Runs start only from an approved `curation.DatasetVersion`; they use the same persisted
`curation.Run` rows for progress as imports and exports do.
"""

from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "Training"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from curation.permissions import Action
        from curation.services.runs import register_run_kind

        register_run_kind(
            "training",
            handler="training.services.training_run_handler",
            title="Training",
            result_links="training.views.run_result_links",
            action=Action.TRAIN,
        )
