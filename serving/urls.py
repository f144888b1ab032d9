from django.urls import path

from serving.views import gateway, pages

# The OpenAI-compatible front door, mounted at /v1/ (see curation.urls).
gateway_urlpatterns = [
    path("chat/completions", gateway.chat_completions, name="v1-chat-completions"),
    path("classifications", gateway.classifications, name="v1-classifications"),
    path("feedback", gateway.feedback, name="v1-feedback"),
    path("models", gateway.models, name="v1-models"),
]

urlpatterns = [
    path("projects/<int:project_id>/deployments/", pages.deployment_list, name="deployment-list"),
    path(
        "training/<int:training_run_id>/deploy/",
        pages.deployment_create,
        name="deployment-create",
    ),
    path("deployments/<int:deployment_id>/", pages.deployment_detail, name="deployment-detail"),
    path(
        "deployments/<int:deployment_id>/stop/",
        pages.deployment_stop_view,
        name="deployment-stop",
    ),
    path(
        "projects/<int:project_id>/applications/",
        pages.application_list,
        name="application-list",
    ),
    path(
        "applications/<int:application_id>/revoke/",
        pages.application_revoke_view,
        name="application-revoke",
    ),
    path("projects/<int:project_id>/experiments/", pages.experiment_list, name="experiment-list"),
    path("experiments/<int:experiment_id>/", pages.experiment_detail, name="experiment-detail"),
    *(
        path(
            f"experiments/<int:experiment_id>/{action}/",
            pages.experiment_action,
            {"action": action},
            name=f"experiment-{action}",
        )
        for action in ("evaluate", "advance", "rollback", "stop")
    ),
]
