"""One real browser run through the pages: log in, create a project, upload a CSV, watch
the run finish, browse the rows. Uses Debian's Chromium (playwright's own download does
not work offline)."""

import os
from pathlib import Path

import pytest

from tests.factories import UserFactory

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct horse battery staple"


@pytest.mark.browser
@pytest.mark.slow
def test_upload_a_csv_and_browse_it(
    live_server, transactional_db, chromium_path, tmp_path, monkeypatch
):
    from playwright.sync_api import expect, sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes
    # around it are still synchronous, so Django's async-safety check is relaxed.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    UserFactory(username="ada", password=PASSWORD)
    csv_file = tmp_path / "reviews.csv"
    rows = [
        f"Review number {n} is {'great' if n % 2 else 'awful'},{'pos' if n % 2 else 'neg'}"
        for n in range(12)
    ]
    csv_file.write_text("review,sentiment\n" + "\n".join(rows) + "\n", encoding="utf-8")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(15_000)
        try:
            page.goto(f"{live_server.url}/")
            page.fill("#id_username", "ada")
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit]")
            expect(page.locator("h1")).to_have_text("Projects")

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
        finally:
            # Set to a folder to keep the screenshots for a look after the run.
            shots = os.environ.get("ASSAY_SCREENSHOT_DIR")
            if shots:
                for shot in tmp_path.glob("*.png"):
                    (Path(shots) / shot.name).write_bytes(shot.read_bytes())
            browser.close()
    assert (tmp_path / "examples.png").stat().st_size > 10_000
