"""Projects: list, create, detail with example counts."""

from ninja import Router, Status

from curation.api.schemas import ErrorOut, ProjectDetailOut, ProjectIn, ProjectOut
from curation.permissions import Action, project_for_user
from curation.selectors.examples import example_counts, projects_with_counts
from curation.services.projects import project_create

router = Router()


@router.get("", response=list[ProjectOut])
def project_list(request):
    return projects_with_counts(user=request.auth)


@router.post("", response={201: ProjectOut, 400: ErrorOut}, summary="Project Create")
def project_create_endpoint(request, payload: ProjectIn):
    project = project_create(
        name=payload.name,
        task_type=payload.task_type,
        label_set=payload.labels,
        field_schema=payload.fields,
        description=payload.description,
        created_by=request.auth,
    )
    return Status(201, project)


@router.get("/{project_id}", response=ProjectDetailOut)
def project_detail(request, project_id: int):
    project = project_for_user(request.auth, project_id, Action.VIEW)
    counts = example_counts(project=project)
    project.example_count = counts["total"]
    project.examples_by_source = counts["by_source"]
    project.examples_by_label = counts["by_label"]
    return project
