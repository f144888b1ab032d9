"""Data-quality pages, included under projects/<project_id>/quality/."""

from django.urls import path

from curation.quality.views import checks, expectations, findings

urlpatterns = [
    path("", checks.quality_overview, name="quality-overview"),
    path("checks/", checks.quality_check_create, name="quality-check-create"),
    path("checks/<int:check_id>/", checks.quality_check_detail, name="quality-check-detail"),
    path("findings/", findings.finding_list, name="finding-list"),
    path("findings/bulk/", findings.findings_bulk, name="findings-bulk"),
    path("findings/<int:finding_id>/", findings.finding_detail, name="finding-detail"),
    path("findings/<int:finding_id>/review/", findings.finding_review, name="finding-review"),
    path("expectations/", expectations.expectation_list, name="expectation-list"),
    path("expectations/add/", expectations.expectation_create, name="expectation-create"),
    path("expectations/defaults/", expectations.expectation_defaults, name="expectation-defaults"),
    path("expectations/<int:rule_id>/", expectations.expectation_change, name="expectation-change"),
]
