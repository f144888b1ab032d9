import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from curation.models import Example, Run
from curation.services.runs import RunProgress, run_create
from tests.factories import ExampleFactory, ProjectFactory

GOOD_CSV = b"review,sentiment\nGreat value,ham\nWin a prize now,spam\nArrived late,ham\n"


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


def upload(client, project, content: bytes, name="reviews.csv", **fields):
    data = {
        "file": SimpleUploadedFile(name, content, content_type="text/csv"),
        "format": "auto",
        "map_text": "review",
        "map_label": "sentiment",
        "has_header": "on",
        "encoding": "utf-8",
        **fields,
    }
    return client.post(reverse("import-create", args=[project.pk]), data)


def test_import_page_has_one_mapping_input_per_content_field(logged_in):
    project = ProjectFactory(task_type="generation", label_set=[], field_schema=["q", "a"])
    page = logged_in.get(reverse("import-create", args=[project.pk])).content.decode()
    for name in ("map_q", "map_a", "map_label", "map_id", "has_header", "no_quoting"):
        assert f'name="{name}"' in page
    assert 'enctype="multipart/form-data"' in page and "csrfmiddlewaretoken" in page


def test_upload_runs_the_import_and_the_run_page_reports_it(
    logged_in, project, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(logged_in, project, GOOD_CSV)

    run = Run.objects.get(kind="import", project=project)
    assert response.status_code == 302
    assert response["Location"] == reverse("run-detail", args=[run.pk])
    assert sorted(
        Example.objects.filter(project=project).values_list("resolved_label", flat=True)
    ) == [
        "ham",
        "ham",
        "spam",
    ]
    page = logged_in.get(response["Location"])
    html = page.content.decode()
    assert 'data-status="succeeded"' in html
    assert ("Created", 3) in page.context["result_rows"]
    assert "hx-trigger" not in html  # finished: the fragment no longer polls
    assert reverse("example-list", args=[project.pk]) in html


def test_broken_file_shows_the_line_and_stores_nothing(
    logged_in, project, django_capture_on_commit_callbacks
):
    ExampleFactory(project=project)
    broken = b"review,sentiment\nfine,ham\n,spam\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(logged_in, project, broken, name="broken.csv")

    page = logged_in.get(response["Location"])
    assert page.context["state"]["status"] == "failed"
    detail = page.context["error_detail"]
    assert (detail["file"], detail["line"]) == ("broken.csv", 3)
    html = page.content.decode()
    assert "<td>broken.csv</td>" in html and "<td>3</td>" in html
    assert "Nothing was stored" in html
    assert Example.objects.filter(project=project).count() == 1


def test_header_less_csv_without_column_names_is_refused_by_the_form(logged_in, project):
    response = upload(logged_in, project, b"a,ham\n", format="csv", has_header="")
    assert response.status_code == 200
    assert "needs column names" in response.content.decode()
    assert not Run.objects.exists()


def test_second_import_while_one_is_queued_is_a_message(logged_in, project):
    run_create(kind="import", target=project, project=project)
    response = upload(logged_in, project, GOOD_CSV)
    assert response.status_code == 200
    assert "already queued" in response.content.decode()
    assert Run.objects.filter(kind="import").count() == 1


def test_active_run_fragment_polls_and_shows_live_progress(logged_in, project):
    run = run_create(kind="import", target=project, project=project)
    # A live run: its worker reports (a running run without a heartbeat shows as dead).
    Run.objects.filter(pk=run.pk).update(status="running", heartbeat_at=timezone.now())
    run.refresh_from_db()
    RunProgress(run).update(42, "Reading line 4200")

    fragment = logged_in.get(reverse("run-status", args=[run.pk])).content.decode()

    status_url = reverse("run-status", args=[run.pk])
    assert f'hx-get="{status_url}"' in fragment
    assert 'hx-trigger="every 1s"' in fragment
    assert 'aria-valuenow="42"' in fragment and "Reading line 4200" in fragment
    assert "<html" not in fragment


def test_finished_runs_are_named_by_their_kind_and_link_to_what_they_made(client, user):
    """Every registered run kind has a title and, once finished, a link to its result."""
    from curation.services.runs import RUN_KINDS, run_kind_title

    assert all(kind.title for kind in RUN_KINDS.values())
    assert run_kind_title("label_model_fit") == "Label model fit"
    assert run_kind_title("quality_check") == "Quality check"
