"""Headless Debian Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def artifacts() -> Path:
    """Screenshots kept for people to look at: tests/artifacts/ (git-ignored)."""
    path = Path(__file__).resolve().parents[1] / "artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def browser_page():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: run `make setup` (it installs the chromium package)")
    with sync_api.sync_playwright() as p:
        # Playwright gives each launch a fresh, empty profile; the flags keep Chromium off
        # the network (closed here) and let it run as root.
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        yield page
        browser.close()


@pytest.fixture
def sign_in():
    """``sign_in(page, url, username, password)``: log into Argilla's UI."""

    def go(page, url: str, username: str, password: str) -> None:
        page.goto(f"{url}/sign-in")
        page.fill("input[name=Username]", username)
        page.fill("input[name=Password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{url}/")

    return go
