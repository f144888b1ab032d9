"""A real Label Studio for the integration tests.

The session fixture reuses a server already answering at the configured URL; otherwise
it starts one (installing its virtualenv first when missing, a few minutes) and stops
what it started at the end. Only outside CI may a failed install skip the tests.
"""

import os
import uuid

import pytest

from labeling.integrations.label_studio import LabelStudioClient
from labeling.lifecycle import (
    LabelStudioServerConfig,
    LabelStudioServerError,
    server_health,
    server_install,
    server_is_installed,
    server_start,
    server_stop,
)


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but Label Studio is unavailable: {reason}")
    pytest.skip(f"Label Studio is unavailable: {reason}")


@pytest.fixture(autouse=True)
def _no_webhooks_unless_asked(settings):
    """Linking registers a webhook to ASSAY_PUBLIC_URL, where no test server listens (or,
    worse, someone's `make run`); tests that want webhooks register them to live_server."""
    settings.LABEL_STUDIO_WEBHOOKS = False


@pytest.fixture(scope="session")
def label_studio_server():
    config = LabelStudioServerConfig.from_env()
    if server_health(config.url):
        yield config
        return
    try:
        if not server_is_installed(config):
            server_install(config)
        started_pid = server_start(config)
    except LabelStudioServerError as exc:
        _unavailable(str(exc))
    yield config
    if started_pid is not None:
        server_stop(config)


@pytest.fixture
def ls_client(label_studio_server) -> LabelStudioClient:
    return LabelStudioClient(url=label_studio_server.url, token=label_studio_server.token)


@pytest.fixture
def linked(ls_client, db):
    """Link a project and delete its LS project after the test, so runs stay independent.

    Usage: ``link = linked(project)``."""
    from labeling.services.links import label_studio_project_link

    links = []

    def link(project):
        links.append(label_studio_project_link(project=project, client=ls_client))
        return links[-1]

    yield link
    for made in links:
        ls_client.project_delete(made.ls_project_id)


@pytest.fixture
def unique_email() -> str:
    return f"annotator-{uuid.uuid4().hex[:8]}@assay.local"


@pytest.fixture
def sms_project(db, shared_data):
    """A classification project holding the 5,574 SMS Spam Collection messages, created
    directly (one bulk insert), independent of the import service."""
    from curation.core.hashing import content_hash
    from curation.models import Example
    from tests.factories import ProjectFactory

    project = ProjectFactory(label_set=["ham", "spam"])
    path = shared_data / "sms_spam" / "SMSSpamCollection.tsv"
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        _label, text = line.split("\t", 1)
        fields = {"text": text}
        examples.append(
            Example(
                project=project,
                external_id=f"sms-{number}",
                fields=fields,
                content_hash=content_hash(fields),
            )
        )
    Example.objects.bulk_create(examples, batch_size=2000)
    return project
