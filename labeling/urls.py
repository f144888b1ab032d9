from django.urls import path

from labeling import views

prefix = "projects/<int:project_id>/label-studio/"

urlpatterns = [
    path(prefix, views.label_studio_panel, name="label-studio-panel"),
    path(f"{prefix}link/", views.label_studio_link_create, name="label-studio-link"),
    path(f"{prefix}overlap/", views.label_studio_overlap_update, name="label-studio-overlap"),
    path(f"{prefix}push/", views.label_studio_push_create, name="label-studio-push"),
    path(f"{prefix}pull/", views.label_studio_pull_create, name="label-studio-pull"),
    path(
        "labeling/webhooks/label-studio/", views.label_studio_webhook, name="label-studio-webhook"
    ),
]
