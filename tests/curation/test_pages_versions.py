import pytest
from django.urls import reverse
from django.utils.html import escape

from curation.models import DatasetExport, DatasetVersion, Run
from curation.services.versions import dataset_version_build, dataset_version_submit
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
    project = ProjectFactory(label_set=["ham", "spam"])
    for n in range(30):
        ExampleFactory(
            project=project,
            resolved_label="spam" if n % 3 == 0 else "ham",
            resolved_label_origin="annotator",
        )
    return project


def review(client, version, action, comment=""):
    url = reverse("version-review", args=[version.project_id, version.number])
    return client.post(url, {"action": action, "comment": comment}, follow=True)


def test_build_button_starts_a_run_that_makes_a_draft_version(
    logged_in, project, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(
            reverse("version-build", args=[project.pk]), {"seed": "7", "note": "first cut"}
        )

    run = Run.objects.get(kind="version_build")
    assert response["Location"] == reverse("run-detail", args=[run.pk])
    version = DatasetVersion.objects.get(project=project)
    assert (version.number, version.status, version.seed, version.note) == (
        1,
        "draft",
        7,
        "first cut",
    )
    run_page = logged_in.get(response["Location"]).content.decode()
    assert reverse("version-detail", args=[project.pk, 1]) in run_page

    listing = logged_in.get(reverse("version-list", args=[project.pk])).content.decode()
    assert "v1" in listing and version.content_hash[:12] in listing and ">30<" in listing


def test_version_detail_shows_hash_split_counts_and_label_chart(logged_in, project):
    version = dataset_version_build(project=project, seed=0)
    response = logged_in.get(reverse("version-detail", args=[project.pk, 1]))

    assert response.context["split_counts"] == {"train": 24, "validation": 3, "test": 3}
    charts = dict(response.context["label_charts"])
    assert {bar["name"]: bar["count"] for bar in charts["train"]} == {"ham": 16, "spam": 8}
    html = response.content.decode()
    assert version.content_hash in html and "Submit for review" in html


def test_submit_then_approve_with_the_buttons(logged_in, project, user):
    version = dataset_version_build(project=project)

    review(logged_in, version, "submit")
    page = review(logged_in, version, "approve", "looks right")

    version.refresh_from_db()
    assert (version.status, version.reviewed_by, version.review_comment) == (
        "approved",
        user,
        "looks right",
    )
    assert "Version 1 is now Approved." in page.content.decode()
    assert "Approved versions are immutable." in page.content.decode()


def test_invalid_transition_is_shown_as_a_message(logged_in, project):
    version = dataset_version_build(project=project)
    page = review(logged_in, version, "approve")
    assert page.status_code == 200
    assert "only in review versions can be approved" in page.content.decode()
    version.refresh_from_db()
    assert version.status == "draft"


def test_reject_needs_a_comment(logged_in, project):
    version = dataset_version_build(project=project)
    dataset_version_submit(version=version)
    page = review(logged_in, version, "reject")
    assert "Say why the version is rejected." in page.content.decode()
    version.refresh_from_db()
    assert version.status == "in_review"


def test_export_button_writes_files_listed_with_their_sha256(
    logged_in, project, django_capture_on_commit_callbacks
):
    dataset_version_build(project=project)
    url = reverse("version-export", args=[project.pk, 1])
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(url, {"formats": ["jsonl"]})

    run = Run.objects.get(kind="export")
    assert response["Location"] == reverse("run-detail", args=[run.pk])
    assert run.status == "succeeded"
    export = DatasetExport.objects.get()
    files = list(export.files.all())
    assert files
    detail = logged_in.get(reverse("version-detail", args=[project.pk, 1])).content.decode()
    for exported in files:
        assert exported.path in detail and exported.sha256 in detail


def test_building_with_no_examples_is_a_message(logged_in, django_capture_on_commit_callbacks):
    empty = ProjectFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(reverse("version-build", args=[empty.pk]), {"seed": "0"})
    page = logged_in.get(response["Location"])
    assert page.context["state"]["status"] == "failed"
    assert "has no labelled examples" in page.context["run"].error
    assert escape(page.context["run"].error) in page.content.decode()
    assert not DatasetVersion.objects.exists()


def test_verify_button_reports_a_matching_hash(logged_in, project):
    version = dataset_version_build(project=project)
    page = logged_in.post(reverse("version-verify", args=[project.pk, 1]), follow=True)
    assert f"Version 1 verified: hash {version.content_hash}." in page.content.decode()


def test_the_version_page_says_how_the_version_is_stored(logged_in, project, user):
    from curation.services.versions import dataset_version_approve

    first = dataset_version_build(project=project)
    dataset_version_approve(version=dataset_version_submit(version=first, user=user), user=user)
    ExampleFactory(project=project, resolved_label="ham", resolved_label_origin="annotator")
    second = dataset_version_build(project=project)

    def storage(version) -> str:
        page = logged_in.get(reverse("version-detail", args=[project.pk, version.number]))
        return page.content.decode().split('class="storage">')[1].split("</dd>")[0]

    assert storage(first) == "a full copy: 30 rows stored"
    assert storage(second) == (
        "a delta on v1: 1 row stored, 0 of the parent's dropped; the rest shared"
    )
