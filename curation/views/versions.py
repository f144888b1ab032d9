"""Dataset version pages: the list with its build button, a version's detail, and the
review, export and verify actions. The versions services are imported inside the views
that use them, so pages that do not need them load without them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from curation.exceptions import AssayError
from curation.forms import ExportForm, VersionBuildForm, VersionReviewForm
from curation.permissions import Action, project_for_user, require, user_can
from curation.selectors.access import version_for_user
from curation.views.charts import bar_rows

# What each review button needs: submitting is the builder's step, deciding the reviewer's.
REVIEW_ACTIONS = {"submit": Action.EDIT_DATA, "approve": Action.REVIEW, "reject": Action.REVIEW}


def _form_errors(form) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


@login_required
def version_list(request, project_id: int):
    from curation.selectors.versions import project_versions

    project = project_for_user(request.user, project_id, Action.VIEW)
    context = {
        "project": project,
        "can_build": user_can(request.user, project, Action.EDIT_DATA),
        "versions": project_versions(project),
        "build_form": VersionBuildForm(),
    }
    return render(request, "curation/version_list.html", context)


@login_required
@require_POST
def version_build(request, project_id: int):
    from curation.services.versions import version_build_start

    project = project_for_user(request.user, project_id, Action.EDIT_DATA)
    form = VersionBuildForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("version-list", project_id=project.pk)
    try:
        run = version_build_start(
            project=project,
            seed=form.cleaned_data["seed"],
            note=form.cleaned_data["note"],
            created_by=request.user,
        )
    except AssayError as exc:
        messages.error(request, str(exc))
        return redirect("version-list", project_id=project.pk)
    return redirect("run-detail", run_id=run.pk)


@login_required
def version_detail(request, project_id: int, number: int):
    from curation.selectors.versions import version_label_distribution, version_split_counts

    version = version_for_user(request.user, project_id, number, Action.VIEW)
    distribution = version_label_distribution(version)
    context = {
        "project": version.project,
        "version": version,
        "can_review": user_can(request.user, version.project, Action.REVIEW),
        "can_export": user_can(request.user, version.project, Action.EXPORT),
        "split_counts": version_split_counts(version),
        "label_charts": [
            (split, bar_rows(counts, empty_name="(unlabelled)"))
            for split, counts in distribution.items()
        ],
        "exports": version.exports.prefetch_related("files"),
        "review_form": VersionReviewForm(),
        "export_form": ExportForm(),
    }
    return render(request, "curation/version_detail.html", context)


@login_required
@require_POST
def version_review(request, project_id: int, number: int):
    from curation.services import versions as version_services

    version = version_for_user(request.user, project_id, number, Action.VIEW)
    require(
        request.user, version.project, REVIEW_ACTIONS.get(request.POST.get("action"), Action.REVIEW)
    )
    form = VersionReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("version-detail", project_id=project_id, number=number)
    action, comment = form.cleaned_data["action"], form.cleaned_data["comment"]
    try:
        if action == "submit":
            version_services.dataset_version_submit(version=version, user=request.user)
        elif action == "approve":
            version_services.dataset_version_approve(
                version=version,
                user=request.user,
                comment=comment,
                override_reason=form.cleaned_data["override_reason"],
            )
        else:
            version_services.dataset_version_reject(
                version=version, user=request.user, comment=comment
            )
    except AssayError as exc:
        messages.error(request, str(exc))
    else:
        version.refresh_from_db()
        messages.success(request, f"Version {number} is now {version.get_status_display()}.")
    return redirect("version-detail", project_id=project_id, number=number)


@login_required
@require_POST
def version_export(request, project_id: int, number: int):
    from curation.services.exports import export_start

    version = version_for_user(request.user, project_id, number, Action.EXPORT)
    form = ExportForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("version-detail", project_id=project_id, number=number)
    try:
        run = export_start(
            version=version, formats=form.cleaned_data["formats"], created_by=request.user
        )
    except AssayError as exc:
        messages.error(request, str(exc))
        return redirect("version-detail", project_id=project_id, number=number)
    return redirect("run-detail", run_id=run.pk)


@login_required
@require_POST
def version_verify(request, project_id: int, number: int):
    from curation.services.versions import dataset_version_verify

    version = version_for_user(request.user, project_id, number, Action.VIEW)
    try:
        check = dataset_version_verify(version=version)
    except AssayError as exc:
        messages.error(request, str(exc))
    else:
        if check.ok:
            messages.success(request, f"Version {number} verified: hash {check.actual_hash}.")
        else:
            problems = "; ".join(check.problems) or "the content hash does not match"
            messages.error(request, f"Version {number} does not verify: {problems}.")
    return redirect("version-detail", project_id=project_id, number=number)
