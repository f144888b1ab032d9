"""Project services."""

from django.db import transaction

from curation.exceptions import AssayError
from curation.models import Project, ProjectMembership, Role, TaskType
from curation.models.projects import DEFAULT_FIELD_SCHEMA
from curation.services.audit import audit_record


def _clean_names(values: list[str], what: str) -> list[str]:
    cleaned = [str(value).strip() for value in values]
    if any(not value for value in cleaned):
        raise AssayError(f"{what} may not contain empty names.")
    duplicates = sorted({value for value in cleaned if cleaned.count(value) > 1})
    if duplicates:
        raise AssayError(f"{what} lists {', '.join(duplicates)} more than once.")
    return cleaned


@transaction.atomic
def project_create(
    *,
    name: str,
    task_type: str,
    label_set: list[str] | None = None,
    field_schema: list[str] | None = None,
    description: str = "",
    created_by=None,
) -> Project:
    """Create a project. Generation projects take no label set; the field schema defaults
    to ``["text"]`` for classification and ``["prompt", "response"]`` for generation."""
    name = name.strip()
    if not name:
        raise AssayError("A project needs a name.")
    if task_type not in TaskType.values:
        raise AssayError(
            f"Unknown task type '{task_type}'; expected one of {', '.join(TaskType.values)}."
        )
    if Project.objects.filter(name=name).exists():
        raise AssayError(f"A project named '{name}' already exists.")
    if task_type == TaskType.GENERATION and label_set:
        raise AssayError("Generation projects have no label set (they have prompt/response).")
    project = Project.objects.create(
        name=name,
        task_type=task_type,
        label_set=_clean_names(label_set or [], "The label set"),
        field_schema=_clean_names(
            field_schema or DEFAULT_FIELD_SCHEMA[TaskType(task_type)], "The field schema"
        ),
        description=description,
        created_by=created_by,
    )
    if created_by is not None:
        ProjectMembership.objects.create(project=project, user=created_by, role=Role.ADMIN)
    audit_record(
        project=project,
        actor=created_by,
        action="project.create",
        target=project,
        after={"name": project.name, "task_type": task_type},
        message=f"Created project {project.name}",
    )
    return project


@transaction.atomic
def project_label_set_extend(*, project: Project, labels: list[str]) -> Project:
    """Append labels the project does not have yet, keeping the existing order."""
    new = [
        label for label in _clean_names(labels, "The label set") if label not in project.label_set
    ]
    if new:
        project.label_set = [*project.label_set, *new]
        project.save(update_fields=["label_set", "updated_at"])
    return project


def _last_admin_guard(project: Project, user, new_role: str | None) -> None:
    """Refuse to leave a project without an admin (nobody could manage it any more)."""
    admins = ProjectMembership.objects.filter(project=project, role=Role.ADMIN)
    if new_role != Role.ADMIN and list(admins.values_list("user_id", flat=True)) == [user.pk]:
        raise AssayError(
            f"{user.get_username()} is the only admin of {project.name}; name another first."
        )


@transaction.atomic
def project_member_set(*, project: Project, user, role: str, actor=None) -> ProjectMembership:
    """Give ``user`` ``role`` in ``project`` (adding or changing the membership)."""
    if role not in Role.values:
        raise AssayError(f"Unknown role '{role}'; expected one of {', '.join(Role.values)}.")
    before = ProjectMembership.objects.filter(project=project, user=user).first()
    _last_admin_guard(project, user, role)
    membership, _ = ProjectMembership.objects.update_or_create(
        project=project, user=user, defaults={"role": role}
    )
    audit_record(
        project=project,
        actor=actor,
        action="member.set",
        target=("auth.user", user.pk),
        before={"role": before.role} if before else None,
        after={"role": role, "user": user.get_username()},
        message=f"{user.get_username()} is {role}",
    )
    return membership


@transaction.atomic
def project_member_remove(*, project: Project, user, actor=None) -> None:
    before = ProjectMembership.objects.filter(project=project, user=user).first()
    if before is None:
        return
    _last_admin_guard(project, user, None)
    before.delete()
    audit_record(
        project=project,
        actor=actor,
        action="member.remove",
        target=("auth.user", user.pk),
        before={"role": before.role, "user": user.get_username()},
        message=f"{user.get_username()} removed",
    )
