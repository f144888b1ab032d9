"""Label Studio webhooks: registering Assay's endpoint, and turning a call into a pull.

LS sends webhooks unsigned, once (no retry), with a 1 s timeout, and unordered under
load, so a webhook is only a hint: it records that something changed and queues a pull
run, which re-reads LS. The reconcile job (`labeling_reconcile`) catches what is missed.
"""

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from curation.exceptions import RunAlreadyActive
from curation.models import Project, Run
from labeling.integrations.label_studio import LabelStudioClient, label_studio_client
from labeling.models import LabelStudioLink
from labeling.services.links import label_studio_link_get
from labeling.services.pull import label_studio_pull_start

WEBHOOK_SECRET_HEADER = "X-Assay-Webhook-Secret"
WEBHOOK_ACTIONS = (
    "ANNOTATION_CREATED",
    "ANNOTATIONS_CREATED",
    "ANNOTATION_UPDATED",
    "ANNOTATIONS_DELETED",
    "TASKS_CREATED",
    "TASKS_DELETED",
)
# Deletions are only seen by reading everything.
FULL_PULL_ACTIONS = frozenset({"ANNOTATIONS_DELETED", "TASKS_DELETED"})


def label_studio_webhook_url(base_url: str | None = None) -> str:
    """Where LS posts: ``ASSAY_PUBLIC_URL`` (or ``base_url``) plus the endpoint's path."""
    base = (base_url or settings.ASSAY_PUBLIC_URL).rstrip("/")
    return base + reverse("label-studio-webhook")


def label_studio_webhook_register(
    *, project: Project, base_url: str | None = None, client: LabelStudioClient | None = None
) -> LabelStudioLink:
    """(Re-)register the project's webhook, replacing the one registered before."""
    link = label_studio_link_get(project)
    client = client or label_studio_client()
    if link.webhook_id is not None:
        client.webhook_delete(link.webhook_id)
    link.webhook_id = client.webhook_create(
        link.ls_project_id,
        url=label_studio_webhook_url(base_url),
        actions=list(WEBHOOK_ACTIONS),
        headers={WEBHOOK_SECRET_HEADER: settings.LABEL_STUDIO_WEBHOOK_SECRET},
    )
    link.save(update_fields=["webhook_id"])
    return link


@transaction.atomic
def label_studio_webhook_receive(*, ls_project_id: int, action: str) -> Run | None:
    """Record the hint and queue a pull of the project; None when the action or project
    is not ours, or a pull is already queued or running (it will see the change: a
    running pull checks for hints that arrived after it began reading)."""
    if action not in WEBHOOK_ACTIONS:
        return None
    link = LabelStudioLink.objects.select_related("project").filter(ls_project_id=ls_project_id)
    link = link.first()
    if link is None:
        return None
    link.hint_received_at = timezone.now()
    link.full_pull_requested = link.full_pull_requested or action in FULL_PULL_ACTIONS
    link.save(update_fields=["hint_received_at", "full_pull_requested"])
    try:
        return label_studio_pull_start(project=link.project, full=False)
    except RunAlreadyActive:
        return None
