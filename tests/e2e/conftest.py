"""Fixtures of the end-to-end tests: real processes, and headless chromium."""

import pytest
from e2e_support import Processes
from ui_support import CHROMIUM_ARGS, VIEWPORT, chromium_or_skip


@pytest.fixture
def processes(tmp_path):
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    procs = Processes({"MIENSKIP_DATA_DIR": str(tmp_path / "data"), "MIENSKIP_LOG_LEVEL": "INFO",
                       "MIENSKIP_RATE_LIMIT": "1000 per second"}, log_dir)
    yield procs
    procs.stop_all()


@pytest.fixture(scope="module")
def browser():
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser):
    """A fresh browser context (own cookies) per person."""
    contexts = []

    def make(viewport=VIEWPORT):
        context = browser.new_context(viewport=viewport, locale="nl-NL")
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
