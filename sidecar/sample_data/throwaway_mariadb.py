"""A throwaway MariaDB server for tests and benchmarks: a private `mariadbd` on a temporary
data directory and a free loopback port, reachable as root without a password.

It lives in the package (not under tests/) so that `bench/` can start the same server
without importing the test suite. Nothing here runs in production.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pymysql
from sqlalchemy.engine import make_url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MariaDBServer:
    """A MariaDB server reachable at `host:port` as root without a password."""

    def __init__(self, base_url: str, process: subprocess.Popen[bytes] | None = None,
                 datadir: Path | None = None) -> None:
        self.base_url = base_url  # no database name
        self.process = process
        self.datadir = datadir
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
        self.process.wait(timeout=60)

    def shut_down(self) -> None:
        """Shut the server down cleanly and wait until it has exited (its data stays)."""
        assert self.process is not None, "only a server started here can be shut down"
        self.process.terminate()
        self.process.wait(timeout=60)

    def restart(self) -> None:
        """Start a killed or shut-down server again: same command, data directory and port."""
        assert self.process is not None and self.datadir is not None
        if self.process.poll() is None:
            return
        self.process = subprocess.Popen(self.process.args, stdout=subprocess.DEVNULL,
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
    process = subprocess.Popen(
        [mariadbd, "--no-defaults", *user_args, f"--datadir={datadir}/data",
         f"--socket={datadir}/mysql.sock", f"--port={port}", "--bind-address=127.0.0.1",
         "--skip-grant-tables", "--skip-log-bin", "--skip-name-resolve",
         f"--log-error={log}", f"--pid-file={datadir}/mysqld.pid", f"--tmpdir={datadir}/tmp",
         "--innodb-buffer-pool-size=512M", "--innodb-flush-log-at-trx-commit=2",
         "--innodb-doublewrite=0", "--max-connections=500",
         "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_520_ci"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    server = MariaDBServer(f"mysql+pymysql://root@127.0.0.1:{port}/", process, datadir)
    try:
        _wait_until_up(server)
    except RuntimeError:
        server.stop()
        raise
    return server


def _wait_until_up(server: MariaDBServer) -> None:
    """Wait until the server accepts connections; raise with its log if it exits first."""
    assert server.process is not None and server.datadir is not None
    deadline = time.monotonic() + 300  # a safety net: it is up in seconds on an idle machine
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
