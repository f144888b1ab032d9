"""The overview page and the LF editor."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from curation.exceptions import AssayError
from curation.permissions import Action, project_for_user, user_can
from curation.weak_supervision.forms import LabelingFunctionForm, ModuleForm, ReviewForm
from curation.weak_supervision.models import LabelingFunction, LFKind, LFModuleSetting


def _form_errors(form) -> str:
    return " ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())


@login_required
def overview(request, project_id: int):
    from curation.weak_supervision.selectors.overview import weak_supervision_overview

    project = project_for_user(request.user, project_id, Action.VIEW)
    setting = LFModuleSetting.objects.filter(project=project).first()
    context = {
        "project": project,
        "can_edit": user_can(request.user, project, Action.EDIT_DATA),
        "module_form": ModuleForm(initial={"module_path": setting.module_path if setting else ""}),
        "review_form": ReviewForm(),
        **weak_supervision_overview(project),
    }
    return render(request, "weak_supervision/overview.html", context)


def _editor(request, project, lf: LabelingFunction | None):
    from curation.weak_supervision.services import functions as services

    initial = LabelingFunctionForm.initial_from(lf) if lf else {"whole_word": True}
    form = LabelingFunctionForm(request.POST or None, project=project, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if lf is None:
                lf = services.labeling_function_create(
                    project=project,
                    name=data["name"],
                    kind=data["kind"],
                    label=data["label"],
                    params=form.params(),
                    description=data["description"],
                    created_by=request.user,
                )
            else:
                services.labeling_function_update(
                    labeling_function=lf,
                    kind=data["kind"],
                    label=data["label"],
                    params=form.params(),
                    description=data["description"],
                    created_by=request.user,
                )
        except AssayError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Saved {lf.name} (version {lf.latest_version.number}).")
            return redirect("ws-overview", project_id=project.pk)
    versions = lf.versions.order_by("-number") if lf else []
    context = {"project": project, "form": form, "lf": lf, "versions": versions}
    return render(request, "weak_supervision/lf_form.html", context)


@login_required
def lf_create(request, project_id: int):
    project = project_for_user(request.user, project_id, Action.EDIT_DATA)
    return _editor(request, project, None)


@login_required
def lf_edit(request, project_id: int, lf_id: int):
    project = project_for_user(request.user, project_id, Action.EDIT_DATA)
    lf = get_object_or_404(LabelingFunction, project=project, pk=lf_id)
    if lf.kind == LFKind.PYTHON:
        messages.error(request, f"'{lf.name}' is a Python LF: edit it in its module.")
        return redirect("ws-overview", project_id=project.pk)
    return _editor(request, project, lf)


@login_required
@require_POST
def lf_preview(request, project_id: int):
    from curation.weak_supervision.selectors.preview import Preview, lf_preview

    project = project_for_user(request.user, project_id, Action.EDIT_DATA)
    form = LabelingFunctionForm(request.POST, project=project)
    form.fields["name"].required = False
    if form.is_valid():
        data = form.cleaned_data
        preview = lf_preview(project, kind=data["kind"], params=form.params(), label=data["label"])
    else:
        preview = Preview(error=_form_errors(form))
    return render(request, "weak_supervision/partials/preview.html", {"preview": preview})


@login_required
@require_POST
def lf_toggle(request, project_id: int, lf_id: int):
    from curation.weak_supervision.services.functions import labeling_function_set_active

    project = project_for_user(request.user, project_id, Action.EDIT_DATA)
    lf = get_object_or_404(LabelingFunction, project=project, pk=lf_id)
    labeling_function_set_active(labeling_function=lf, is_active=not lf.is_active)
    return redirect("ws-overview", project_id=project.pk)


@login_required
@require_POST
def library_add(request, project_id: int):
    from curation.weak_supervision.services.functions import labeling_functions_add_library

    project = project_for_user(request.user, project_id, Action.EDIT_DATA)
    try:
        added = labeling_functions_add_library(project=project, created_by=request.user)
    except AssayError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Added {len(added)} built-in labeling functions.")
    return redirect("ws-overview", project_id=project.pk)


@login_required
@require_POST
def module_set(request, project_id: int):
    from curation.weak_supervision.services.functions import lf_module_set

    project = project_for_user(request.user, project_id, Action.MANAGE)
    form = ModuleForm(request.POST)
    if form.is_valid():
        try:
            lf_module_set(project=project, module_path=form.cleaned_data["module_path"])
        except AssayError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Python LF module saved; its LFs run with the next apply.")
    return redirect("ws-overview", project_id=project.pk)
