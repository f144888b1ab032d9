"""Weak-supervision pages, under /projects/<id>/weak-supervision/."""

from django.urls import path

from curation.weak_supervision.views import functions, runs

urlpatterns = [
    path("", functions.overview, name="ws-overview"),
    path("lfs/new/", functions.lf_create, name="ws-lf-create"),
    path("lfs/preview/", functions.lf_preview, name="ws-lf-preview"),
    path("lfs/<int:lf_id>/", functions.lf_edit, name="ws-lf-edit"),
    path("lfs/<int:lf_id>/toggle/", functions.lf_toggle, name="ws-lf-toggle"),
    path("library/", functions.library_add, name="ws-library-add"),
    path("module/", functions.module_set, name="ws-module-set"),
    path("apply/", runs.apply, name="ws-apply"),
    path("fit/", runs.fit, name="ws-fit"),
    path("review/", runs.review_send, name="ws-review-send"),
]
