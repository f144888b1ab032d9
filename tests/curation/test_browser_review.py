"""A data lead in a real browser: accepts a synthetic example from the keyboard, builds a
version, reads its readiness report and approves it."""

import pytest

from curation.models import DatasetVersion, Example
from tests.browser import log_in
from tests.factories import (
    ExampleFactory,
    MembershipFactory,
    ProjectFactory,
    SyntheticExampleFactory,
    UserFactory,
)


@pytest.mark.browser
@pytest.mark.slow
def test_a_data_lead_reviews_then_reads_readiness_then_approves(
    live_server, transactional_db, browser_page, tmp_path
):
    from playwright.sync_api import expect

    page = browser_page
    lead = UserFactory(username="grace")
    project = ProjectFactory(name="Spam filter", label_set=["ham", "spam"])
    MembershipFactory(project=project, user=lead, role="data_lead")
    for n in range(40):
        ExampleFactory(
            project=project,
            fields={"text": f"message {n}"},
            resolved_label=("ham", "spam")[n % 2],
            resolved_label_origin="annotator",
        )
    synthetic = SyntheticExampleFactory(
        project=project, fields={"text": "WIN a FREE cruise, reply now"}, resolved_label="spam"
    )
    base = f"{live_server.url}/projects/{project.pk}"

    log_in(page, f"{live_server.url}/login/", "grace")

    # Review: the queue answers the keyboard.
    page.goto(f"{base}/synthetic/")
    expect(page.locator(".review-item.current")).to_contain_text("FREE cruise")
    page.keyboard.press("a")
    expect(page.locator("#queue-empty")).to_be_visible()
    page.screenshot(path=str(tmp_path / "review.png"), full_page=True)

    # Build a version: it takes the accepted example.
    page.goto(f"{base}/versions/")
    page.click("button:has-text('Build')")
    expect(page.locator("#run-state [data-status]")).to_have_text("succeeded")
    page.click("text=Open version 1")
    page.click("button:has-text('Submit for review')")

    # Readiness: the small size warns; nothing fails, so no reason is needed.
    page.click("text=report")
    expect(page.locator("tr[data-check=size] .badge")).to_have_text("warn")
    expect(page.locator("tr[data-check=synthetic_reviewed] .badge")).to_have_text("pass")
    expect(page.locator("textarea[name=override_reason]")).to_have_count(0)
    page.screenshot(path=str(tmp_path / "readiness.png"), full_page=True)
    page.fill("textarea[name=comment]", "ready to train")
    page.click("#approve button:has-text('Approve')")
    expect(page.locator("h1 .badge")).to_have_text("Approved")
    page.screenshot(path=str(tmp_path / "approved.png"), full_page=True)

    version = DatasetVersion.objects.get(project=project)
    assert (version.status, version.reviewed_by, version.review_comment) == (
        "approved", lead, "ready to train",
    )  # fmt: skip
    assert version.members.filter(example=synthetic).exists()
    assert Example.objects.get(pk=synthetic.pk).reviewed_by == lead
