"""Shared fixtures: a throwaway MariaDB server, fresh databases, SQLite files.

The MariaDB server is real: pytest starts its own `mariadbd` on a temporary data directory
and a free loopback port (unless BKNTC_SMS_TEST_DATABASE_URL points at a server to use,
e.g. mysql+pymysql://root:pw@127.0.0.1:3306/). Each test module that asks for a database
gets a new one on that server, so tests never see each other's rows.

Nothing is skipped when a part is missing: a missing mariadbd is an error, because CI
installs it and a silent skip would hide a broken setup.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from sidecar.db import make_engine

# The server itself lives in the package so bench/ can start it too; MariaDBServer and
# free_port are re-exported here because test modules import them from conftest.
from sidecar.sample_data.throwaway_mariadb import MariaDBServer as MariaDBServer
from sidecar.sample_data.throwaway_mariadb import free_port as free_port
from sidecar.sample_data.throwaway_mariadb import start_mariadb

# The accessibility audits' terminal summary (the browser tests' axe-core checks), and the
# fixtures the feature browser modules (page, stack, page_log) and the API modules (web, api)
# share.
pytest_plugins = ("tests.a11y_support", "tests.browser_fixtures", "tests.api_fixtures")

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"

# Debian's Chromium, headless, talking to nothing but loopback (no downloads, no Google).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def mariadb() -> Iterator[MariaDBServer]:
    given = os.environ.get("BKNTC_SMS_TEST_DATABASE_URL")
    if given:
        url = make_url(given).set(database=None)
        yield MariaDBServer(url.render_as_string(hide_password=False))
        return
    server = start_mariadb()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mysql_url(mariadb: MariaDBServer) -> Iterator[str]:
    """A fresh, empty MariaDB database for one test."""
    name = mariadb.create_database()
    yield mariadb.url(name)
    mariadb.drop_database(name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'wordpress.sqlite3'}"


@pytest.fixture(params=["mariadb", "sqlite"])
def any_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database on each backend the product supports."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'wordpress.sqlite3'}"
        return
    server: MariaDBServer = request.getfixturevalue("mariadb")
    name = server.create_database()
    yield server.url(name)
    server.drop_database(name)


@pytest.fixture
def engine_for() -> Iterator[object]:
    """Create engines that are disposed after the test."""
    made: list[Engine] = []

    def make(url: str) -> Engine:
        engine = make_engine(url)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.dispose()


# Playwright's sync API allows one running instance per thread, so every browser test in the
# session shares this one browser (each test opens its own context or page).
_BROWSER: Any = None
_PLAYWRIGHT: Any = None


def shared_browser() -> Any:
    global _BROWSER, _PLAYWRIGHT
    if _BROWSER is None or not _BROWSER.is_connected():
        from playwright.sync_api import sync_playwright

        if _PLAYWRIGHT is None:
            _PLAYWRIGHT = sync_playwright().start()
        if not os.path.exists(CHROMIUM):
            raise RuntimeError(f"{CHROMIUM} not found: install the Debian package chromium "
                               "(.ci/run does this)")
        _BROWSER = _PLAYWRIGHT.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                               headless=True, timeout=180_000)
    return _BROWSER


@pytest.fixture(scope="session")
def browser() -> Any:
    return shared_browser()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _BROWSER, _PLAYWRIGHT
    if _BROWSER is not None:
        _BROWSER.close()
        _BROWSER = None
    if _PLAYWRIGHT is not None:
        _PLAYWRIGHT.stop()
        _PLAYWRIGHT = None
