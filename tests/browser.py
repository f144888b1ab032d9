"""Driving the pages in a real headless browser: Debian's Chromium through Playwright
(playwright's own browser download does not work offline). The `browser_page` fixture in
tests/conftest.py opens a page with `chromium_page`; a test signs in with `log_in`."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct horse battery staple"  # UserFactory's default
SCREENSHOT_DIR_VARIABLE = "ASSAY_SCREENSHOT_DIR"


@contextmanager
def chromium_page(chromium: Path, screenshots: Path) -> Iterator:
    """A fresh 1280x900 page that waits up to 15 s for what a test expects. On the way
    out, the screenshots the test saved in ``screenshots`` are copied to the folder
    named by $ASSAY_SCREENSHOT_DIR, when set, for a look after the run."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            _keep_screenshots(screenshots)
            browser.close()


def _keep_screenshots(screenshots: Path) -> None:
    folder = os.environ.get(SCREENSHOT_DIR_VARIABLE)
    if not folder:
        return
    for shot in screenshots.glob("*.png"):
        (Path(folder) / shot.name).write_bytes(shot.read_bytes())


def log_in(page, url: str, username: str, password: str = PASSWORD) -> None:
    """Sign in on the login form ``url`` shows (a page that needs a login redirects
    there) and wait for the project list."""
    from playwright.sync_api import expect

    page.goto(url)
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Projects")
