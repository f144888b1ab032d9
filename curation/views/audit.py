"""The audit log pages: a project's events, and one version's, filterable, 50 a page."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from curation.forms import AuditFilterForm
from curation.permissions import Action, project_for_user
from curation.selectors.access import version_for_user
from curation.selectors.audit import audit_events

PAGE_SIZE = 50


def _render(request, project, version=None):
    form = AuditFilterForm(request.GET)
    filters = form.filters() if form.is_valid() else {}
    events = audit_events(project=project, version=version, **filters)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"project": project, "version": version, "form": form, "page": page}
    return render(request, "curation/audit_list.html", context)


@login_required
def project_audit(request, project_id: int):
    return _render(request, project_for_user(request.user, project_id, Action.VIEW))


@login_required
def version_audit(request, project_id: int, number: int):
    version = version_for_user(request.user, project_id, number, Action.VIEW)
    return _render(request, version.project, version)
