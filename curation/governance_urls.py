"""Governance pages: members, the audit log, the synthetic review queue, and a version's
readiness report and diff. Included from `curation.urls`."""

from django.urls import path

from curation.views import audit, members, readiness, synthetic

project = "projects/<int:project_id>/"
version = f"{project}versions/<int:number>/"

urlpatterns = [
    path(f"{project}members/", members.member_list, name="project-members"),
    path(
        f"{project}members/<int:user_id>/remove/",
        members.member_remove,
        name="project-member-remove",
    ),
    path(f"{project}audit/", audit.project_audit, name="project-audit"),
    path(f"{project}synthetic/", synthetic.synthetic_queue, name="synthetic-queue"),
    path(f"{project}synthetic/generate/", synthetic.synthetic_generate, name="synthetic-generate"),
    path(
        f"{project}synthetic/<int:example_id>/decide/",
        synthetic.synthetic_decide,
        name="synthetic-decide",
    ),
    path(f"{version}readiness/", readiness.version_readiness, name="version-readiness"),
    path(
        f"{version}readiness/refresh/",
        readiness.version_readiness_refresh,
        name="version-readiness-refresh",
    ),
    path(f"{version}diff/", readiness.version_diff, name="version-diff"),
    path(f"{version}audit/", audit.version_audit, name="version-audit"),
]
