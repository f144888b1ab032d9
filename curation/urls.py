from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from curation.api import api
from curation.views import examples, health, imports, projects, runs, tokens, versions
from serving.urls import gateway_urlpatterns

version_prefix = "projects/<int:project_id>/versions/<int:number>/"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    path("", projects.project_list, name="project-list"),
    path("projects/<int:project_id>/", projects.project_detail, name="project-detail"),
    path("projects/<int:project_id>/import/", imports.import_create, name="import-create"),
    path("projects/<int:project_id>/examples/", examples.example_list, name="example-list"),
    path("projects/<int:project_id>/versions/", versions.version_list, name="version-list"),
    path(
        "projects/<int:project_id>/versions/build/",
        versions.version_build,
        name="version-build",
    ),
    path(version_prefix, versions.version_detail, name="version-detail"),
    path(f"{version_prefix}review/", versions.version_review, name="version-review"),
    path(f"{version_prefix}export/", versions.version_export, name="version-export"),
    path(f"{version_prefix}verify/", versions.version_verify, name="version-verify"),
    path(
        "projects/<int:project_id>/weak-supervision/",
        include("curation.weak_supervision.urls"),
    ),
    path("", include("curation.governance_urls")),
    path("projects/<int:project_id>/quality/", include("curation.quality.urls")),
    path("runs/<int:run_id>/", runs.run_detail, name="run-detail"),
    path("runs/<int:run_id>/status/", runs.run_status, name="run-status"),
    path("runs/<int:run_id>/cancel/", runs.run_cancel_view, name="run-cancel"),
    path("tokens/", tokens.token_list, name="token-list"),
    path("tokens/<int:token_id>/revoke/", tokens.token_revoke, name="token-revoke"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("labeling.urls")),
    path("", include("training.urls")),
    path("", include("serving.urls")),
    path("", include("loop.urls")),
    path("v1/", include(gateway_urlpatterns)),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]
