"""factory_boy factories for the domain models."""

import factory
from django.contrib.auth import get_user_model

from curation.core.hashing import content_hash
from curation.models import Example, Project


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"Project {n}")
    task_type = "classification"
    label_set = factory.LazyFunction(lambda: ["negative", "positive"])
    field_schema = factory.LazyAttribute(
        lambda p: ["text"] if p.task_type == "classification" else ["prompt", "response"]
    )


class ExampleFactory(factory.django.DjangoModelFactory):
    """An example; pass ``resolved_label`` to give it a label without Label rows."""

    class Meta:
        model = Example

    project = factory.SubFactory(ProjectFactory)
    external_id = factory.Sequence(lambda n: f"ex-{n}")
    fields = factory.Sequence(lambda n: {"text": f"example text number {n}"})
    content_hash = factory.LazyAttribute(lambda e: content_hash(e.fields))
    source = "imported"


class GenerationExampleFactory(ExampleFactory):
    """An example of a generation project: a prompt and its response."""

    project = factory.SubFactory(
        ProjectFactory, task_type="generation", label_set=[], field_schema=["prompt", "response"]
    )
    fields = factory.Sequence(
        lambda n: {"prompt": f"question number {n}", "response": f"answer number {n}"}
    )


class MembershipFactory(factory.django.DjangoModelFactory):
    """A user's role in a project (default: annotator)."""

    class Meta:
        model = "curation.ProjectMembership"
        django_get_or_create = ("project", "user")

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = "annotator"


class SyntheticExampleFactory(ExampleFactory):
    """A synthetic example waiting for review, made from no particular parent."""

    external_id = factory.Sequence(lambda n: f"syn-{n}")
    fields = factory.Sequence(lambda n: {"text": f"synthetic variant number {n}"})
    source = "synthetic"
    review_status = "pending"
    provenance = factory.LazyFunction(lambda: {"generator": "test", "method": "template"})
