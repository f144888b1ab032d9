"""The synthetic review queue (keyboard: a accept, r reject, e edit, j/k move) and the
form that starts a generation run."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from curation.exceptions import AssayError
from curation.forms import SyntheticDecisionForm, SyntheticGenerateForm
from curation.models import Example, ExampleSource, ReviewStatus
from curation.permissions import Action, project_for_user, user_can

QUEUE_SIZE = 25


@login_required
def synthetic_queue(request, project_id: int):
    project = project_for_user(request.user, project_id, Action.ANNOTATE)
    synthetic = Example.objects.filter(project=project, source=ExampleSource.SYNTHETIC)
    pending = synthetic.filter(review_status=ReviewStatus.PENDING).select_related(
        "near_duplicate_of"
    )
    context = {
        "project": project,
        "pending": pending.order_by("id")[:QUEUE_SIZE],
        "pending_count": pending.count(),
        "accepted_count": synthetic.filter(review_status=ReviewStatus.ACCEPTED).count(),
        "rejected_count": synthetic.filter(review_status=ReviewStatus.REJECTED).count(),
        "can_generate": user_can(request.user, project, Action.EDIT_DATA),
        "generate_form": SyntheticGenerateForm(),
    }
    return render(request, "curation/synthetic_queue.html", context)


@login_required
@require_POST
def synthetic_decide(request, project_id: int, example_id: int):
    from curation.services import synthetic as services

    project = project_for_user(request.user, project_id, Action.ANNOTATE)
    example = Example.objects.filter(project=project, pk=example_id).first()
    form = SyntheticDecisionForm(request.POST)
    if example is None or not form.is_valid():
        messages.error(request, "No such synthetic example, or no decision given.")
        return redirect("synthetic-queue", project_id=project.pk)
    decision, label, note = (form.cleaned_data[k] for k in ("decision", "label", "note"))
    try:
        if decision == "accept":
            services.synthetic_example_accept(
                example=example, user=request.user, label=label, note=note
            )
        elif decision == "reject":
            services.synthetic_example_reject(example=example, user=request.user, note=note)
        else:
            fields = {
                name: request.POST.get(f"field_{name}", "") for name in project.content_fields
            }
            services.synthetic_example_edit(
                example=example, user=request.user, fields=fields, label=label, note=note
            )
    except AssayError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{example.external_id}: {decision}ed.")
    return redirect("synthetic-queue", project_id=project.pk)


@login_required
@require_POST
def synthetic_generate(request, project_id: int):
    from curation.services.synthetic import synthetic_generate_start

    project = project_for_user(request.user, project_id, Action.EDIT_DATA)
    form = SyntheticGenerateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Check the generation settings: " + form.errors.as_text())
        return redirect("synthetic-queue", project_id=project.pk)
    try:
        run = synthetic_generate_start(
            project=project, created_by=request.user, **form.cleaned_data
        )
    except AssayError as exc:
        messages.error(request, str(exc))
        return redirect("synthetic-queue", project_id=project.pk)
    return redirect("run-detail", run_id=run.pk)


def synthetic_result_links(run) -> list[tuple[str, str]]:
    """Where a finished generation run leads: the review queue of what it made."""
    return [("Review synthetic examples", reverse("synthetic-queue", args=[run.project_id]))]
