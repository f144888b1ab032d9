"""The quality overview (start a check, see past checks and open findings) and a check's
page with its pictures: the given-vs-suggested label matrix, duplicate clusters,
outliers and expectation results."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from curation.exceptions import AssayError
from curation.permissions import Action, project_for_user, user_can
from curation.quality.forms import QualityCheckForm
from curation.quality.models import FindingKind, QualityCheck
from curation.quality.selectors import duplicate_clusters, finding_counts, label_issue_matrix
from curation.views.charts import bar_rows


@login_required
def quality_overview(request, project_id: int):
    project = project_for_user(request.user, project_id, Action.VIEW)
    counts = finding_counts(project=project)
    open_bars = bar_rows(
        {FindingKind(kind).label: by_status["open"] for kind, by_status in counts.items()}
    )
    context = {
        "project": project,
        "form": QualityCheckForm(project=project),
        "checks": project.quality_checks.select_related("version", "run")[:20],
        "counts": counts,
        "open_bars": open_bars,
        "can_edit": user_can(request.user, project, Action.EDIT_DATA),
    }
    return render(request, "quality/overview.html", context)


@login_required
@require_POST
def quality_check_create(request, project_id: int):
    from curation.quality.services import quality_check_start

    project = project_for_user(request.user, project_id, Action.EDIT_DATA)
    form = QualityCheckForm(request.POST, project=project)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("quality-overview", project_id=project.pk)
    try:
        run = quality_check_start(
            project=project,
            version=form.cleaned_data["version"],
            checks=form.cleaned_data["checks"],
            model=form.cleaned_data["model"],
            folds=form.cleaned_data["folds"],
            filter_by=form.cleaned_data["filter_by"],
            created_by=request.user,
        )
    except AssayError as exc:
        messages.error(request, str(exc))
        return redirect("quality-overview", project_id=project.pk)
    return redirect("run-detail", run_id=run.pk)


@login_required
def quality_check_detail(request, project_id: int, check_id: int):
    project = project_for_user(request.user, project_id, Action.VIEW)
    check = get_object_or_404(
        QualityCheck.objects.select_related("version", "run"), pk=check_id, project=project
    )
    findings = check.findings.prefetch_related("examples")
    context = {
        "project": project,
        "check": check,
        "summary": check.summary,
        "matrix": label_issue_matrix(check, labels=project.label_set),
        "label_issues": findings.filter(kind=FindingKind.LABEL_ISSUE)[:50],
        "clusters": duplicate_clusters(check),
        "outliers": findings.filter(kind=FindingKind.OUTLIER)[:50],
        "expectation_results": check.expectation_results.all(),
    }
    return render(request, "quality/check_detail.html", context)


def run_result_links(run) -> list[tuple[str, str]]:
    """Where a finished quality check leads: its findings."""
    check_id = run.result.get("check_id")
    if not check_id:
        return [("Data quality", reverse("quality-overview", args=[run.project_id]))]
    url = reverse("quality-check-detail", args=[run.project_id, check_id])
    return [("Open quality check", url)]
