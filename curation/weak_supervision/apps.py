from django.apps import AppConfig


class WeakSupervisionConfig(AppConfig):
    name = "curation.weak_supervision"
    label = "weak_supervision"
    verbose_name = "Weak supervision"
    default_auto_field = "django.db.models.BigAutoField"
