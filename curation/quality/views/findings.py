"""Findings: the filterable list with bulk actions, one finding's page, and review."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from curation.exceptions import AssayError
from curation.permissions import Action, project_for_user, user_can
from curation.quality.forms import FindingFilterForm, FindingReviewForm
from curation.quality.models import Finding
from curation.quality.selectors import findings_list


@login_required
def finding_list(request, project_id: int):
    project = project_for_user(request.user, project_id, Action.VIEW)
    form = FindingFilterForm(request.GET or {"status": "open"})
    filters = form.cleaned_data if form.is_valid() else {}
    findings = findings_list(
        project=project,
        kind=filters.get("kind") or None,
        status=filters.get("status") or None,
        min_score=filters.get("min_score"),
        version_id=filters.get("version"),
    )
    page = Paginator(findings, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "project": project,
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "can_edit": user_can(request.user, project, Action.EDIT_DATA),
    }
    return render(request, "quality/finding_list.html", context)


def _finding(project, finding_id: int) -> Finding:
    return get_object_or_404(
        Finding.objects.select_related("version", "reviewed_by", "quality_check"),
        pk=finding_id,
        project=project,
    )


@login_required
def finding_detail(request, project_id: int, finding_id: int):
    project = project_for_user(request.user, project_id, Action.VIEW)
    finding = _finding(project, finding_id)
    context = {
        "project": project,
        "finding": finding,
        "examples": finding.examples.all()[:50],
        "form": FindingReviewForm(),
        "can_edit": user_can(request.user, project, Action.EDIT_DATA),
    }
    return render(request, "quality/finding_detail.html", context)


@login_required
@require_POST
def finding_review(request, project_id: int, finding_id: int):
    from curation.quality import services

    project = project_for_user(request.user, project_id, Action.EDIT_DATA)
    finding = _finding(project, finding_id)
    form = FindingReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose accept, resolve, dismiss or reopen.")
        return redirect("finding-detail", project_id=project.pk, finding_id=finding.pk)
    action, reason = form.cleaned_data["action"], form.cleaned_data["reason"]
    try:
        if action == "dismiss":
            services.finding_dismiss(finding=finding, user=request.user, reason=reason)
        elif action == "reopen":
            services.finding_reopen(finding=finding, user=request.user)
        else:
            services.finding_resolve(
                finding=finding,
                user=request.user,
                reason=reason,
                accept_suggested_label=action == "accept",
            )
    except AssayError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Finding #{finding.pk} is now {finding.status}.")
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect("finding-detail", project_id=project.pk, finding_id=finding.pk)


@login_required
@require_POST
def findings_bulk(request, project_id: int):
    """Send the selected findings to Label Studio, or dismiss them all with one reason."""
    from curation.quality import services

    project = project_for_user(request.user, project_id, Action.EDIT_DATA)
    ids = [int(i) for i in request.POST.getlist("finding") if i.isdigit()]
    findings = list(Finding.objects.filter(project=project, pk__in=ids))
    try:
        if request.POST.get("action") == "dismiss":
            reason = request.POST.get("reason", "")
            for finding in findings:
                services.finding_dismiss(finding=finding, user=request.user, reason=reason)
            messages.success(request, f"Dismissed {len(findings)} finding(s).")
        else:
            run = services.findings_send_for_review(findings=findings, user=request.user)
            messages.success(request, f"Sent {len(findings)} finding(s) to Label Studio.")
            return redirect("run-detail", run_id=run.pk)
    except AssayError as exc:
        messages.error(request, str(exc))
    return redirect("finding-list", project_id=project.pk)
