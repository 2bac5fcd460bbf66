"""Headless Chromium for the browser tests: Debian's ``chromium``, driven by Playwright.

Playwright never downloads a browser here: it launches the system Chromium
through ``executable_path``. ``make setup`` installs Debian's ``chromium``;
without it the browser tests are skipped with the reason.

Test modules import the fixtures they use::

    from browser_fixtures import browser, page  # noqa: F401
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = ["LAUNCH_ARGS", "browser", "chromium_path", "page"]

#: Debian's package puts its launcher here; STREAMLEARN_CHROMIUM overrides it
DEBIAN_CHROMIUM = "/usr/bin/chromium"

#: headless, and quiet on the network: no update checks, sync, QUIC or first-run pings;
#: the browser may reach 127.0.0.1 and nothing else
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--no-pings",
    # belt and braces: whatever is not loopback (never proxied) goes to a closed local port
    "--proxy-server=http://127.0.0.1:9",
]


def _find_chromium() -> str | None:
    for candidate in (
        os.environ.get("STREAMLEARN_CHROMIUM"),
        DEBIAN_CHROMIUM,
        shutil.which("chromium"),
    ):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path of the system Chromium (``make setup`` installs it)."""
    pytest.importorskip(
        "playwright.sync_api", reason="the browser tests need the playwright package"
    )
    path = _find_chromium()
    if path is None:
        pytest.skip("Chromium is not installed: `make setup` installs Debian's chromium")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    """One headless Chromium for the whole session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=chromium_path, headless=True, args=LAUNCH_ARGS
        )
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    """A fresh page in its own context, with page errors collected in ``page.errors``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    tab = context.new_page()
    tab.errors = []  # type: ignore[attr-defined]
    tab.on("pageerror", lambda exc: tab.errors.append(str(exc)))  # type: ignore[attr-defined]
    try:
        yield tab
    finally:
        context.close()
