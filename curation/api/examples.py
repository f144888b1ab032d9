"""Examples of a project, with the example browser's filters, 50 a page."""

from ninja import Query, Router
from ninja.pagination import PageNumberPagination, paginate

from curation.api.schemas import ExampleFilters, ExampleOut
from curation.exceptions import AssayError
from curation.permissions import Action, project_for_user
from curation.selectors.examples import examples_filter

router = Router()


@router.get("/{project_id}/examples", response=list[ExampleOut])
@paginate(PageNumberPagination, page_size=50)
def example_list(request, project_id: int, filters: Query[ExampleFilters]):
    project = project_for_user(request.auth, project_id, Action.VIEW)
    version = None
    if filters.version is not None:
        version = project.versions.filter(number=filters.version).first()
        if version is None:
            raise AssayError(f"Project '{project.name}' has no version {filters.version}.")
    elif filters.split:
        raise AssayError("Splits exist only within a version: give version with split.")
    return examples_filter(
        project=project,
        source=filters.source,
        label=filters.label,
        version=version,
        split=filters.split,
        search=filters.search,
    )
