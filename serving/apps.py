"""Serving: deployments of trained models, the OpenAI-compatible front door for
applications, the request log, feedback events and A/B experiments."""

from django.apps import AppConfig


class ServingConfig(AppConfig):
    name = "serving"
    verbose_name = "Serving"
    default_auto_field = "django.db.models.BigAutoField"
