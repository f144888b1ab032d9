"""One real browser run through the pages: log in, create a project, upload a CSV, watch
the run finish, browse the rows. Uses Debian's Chromium (see tests/browser.py)."""

import pytest

from tests.browser import log_in
from tests.factories import UserFactory


@pytest.mark.browser
@pytest.mark.slow
def test_upload_a_csv_and_browse_it(live_server, transactional_db, browser_page, tmp_path):
    from playwright.sync_api import expect

    page = browser_page
    UserFactory(username="ada")
    csv_file = tmp_path / "reviews.csv"
    rows = [
        f"Review number {n} is {'great' if n % 2 else 'awful'},{'pos' if n % 2 else 'neg'}"
        for n in range(12)
    ]
    csv_file.write_text("review,sentiment\n" + "\n".join(rows) + "\n", encoding="utf-8")

    log_in(page, f"{live_server.url}/", "ada")

    page.fill("#id_name", "Movie reviews")
    page.select_option("#id_task_type", "classification")
    page.fill("#id_labels", "neg, pos")
    page.click("text=Create project")
    expect(page.locator("h1")).to_have_text("Movie reviews")

    page.click("text=Import data")
    page.set_input_files("#id_file", str(csv_file))
    page.fill("#id_map_text", "review")
    page.fill("#id_map_label", "sentiment")
    page.click("text=Upload and import")

    expect(page.locator("#run-state [data-status]")).to_have_text("succeeded")
    expect(page.locator(".progress")).to_have_attribute("aria-valuenow", "100")
    page.screenshot(path=str(tmp_path / "run.png"), full_page=True)

    page.click("text=Browse examples")
    expect(page.locator("table.examples tbody tr")).to_have_count(12)
    page.fill("#id_search", "number 3 ")
    page.click("button:has-text('Filter')")
    expect(page.locator("table.examples tbody tr")).to_have_count(1)
    expect(page.locator("table.examples tbody")).to_contain_text("pos")
    page.screenshot(path=str(tmp_path / "examples.png"), full_page=True)

    assert (tmp_path / "examples.png").stat().st_size > 10_000
