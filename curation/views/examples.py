"""The example browser: filters in the query string, 50 examples a page."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from curation.forms import ExampleFilterForm
from curation.models import Example
from curation.permissions import Action, project_for_user
from curation.selectors.examples import examples_filter

PAGE_SIZE = 50


@login_required
def example_list(request, project_id: int):
    project = project_for_user(request.user, project_id, Action.VIEW)
    form = ExampleFilterForm(request.GET, project=project)
    if form.is_valid():
        examples = examples_filter(project=project, **form.filters())
    else:
        examples = Example.objects.none()
    page = Paginator(examples, PAGE_SIZE).get_page(request.GET.get("page"))
    # Cells in the project's field order, whatever order each example's JSON keeps.
    names = project.content_fields
    rows = [(example, [example.fields.get(name, "") for name in names]) for example in page]
    context = {"project": project, "form": form, "page": page, "rows": rows}
    return render(request, "curation/example_list.html", context)
