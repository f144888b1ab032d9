"""Linking an Assay project to a Label Studio project."""

from django.conf import settings
from django.db import transaction

from curation.exceptions import AssayError
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


MAX_OVERLAP = 20


def label_studio_project_link(
    *, project: Project, overlap: int = 1, client: LabelStudioClient | None = None
) -> LabelStudioLink:
    """Create the project's Label Studio project with a generated labelling interface,
    ``overlap`` annotators per task, and (unless ``LABEL_STUDIO_WEBHOOKS`` is off) a
    webhook that tells Assay about new, changed and deleted annotations.

    Linking twice returns the existing link. The LS project is created before the row is
    written: should the write fail, an empty LS project is left behind, never a link to a
    project that does not exist.
    """
    existing = LabelStudioLink.objects.filter(project=project).first()
    if existing is not None:
        return existing
    _check_overlap(overlap)
    label_config = project_label_config(project)
    client = client or label_studio_client()
    ls_project = client.project_create(
        title=project.name,
        label_config=label_config,
        description=f"Linked to Assay project #{project.pk}. Tasks are pushed from Assay.",
    )
    if overlap > 1:
        client.project_set_overlap(ls_project.id, overlap)
    with transaction.atomic():
        link = LabelStudioLink.objects.create(
            project=project,
            ls_project_id=ls_project.id,
            base_url=client.url,
            project_url=ls_project.url,
            label_config=label_config,
            overlap=overlap,
        )
    if settings.LABEL_STUDIO_WEBHOOKS:
        from labeling.services.webhooks import label_studio_webhook_register

        link = label_studio_webhook_register(project=project, client=client)
    return link


def _check_overlap(overlap: int) -> None:
    if not 1 <= overlap <= MAX_OVERLAP:
        raise AssayError(
            f"Overlap must be between 1 and {MAX_OVERLAP} annotators per task, not {overlap}."
        )


def label_studio_overlap_set(
    *, project: Project, overlap: int, client: LabelStudioClient | None = None
) -> LabelStudioLink:
    """How many annotators label each task (LS ``maximum_annotations``, 100% overlap)."""
    _check_overlap(overlap)
    link = label_studio_link_get(project)
    (client or label_studio_client()).project_set_overlap(link.ls_project_id, overlap)
    link.overlap = overlap
    link.save(update_fields=["overlap"])
    return link


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
