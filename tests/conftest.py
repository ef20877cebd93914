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
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymysql
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from sidecar.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"

# Debian's Chromium, headless, talking to nothing but loopback (no downloads, no Google).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MariaDBServer:
    """A MariaDB server reachable at `host:port` as root without a password."""

    def __init__(self, base_url: str, process: subprocess.Popen[bytes] | None = None,
                 datadir: Path | None = None, command: list[str] | None = None) -> None:
        self.base_url = base_url  # no database name
        self.process = process
        self.datadir = datadir
        self.command = command  # how start_mariadb() started it, for restart()
        url = make_url(base_url)
        self.host = url.host or "127.0.0.1"
        self.port = url.port or 3306
        self.user = url.username or "root"
        self.password = url.password or ""

    def connect(self, database: str | None = None) -> pymysql.Connection:
        return pymysql.connect(host=self.host, port=self.port, user=self.user,
                               password=self.password, database=database,
                               charset="utf8mb4", autocommit=True)

    def create_database(self, prefix: str = "t") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 "
                        "COLLATE utf8mb4_unicode_520_ci")
        return name

    def drop_database(self, name: str) -> None:
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")

    def url(self, database: str) -> str:
        cred = self.user + (f":{self.password}" if self.password else "")
        return f"mysql+pymysql://{cred}@{self.host}:{self.port}/{database}?charset=utf8mb4"

    def kill(self) -> None:
        """Crash the server (SIGKILL), keeping its data directory for restart()."""
        assert self.process is not None, "only a server started here can be killed"
        self.process.kill()
        self.process.wait(timeout=20)

    def restart(self) -> None:
        """Start the killed server again on the same data directory and port."""
        assert self.command is not None and self.datadir is not None
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        _wait_until_up(self)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.datadir is not None:
            shutil.rmtree(self.datadir, ignore_errors=True)


def start_mariadb() -> MariaDBServer:
    """Start a private mariadbd; raise with its log if it does not come up."""
    mariadbd = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
    install = shutil.which("mariadb-install-db")
    if not os.path.exists(mariadbd) or install is None:
        raise RuntimeError("mariadbd / mariadb-install-db not found: install the Debian "
                           "package mariadb-server (.ci/run does this)")
    datadir = Path(tempfile.mkdtemp(prefix="bkntc-sms-mariadb-"))
    user_args = ["--user=root"] if os.geteuid() == 0 else []
    subprocess.run(
        [install, *user_args, f"--datadir={datadir}/data", "--skip-test-db",
         "--auth-root-authentication-method=normal"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    port = free_port()
    log = datadir / "server.log"
    # A private tmpdir: every mariadbd empties its tmpdir's #sql* files at start, which
    # would break another server's on-disk temporary tables if they shared /tmp.
    (datadir / "tmp").mkdir()
    command = [
        mariadbd, "--no-defaults", *user_args, f"--datadir={datadir}/data",
        f"--socket={datadir}/mysql.sock", f"--port={port}", "--bind-address=127.0.0.1",
        "--skip-grant-tables", "--skip-log-bin", "--skip-name-resolve",
        f"--log-error={log}", f"--pid-file={datadir}/mysqld.pid", f"--tmpdir={datadir}/tmp",
        "--innodb-buffer-pool-size=512M", "--innodb-flush-log-at-trx-commit=2",
        "--innodb-doublewrite=0", "--max-connections=500",
        "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_520_ci"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = MariaDBServer(f"mysql+pymysql://root@127.0.0.1:{port}/", process, datadir,
                           command)
    try:
        _wait_until_up(server)
    except RuntimeError:
        server.stop()
        raise
    return server


def _wait_until_up(server: MariaDBServer) -> None:
    assert server.process is not None and server.datadir is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            server.connect().close()
            return
        except pymysql.err.OperationalError:
            time.sleep(0.2)
    log = server.datadir / "server.log"
    text = log.read_text(errors="replace") if log.exists() else "(no log)"
    raise RuntimeError(f"mariadbd did not start:\n{text[-3000:]}")


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
                                               headless=True)
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
