"""End-to-end tests: real service processes on real PostgreSQL and NATS, driven through their web
pages in headless Chromium (Debian's ``chromium``, through Playwright; no browser is downloaded).

Everything here is marked ``e2e`` and ``integration`` (``make test-fast`` skips it). Without a
Chromium the tests skip, naming the command that installs it; in CI (``CI=true``) they fail
instead: ``make test`` runs ``make browser`` first, which installs it there.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright

from tests.integration.conftest import database, nats_settings  # noqa: F401 (fixtures used here)

E2E = Path(__file__).parent

# Headless on a machine without a display or an outside network: no GPU, no sandbox as root, and
# none of Chromium's own connections (updates, sync, field trials), which would only fail here.
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
]

YEOKSAM_STATION = {"latitude": 37.5007, "longitude": 127.0363, "accuracy": 12}


NO_CHROMIUM = "Debian's chromium is not installed: run `make browser` (or `sudo apt-get install chromium`)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Skipped before any server starts when there is no browser (but never in CI: see launch_chromium).
    missing = chromium_path() is None and os.environ.get("CI") != "true"
    for item in items:
        if E2E in item.path.parents:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.integration)
            if missing:
                item.add_marker(pytest.mark.skip(reason=NO_CHROMIUM))


def chromium_path() -> str | None:
    """Debian's chromium (or ``JIKIMI_CHROMIUM``), if installed."""
    explicit = os.environ.get("JIKIMI_CHROMIUM", "")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def launch_chromium(playwright: Playwright) -> Browser:
    """Headless Chromium from the system, or a skip (a failure in CI) saying how to install it."""
    path = chromium_path()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{NO_CHROMIUM}; CI must run the browser tests")
        pytest.skip(NO_CHROMIUM)
    args = [*CHROMIUM_ARGS, *(["--no-sandbox"] if os.geteuid() == 0 else [])]
    return playwright.chromium.launch(executable_path=path, args=args, headless=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh profile (no cache, no storage, no service worker) on a phone-sized screen in Seoul,
    the location allowed and set at Yeoksam station (Gangnam-gu)."""
    context = browser.new_context(
        locale="ko-KR",
        timezone_id="Asia/Seoul",
        viewport={"width": 390, "height": 844},
        geolocation=YEOKSAM_STATION,
        permissions=["geolocation"],
    )
    context.set_default_timeout(15_000)
    try:
        yield context
    finally:
        context.close()
