"""A small checked classification version: clean topics, planted label errors, a near
duplicate that straddles train and test, and a text with an e-mail address."""

import random

import pytest

from curation.models import DatasetVersionMember
from curation.services.versions import dataset_version_build
from tests.factories import ExampleFactory, MembershipFactory, ProjectFactory, UserFactory

TOPICS = {
    "ham": "lunch meeting family weekend dinner garden movie friends".split(),
    "spam": "winner prize claim free cash offer urgent click".split(),
}


@pytest.fixture
def quality_project(db):
    rng = random.Random(7)
    project = ProjectFactory(label_set=["ham", "spam"])
    for label, words in TOPICS.items():
        for i in range(30):
            ExampleFactory(
                project=project,
                external_id=f"{label}-{i}",
                fields={"text": " ".join(rng.choices(words, k=14))},
                resolved_label=label,
            )
    for i in (0, 1):  # planted label errors: ham texts labelled spam
        ExampleFactory(
            project=project,
            external_id=f"flipped-{i}",
            fields={"text": " ".join(rng.choices(TOPICS["ham"], k=14))},
            resolved_label="spam",
        )
    ExampleFactory(
        project=project,
        external_id="pii",
        fields={"text": "lunch with friends, write to jo@example.org"},
        resolved_label="ham",
    )
    return project


@pytest.fixture
def quality_version(quality_project):
    """The project's version, with ham-3's near copy added and put in another split."""
    original = quality_project.examples.get(external_id="ham-3")
    ExampleFactory(
        project=quality_project,
        external_id="ham-3-copy",
        fields={"text": original.fields["text"] + " today"},
        resolved_label="ham",
    )
    version = dataset_version_build(project=quality_project)
    members = DatasetVersionMember.objects.filter(version=version)
    members.filter(external_id="ham-3").update(split="train")
    members.filter(external_id="ham-3-copy").update(split="test")
    return version


@pytest.fixture
def data_lead(quality_project):
    user = UserFactory()
    MembershipFactory(project=quality_project, user=user, role="data_lead")
    return user


@pytest.fixture
def annotator(quality_project):
    user = UserFactory()
    MembershipFactory(project=quality_project, user=user, role="annotator")
    return user
