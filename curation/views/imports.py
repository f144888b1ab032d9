"""The import page: upload a file, map its columns, start an import run."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from curation.exceptions import AssayError
from curation.forms import ImportForm
from curation.permissions import Action, project_for_user
from curation.selectors.runs import project_runs


@login_required
def import_create(request, project_id: int):
    project = project_for_user(request.user, project_id, Action.EDIT_DATA)
    form = ImportForm(request.POST or None, request.FILES or None, project=project)
    if request.method == "POST" and form.is_valid():
        # Imported here: the import service is loaded only when an import is started.
        from curation.services.imports import ImportOptions, import_start, import_upload_store

        upload = form.cleaned_data["file"]
        try:
            options = ImportOptions(**form.options_kwargs())
            path = import_upload_store(uploaded_file=upload)
            run = import_start(
                project=project,
                path=path,
                options=options,
                display_name=upload.name,
                created_by=request.user,
            )
        except AssayError as exc:
            messages.error(request, str(exc))
        else:
            return redirect("run-detail", run_id=run.pk)
    context = {
        "project": project,
        "form": form,
        "runs": project_runs(project, kind="import", limit=5),
    }
    return render(request, "curation/import_form.html", context)
