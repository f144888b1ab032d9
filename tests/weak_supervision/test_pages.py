"""The weak-supervision pages: what a data lead sees and may do, and who may not."""

import pytest
from django.urls import reverse

from curation.models import Role, Run
from curation.weak_supervision.models import LabelingFunction
from curation.weak_supervision.services.application import lf_apply


@pytest.fixture
def lead(client, spam_project, member):
    client.force_login(member(spam_project, Role.DATA_LEAD))
    return client


def test_overview_shows_the_lfs_their_numbers_and_charts(lead, spam_project, spam_lfs):
    lf_apply(project=spam_project)
    html = lead.get(reverse("ws-overview", args=[spam_project.pk])).content.decode()
    assert 'data-lf="keyword_my"' in html
    assert "Coverage" in html and 'aria-label="Conflict matrix"' in html
    # keyword_song votes ham on c3, c4 (human ham) and c7, c8: accuracy 2/2 on the dev set
    assert "(2/2)" in html


def test_creating_an_lf_from_the_editor(lead, spam_project):
    url = reverse("ws-lf-create", args=[spam_project.pk])
    form = {
        "name": "regex_check_out",
        "kind": "regex",
        "label": "spam",
        "field": "text",
        "pattern": "check.*out",
        "mode": "any",
        "unit": "chars",
    }
    response = lead.post(url, form)
    assert response.status_code == 302
    lf = LabelingFunction.objects.get(name="regex_check_out")
    assert lf.latest_version.params == {
        "field": "text",
        "pattern": "check.*out",
        "case_sensitive": False,
    }
    edit = reverse("ws-lf-edit", args=[spam_project.pk, lf.pk])
    lead.post(edit, {**form, "pattern": "check\\s+out"})
    assert lf.versions.count() == 2


def test_preview_shows_coverage_and_dev_accuracy(lead, spam_project):
    url = reverse("ws-lf-preview", args=[spam_project.pk])
    data = {"kind": "keyword", "label": "spam", "field": "text", "keywords": "check", "mode": "any"}
    html = lead.post(url, {**data, "whole_word": "on"}).content.decode()
    assert "votes on 2 of the first 12" in html
    assert "<strong>1.000</strong> (1 votes)" in html
    bad = lead.post(url, {**data, "kind": "regex", "pattern": "(x"}).content.decode()
    assert "not a valid regular expression" in bad


def test_apply_and_fit_button_starts_a_run(lead, spam_project, spam_lfs):
    response = lead.post(reverse("ws-apply", args=[spam_project.pk]))
    run = Run.objects.get(kind="lf_apply")
    assert response["Location"] == reverse("run-detail", args=[run.pk])


def test_non_members_get_404_and_annotators_cannot_edit(client, spam_project, member):
    outsider = member(
        spam_project.__class__.objects.create(name="other", task_type="classification"), Role.ADMIN
    )
    client.force_login(outsider)
    assert client.get(reverse("ws-overview", args=[spam_project.pk])).status_code == 404
    client.force_login(member(spam_project, Role.ANNOTATOR))
    assert client.get(reverse("ws-overview", args=[spam_project.pk])).status_code == 200
    assert client.get(reverse("ws-lf-create", args=[spam_project.pk])).status_code == 403
    assert client.post(reverse("ws-fit", args=[spam_project.pk])).status_code == 403
    assert not Run.objects.exists()
