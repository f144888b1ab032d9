"""A version against its parent: examples added, removed and relabelled (with samples),
and the shift in label and length distributions, on the page and in the API."""

from django.urls import reverse

from curation.core.distribution import label_shift, length_histogram
from curation.models import Example
from curation.selectors.version_diff import diff_base, version_diff
from curation.services.labels import label_add
from curation.services.versions import (
    dataset_version_approve,
    dataset_version_build,
    dataset_version_submit,
)
from tests.factories import ExampleFactory


def test_label_shift_and_length_histogram():
    rows = {r["label"]: r for r in label_shift({"a": 5, "b": 5}, {"a": 3, "b": 6, "c": 1})}
    assert rows["a"]["shift"] == -0.2 and rows["c"]["before"] == 0 and rows["c"]["after"] == 1
    assert length_histogram([0, 5, 25, 2500]) == {
        "0–19": 2, "20–49": 1, "50–99": 0, "100–199": 0, "200–499": 0, "500–999": 0,
        "1000–1999": 0, "2000+": 1,
    }  # fmt: skip


def _approved_parent(project, user):
    for n in range(30):
        ExampleFactory(project=project, fields={"text": f"short {n}"},
                       resolved_label=("ham", "spam")[n % 3 == 0],
                       resolved_label_origin="annotator")  # fmt: skip
    parent = dataset_version_build(project=project)
    return dataset_version_approve(version=dataset_version_submit(version=parent, user=user),
                                   user=user)  # fmt: skip


def test_diff_counts_and_samples_what_changed(classification_project, user):
    parent = _approved_parent(classification_project, user)
    relabelled = Example.objects.filter(project=classification_project, resolved_label="ham")[0]
    label_add(example=relabelled, value="spam", origin="annotator", annotator=user)
    removed = Example.objects.filter(project=classification_project, resolved_label="ham")[1]
    Example.objects.filter(pk=removed.pk).update(resolved_label="")  # no label: left out
    for n in range(5):
        ExampleFactory(
            project=classification_project,
            fields={"text": "a much longer " * 10 + str(n)},
            resolved_label="spam",
            resolved_label_origin="annotator",
        )
    child = dataset_version_build(project=classification_project)

    assert diff_base(child) == parent
    diff = version_diff(child, parent)

    assert (diff["counts"]["added"], diff["counts"]["removed"], diff["counts"]["relabelled"]) == (
        5,
        1,
        1,
    )
    assert diff["removed"][0]["external_id"] == removed.external_id
    assert diff["relabelled"][0]["external_id"] == relabelled.external_id
    assert (diff["relabelled"][0]["previous_label"], diff["relabelled"][0]["label"]) == (
        "ham",
        "spam",
    )
    spam = next(row for row in diff["label_shift"] if row["label"] == "spam")
    assert spam["after"] - spam["before"] == 6 and spam["shift"] > 0
    assert diff["length_shift"]["mean_change"] > 0


def test_the_diff_page_and_api(client, user, classification_project):
    parent = _approved_parent(classification_project, user)
    ExampleFactory(project=classification_project, external_id="brand-new",
                   resolved_label="ham", resolved_label_origin="annotator")  # fmt: skip
    child = dataset_version_build(project=classification_project)
    client.force_login(user)

    page = client.get(reverse("version-diff", args=[classification_project.pk, child.number]))
    html = page.content.decode()
    assert "against version 1" in html and "brand-new" in html

    data = client.get(f"/api/versions/{child.pk}/diff").json()
    assert data["base"] == parent.number and data["counts"]["added"] == 1
    first = client.get(f"/api/versions/{parent.pk}/diff").json()
    assert first["base"] is None and first["counts"]["added"] == 30
