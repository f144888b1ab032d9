import pytest
from django.urls import reverse

from curation.selectors.examples import examples_filter
from curation.services.versions import dataset_version_build
from tests.factories import ExampleFactory, ProjectFactory


@pytest.fixture
def logged_in(client, user):
    """A site admin (superuser): these tests are about the pages; who may see and do
    what is test_rbac_matrix.py's subject."""
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    client.force_login(user)
    return client


@pytest.fixture
def project(db):
    return ProjectFactory(label_set=["ham", "spam"])


def shown_ids(response) -> list[str]:
    return [example.external_id for example, _cells in response.context["rows"]]


def test_browser_pages_50_at_a_time_and_keeps_filters_in_page_links(logged_in, project):
    ExampleFactory.create_batch(120, project=project, resolved_label="ham")
    ExampleFactory.create_batch(5, project=project, resolved_label="spam")
    url = reverse("example-list", args=[project.pk])

    first = logged_in.get(url, {"label": "ham"})
    assert len(shown_ids(first)) == 50 and first.context["page"].paginator.count == 120
    assert "?label=ham&amp;page=2" in first.content.decode()

    last = logged_in.get(url, {"label": "ham", "page": 3})
    assert len(shown_ids(last)) == 20


def test_filters_by_source_and_label(logged_in, project):
    ExampleFactory(project=project, external_id="h1", resolved_label="ham", source="human")
    ExampleFactory(project=project, external_id="i1", resolved_label="ham")
    ExampleFactory(project=project, external_id="i2", resolved_label="spam")
    url = reverse("example-list", args=[project.pk])

    assert shown_ids(logged_in.get(url, {"source": "human"})) == ["h1"]
    assert shown_ids(logged_in.get(url, {"label": "spam"})) == ["i2"]
    assert shown_ids(logged_in.get(url, {"label": "ham", "source": "imported"})) == ["i1"]


def test_search_matches_field_text_case_insensitively_but_not_field_names(logged_in, project):
    ExampleFactory(project=project, external_id="a", fields={"text": "Free CAFÉ coupon"})
    ExampleFactory(project=project, external_id="b", fields={"text": 'He said "hello"'})
    ExampleFactory(project=project, external_id="c", fields={"text": "nothing here"})
    url = reverse("example-list", args=[project.pk])

    assert shown_ids(logged_in.get(url, {"search": "coupon"})) == ["a"]
    assert shown_ids(logged_in.get(url, {"search": "FREE"})) == ["a"]
    assert shown_ids(logged_in.get(url, {"search": "CAFÉ"})) == ["a"]
    assert shown_ids(logged_in.get(url, {"search": '"hello"'})) == ["b"]
    assert shown_ids(logged_in.get(url, {"search": "text"})) == []


def test_search_covers_every_content_field_of_a_generation_project(db):
    project = ProjectFactory(task_type="generation", label_set=[])
    ExampleFactory(project=project, external_id="p", fields={"prompt": "alpha", "response": "x"})
    ExampleFactory(project=project, external_id="r", fields={"prompt": "y", "response": "ALPHA"})
    ExampleFactory(project=project, external_id="n", fields={"prompt": "y", "response": "z"})
    found = examples_filter(project=project, search="alpha")
    assert sorted(found.values_list("external_id", flat=True)) == ["p", "r"]


def test_split_filter_within_a_version(logged_in, project):
    for n in range(20):
        ExampleFactory(project=project, resolved_label="ham" if n % 2 else "spam")
    version = dataset_version_build(project=project, seed=1)
    ExampleFactory(project=project, resolved_label="ham")  # after the build: in no version
    url = reverse("example-list", args=[project.pk])

    in_version = shown_ids(logged_in.get(url, {"version": version.pk}))
    test_split = shown_ids(logged_in.get(url, {"version": version.pk, "split": "test"}))

    assert len(in_version) == 20
    expected = version.members.filter(split="test").values_list("external_id", flat=True)
    assert sorted(test_split) == sorted(expected) and 0 < len(test_split) < 20


def test_split_without_version_is_explained(logged_in, project):
    ExampleFactory(project=project)
    response = logged_in.get(reverse("example-list", args=[project.pk]), {"split": "train"})
    assert "Splits exist only within a version" in response.content.decode()
    assert shown_ids(response) == []
