"""Buttons that start runs: apply the LFs, apply and fit the label model, and send the
uncertain examples to Label Studio. Each redirects to the run's live page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from curation.exceptions import AssayError
from curation.permissions import Action, project_for_user
from curation.weak_supervision.forms import ReviewForm


def _start(request, project_id: int, start) -> object:
    project = project_for_user(request.user, project_id, Action.EDIT_DATA)
    try:
        run = start(project)
    except AssayError as exc:
        messages.error(request, str(exc))
        return redirect("ws-overview", project_id=project.pk)
    return redirect("run-detail", run_id=run.pk)


@login_required
@require_POST
def apply(request, project_id: int):
    from curation.weak_supervision.services.application import lf_apply_start

    return _start(request, project_id, lambda p: lf_apply_start(project=p, created_by=request.user))


@login_required
@require_POST
def fit(request, project_id: int):
    from curation.weak_supervision.services.fit import label_model_fit_start

    return _start(
        request, project_id, lambda p: label_model_fit_start(project=p, created_by=request.user)
    )


@login_required
@require_POST
def review_send(request, project_id: int):
    from curation.weak_supervision.services.review import weak_labels_review_send

    form = ReviewForm(request.POST)
    threshold = form.cleaned_data["threshold"] if form.is_valid() else 0.7
    return _start(
        request,
        project_id,
        lambda p: weak_labels_review_send(project=p, threshold=threshold, created_by=request.user),
    )


def run_result_links(run) -> list[tuple[str, str]]:
    """Where a finished LF run or label-model fit leads: the analysis page."""
    return [("Labeling functions", reverse("ws-overview", args=[run.project_id]))]
