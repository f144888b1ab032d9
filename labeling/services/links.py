"""Linking an Assay project to a Label Studio project."""

from django.db import transaction

from curation.models import Project
from labeling.core.label_config import LabelConfigError, label_config_for
from labeling.exceptions import LabelStudioError, LabelStudioNotLinked
from labeling.integrations.label_studio import LabelStudioClient, label_studio_client
from labeling.models import LabelStudioLink


def project_label_config(project: Project) -> str:
    """The labelling interface for the project as it is now."""
    try:
        return label_config_for(
            task_type=project.task_type,
            fields=project.content_fields,
            labels=list(project.label_set),
        )
    except LabelConfigError as exc:
        raise LabelStudioError(f"Project '{project.name}': {exc}") from exc


def label_studio_link_get(project: Project) -> LabelStudioLink:
    link = LabelStudioLink.objects.filter(project=project).first()
    if link is None:
        raise LabelStudioNotLinked(
            f"Project '{project.name}' is not linked to Label Studio yet; link it first."
        )
    return link


def label_studio_project_link(
    *, project: Project, client: LabelStudioClient | None = None
) -> LabelStudioLink:
    """Create the project's Label Studio project with a generated labelling interface.

    Linking twice returns the existing link. The LS project is created before the row is
    written: should the write fail, an empty LS project is left behind, never a link to a
    project that does not exist.
    """
    existing = LabelStudioLink.objects.filter(project=project).first()
    if existing is not None:
        return existing
    label_config = project_label_config(project)
    client = client or label_studio_client()
    ls_project = client.project_create(
        title=project.name,
        label_config=label_config,
        description=f"Linked to Assay project #{project.pk}. Tasks are pushed from Assay.",
    )
    with transaction.atomic():
        return LabelStudioLink.objects.create(
            project=project,
            ls_project_id=ls_project.id,
            base_url=client.url,
            project_url=ls_project.url,
            label_config=label_config,
        )


def label_studio_config_sync(
    *, project: Project, client: LabelStudioClient | None = None
) -> LabelStudioLink:
    """Send the labelling interface again after the label set (or fields) changed."""
    link = label_studio_link_get(project)
    label_config = project_label_config(project)
    if label_config != link.label_config:
        (client or label_studio_client()).project_update_config(
            link.ls_project_id, label_config=label_config
        )
        link.label_config = label_config
        link.save(update_fields=["label_config"])
    return link
