from django.urls import path

from training import views

urlpatterns = [
    path(
        "projects/<int:project_id>/versions/<int:number>/train/",
        views.training_launch,
        name="training-launch",
    ),
    path("projects/<int:project_id>/models/", views.model_list, name="model-list"),
    path(
        "training/<int:training_run_id>/",
        views.training_run_detail,
        name="training-run-detail",
    ),
    path(
        "training/<int:training_run_id>/curves/",
        views.training_run_curves_fragment,
        name="training-run-curves",
    ),
    path(
        "training/<int:training_run_id>/resume/",
        views.training_run_resume,
        name="training-run-resume",
    ),
    path(
        "training/<int:training_run_id>/preference/",
        views.preference_study_create,
        name="training-preference-create",
    ),
    path(
        "training/<int:training_run_id>/preference/pull/",
        views.preference_study_pull,
        name="training-preference-pull",
    ),
]
