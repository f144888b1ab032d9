"""Fixtures for the weak-supervision tests: a small spam project with human labels."""

import pytest

from curation.models import LabelOrigin, ProjectMembership, Role
from curation.services.labels import label_add
from curation.weak_supervision.services.functions import labeling_function_create
from tests.factories import ExampleFactory, ProjectFactory, UserFactory

TEXTS = [
    ("check out my channel", "spam"),
    ("subscribe to my channel please", "spam"),
    ("free prize click http://x.example", "spam"),
    ("great song love it", "ham"),
    ("this song is amazing", "ham"),
    ("lol", "ham"),
    ("check out my new video", None),
    ("nice song", None),
    ("my song is better please subscribe", None),
    ("wow", None),
    ("hello http://y.example free", None),
    ("who is listening in 2015", None),
]


@pytest.fixture
def spam_project(db):
    """12 examples; the first six carry human (import) labels: the dev set."""
    project = ProjectFactory(name="YouTube spam", label_set=["ham", "spam"])
    for n, (text, label) in enumerate(TEXTS):
        example = ExampleFactory(project=project, external_id=f"c{n}", fields={"text": text})
        if label:
            label_add(example=example, value=label, origin=LabelOrigin.IMPORT, author="file.csv")
    return project


@pytest.fixture
def spam_lfs(spam_project):
    """Three keyword LFs, enough for the label model."""
    specs = [
        ("keyword_my", ["my"], "spam"),
        ("keyword_link", ["http", "free"], "spam"),
        ("keyword_song", ["song"], "ham"),
    ]
    return [
        labeling_function_create(
            project=spam_project,
            name=name,
            kind="keyword",
            label=label,
            params={"keywords": words},
        )
        for name, words, label in specs
    ]


@pytest.fixture
def member(db):
    """Make ``user`` a member of ``project`` with ``role``."""

    def make(project, role):
        user = UserFactory()
        ProjectMembership.objects.create(project=project, user=user, role=role)
        return user

    return make


__all__ = ["Role"]
