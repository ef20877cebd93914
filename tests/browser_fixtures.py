"""The fixtures the feature browser modules share (test_browser_*.py but test_browser.py),
as a pytest plugin registered in tests/conftest.py: one Chromium per module with the slow-UI
timeouts, a fresh stack, page log and page per test. A module that needs something else
defines its own fixture of the same name (test_browser.py's `page`, or its own stacks such
as test_browser_settings.py's `site`), and a module's fixture wins over these."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import Engine

from tests.browser_page_support import feature_browser, feature_page, feature_stack
from tests.browser_support import PageLog, Stack


@pytest.fixture(scope="module")
def feature_chromium() -> Iterator[Browser]:
    """The session's Chromium with these modules' timeouts (not conftest's `browser`, which
    the WordPress and demo modules use with the default timeouts)."""
    yield from feature_browser()


@pytest.fixture
def stack(mysql_url: str, engine_for: Callable[[str], Engine]) -> Iterator[Stack]:
    yield from feature_stack(mysql_url, engine_for(mysql_url))


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(feature_chromium: Browser, page_log: PageLog,
         request: pytest.FixtureRequest) -> Iterator[Page]:
    yield from feature_page(feature_chromium, page_log, request)
