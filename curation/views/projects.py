"""Project pages: the list with its create form, and a project's overview."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from curation.exceptions import AssayError
from curation.forms import ProjectCreateForm
from curation.models import ExampleSource
from curation.permissions import Action, project_for_user, project_role
from curation.selectors.examples import example_counts, projects_with_counts
from curation.selectors.runs import project_runs
from curation.services.projects import project_create
from curation.views.charts import bar_rows


@login_required
def project_list(request):
    form = ProjectCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            project = project_create(
                name=data["name"],
                task_type=data["task_type"],
                label_set=data["labels"],
                field_schema=data["field_names"] or None,
                description=data["description"],
                created_by=request.user,
            )
        except AssayError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Project “{project.name}” created.")
            return redirect("project-detail", project_id=project.pk)
    context = {"projects": projects_with_counts(user=request.user), "form": form}
    return render(request, "curation/project_list.html", context)


@login_required
def project_detail(request, project_id: int):
    project = project_for_user(request.user, project_id, Action.VIEW)
    counts = example_counts(project=project)
    source_names = dict(ExampleSource.choices)
    context = {
        "project": project,
        "role": project_role(request.user, project),
        "counts": counts,
        "source_bars": bar_rows(
            {source_names.get(k, k): n for k, n in counts["by_source"].items()}
        ),
        "label_bars": bar_rows(counts["by_label"], empty_name="(unlabelled)"),
        "runs": project_runs(project, limit=10),
        "versions": project.versions.all()[:5],
        "version_count": project.versions.count(),
    }
    return render(request, "curation/project_detail.html", context)
