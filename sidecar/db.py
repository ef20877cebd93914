"""Engines, dialect helpers and the database-level lease lock.

Everything here is dialect-aware because the same code runs on MariaDB/MySQL (production)
and SQLite (the demo and a second test target).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    LargeBinary,
    Table,
    case,
    cast,
    create_engine,
    event,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import mysql as mysql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.sql.elements import ColumnElement

from .errors import Unavailable


class DatabaseUnavailable(Unavailable, RuntimeError):
    """The database cannot be reached; the message says where we tried."""

    code = "database_unavailable"


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """Create the engine with settings that suit a long-running queue worker.

    MySQL/MariaDB: READ COMMITTED so a snapshot INSERT ... SELECT never holds shared
    next-key locks on Booknetic's rows (tech-notes §3.2), utf8mb4, and a pool that survives
    `wait_timeout` and server restarts. SQLite: a busy timeout and WAL so the demo's web
    threads and worker can share one file.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=pool_size,
            max_overflow=pool_size,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine

    if "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    engine = create_engine(
        parsed,
        pool_recycle=280,
        pool_size=pool_size,
        max_overflow=pool_size,
        isolation_level="READ COMMITTED",
    )
    _ping_when_idle(engine)
    return engine


# A pooled connection unused this long is pinged before it is handed out again.
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection at checkout only when it sat idle (SQLAlchemy's
    "pessimistic disconnect handling" through the checkout event).

    `pool_pre_ping` pings at every checkout: a round trip per transaction, which the send
    threads (a claim and a record per batch, a status read) paid hundreds of times a
    second on connections returned milliseconds before. A connection that idled can have
    been dropped by a server restart or `wait_timeout`: it is still pinged, and a failed
    ping makes the pool replace it. A disconnect on a busy connection shows as an error
    on its statement, which invalidates the pool's older connections as before.
    """

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dbapi_conn.ping(reconnect=False)
        except Exception as exc:  # the pool retries the checkout with a new connection
            raise DisconnectionError("pooled connection lost while idle") from exc


def is_mysql(bind: Engine | Connection) -> bool:
    return bind.dialect.name in ("mysql", "mariadb")


def check_connection(engine: Engine) -> str:
    """Return the server version string, or raise DatabaseUnavailable."""
    try:
        with engine.connect() as conn:
            if is_mysql(engine):
                return str(conn.execute(text("SELECT VERSION()")).scalar())
            return "SQLite " + str(conn.execute(text("SELECT sqlite_version()")).scalar())
    except Exception as exc:  # any driver error means "not reachable" to an operator
        where = engine.url.render_as_string(hide_password=True)
        raise DatabaseUnavailable(f"cannot connect to {where}: {exc.__class__.__name__}: "
                                  f"{str(exc).splitlines()[0]}") from exc


# Error codes that mean "no usable connection to the server", so trying again later may
# work: cannot connect (2002, 2003), gone or lost (2006, 2013, 2055), shutting down (1053),
# connection killed (1927), too many connections (1040). SQLAlchemy also flags the lost
# connections it recognises itself (`connection_invalidated`).
_UNREACHABLE_CODES = frozenset({1040, 1053, 1927, 2002, 2003, 2006, 2013, 2055})
_SQLITE_UNREACHABLE = ("unable to open database file", "database is locked")


def unreachable(exc: BaseException) -> DatabaseUnavailable | None:
    """`exc` as DatabaseUnavailable when it says the database cannot be used right now,
    else None (a bad statement or bad data is not an outage)."""
    if not isinstance(exc, DBAPIError):
        return None
    orig = exc.orig
    args = getattr(orig, "args", ())
    code = args[0] if args and isinstance(args[0], int) else None
    if not (exc.connection_invalidated or code in _UNREACHABLE_CODES
            or any(text in str(orig) for text in _SQLITE_UNREACHABLE)):
        return None
    detail = f"{type(orig).__name__} {code}" if code is not None else type(orig).__name__
    unavailable = DatabaseUnavailable(f"The database cannot be reached right now ({detail}); "
                                      "try again in a moment.")
    unavailable.__cause__ = exc
    return unavailable


def exact_text(bind: Engine | Connection, column: ColumnElement[Any]) -> ColumnElement[Any]:
    """A byte-exact view of a string column for comparisons across tables.

    WordPress tables use utf8mb4_unicode_520_ci and ours may differ; comparing the two
    directly raises "Illegal mix of collations" and would also treat ' +1' and '+1' alike.
    Casting to BINARY compares the stored bytes on MySQL; SQLite compares exactly anyway.
    """
    if is_mysql(bind):
        return cast(column, LargeBinary)
    return column


def like_pattern(text: str) -> str:
    """A LIKE pattern (use with escape="\\") matching `text` literally anywhere."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains_text(text: str, columns: Sequence[ColumnElement[Any]],
                  ascii_columns: Sequence[ColumnElement[Any]] = ()) -> ColumnElement[bool]:
    """`text` literally inside any of `columns` (the search boxes of the admin pages).

    `ascii_columns` (our E.164 phones, stored ASCII with a byte collation) are searched
    only for ASCII text: they cannot contain anything else, and MySQL refuses to compare
    them with non-ASCII text ("Illegal mix of collations").
    """
    pattern = like_pattern(text)
    searched = [*columns, *(ascii_columns if text.isascii() else ())]
    return or_(*(column.like(pattern, escape="\\") for column in searched))


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert `rows`, updating `update` columns where the key already exists (one statement)."""
    if not rows:
        return
    if is_mysql(conn):
        stmt = mysql_dialect.insert(table)
        stmt = stmt.on_duplicate_key_update({c: stmt.inserted[c] for c in update})
    else:
        stmt = sqlite_dialect.insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(key), set_={c: stmt.excluded[c] for c in update}
        )
    conn.execute(stmt, list(rows))


def increment(conn: Connection, table: Table, key: dict[str, Any],
              amounts: dict[str, int]) -> None:
    """Add `amounts` to a counter row, creating it if missing (one statement)."""
    row = {**key, **amounts}
    if is_mysql(conn):
        stmt = mysql_dialect.insert(table).values(row)
        stmt = stmt.on_duplicate_key_update({c: table.c[c] + stmt.inserted[c] for c in amounts})
    else:
        stmt = sqlite_dialect.insert(table).values(row)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(key), set_={c: table.c[c] + stmt.excluded[c] for c in amounts})
    conn.execute(stmt)


def insert_ignore(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """Insert rows, silently skipping those that hit a unique key. Returns rows inserted."""
    if not rows:
        return 0
    if is_mysql(conn):
        stmt = insert(table).prefix_with("IGNORE")
    else:
        stmt = sqlite_dialect.insert(table).on_conflict_do_nothing()
    return conn.execute(stmt, list(rows)).rowcount or 0


@contextlib.contextmanager
def migration_lock(engine: Engine, name: str, timeout: float = 60.0) -> Iterator[None]:
    """Serialise schema changes across processes (and machines, on MySQL).

    MySQL/MariaDB: GET_LOCK on a dedicated connection held for the whole block (a pooled
    connection would keep the lock after being returned, tech-notes §2.3). SQLite lives on
    one machine, so an flock beside the database file is enough there.
    """
    if is_mysql(engine):
        with engine.connect() as conn:
            got = conn.execute(text("SELECT GET_LOCK(:n, :t)"), {"n": name, "t": timeout}).scalar()
            if got != 1:
                raise DatabaseUnavailable(
                    f"could not take the lock {name!r} within {timeout:.0f} s "
                    "(another process is migrating?)"
                )
            try:
                yield
            finally:
                conn.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": name})
                conn.invalidate()  # never hand a lock-holding session back to the pool
        return

    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    lock_path = os.path.abspath(database) + ".migrate.lock"
    with open(lock_path, "a+") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise DatabaseUnavailable(f"could not lock {lock_path}") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def update_by_id(
    conn: Connection,
    table: Table,
    per_row: dict[int, dict[str, Any]],
    common: dict[str, Any],
    *where: ColumnElement[bool],
) -> int:
    """One UPDATE for many rows: per-row values via CASE id WHEN …, plus shared values.

    Replaces one round trip per row (PyMySQL's executemany runs UPDATEs one by one).
    Returns the number of rows the WHERE matched.
    """
    if not per_row:
        return 0
    ids = list(per_row)
    id_col = table.c.id
    values: dict[str, Any] = dict(common)
    columns = {c for row in per_row.values() for c in row}
    for column in sorted(columns):
        values[column] = case(
            {row_id: literal(row[column], type_=table.c[column].type)
             for row_id, row in per_row.items() if column in row},
            value=id_col,
            else_=table.c[column],
        )
    result = conn.execute(update(table).where(id_col.in_(ids), *where).values(values))
    return int(result.rowcount or 0)


def add_by_id(conn: Connection, table: Table, per_row: dict[int, dict[str, int]]) -> int:
    """One UPDATE adding per-row amounts to counter columns (`col + CASE id WHEN … END`),
    for counters of several rows moved in one statement. Returns the rows matched."""
    if not per_row:
        return 0
    id_col = table.c.id
    columns = sorted({c for row in per_row.values() for c in row})
    values = {column: table.c[column] + case(
        {row_id: row.get(column, 0) for row_id, row in per_row.items()},
        value=id_col, else_=0) for column in columns}
    result = conn.execute(update(table).where(id_col.in_(list(per_row))).values(values))
    return int(result.rowcount or 0)


class LeaseLock:
    """A named lock held for `ttl` seconds at a time in the `locks` table.

    Works the same on every backend and across machines: acquiring is a conditional UPDATE
    (free, expired, or already ours) or the INSERT of a missing row. A holder that dies
    simply stops renewing, and the lock is free again `ttl` seconds later.
    """

    def __init__(self, engine: Engine, table: Table, name: str, holder: str, *,
                 ttl: int = 60, clock: Any = time.time) -> None:
        self.engine, self.table, self.name, self.holder = engine, table, name, holder
        self.ttl, self.clock = ttl, clock

    def acquire(self) -> bool:
        t = self.table
        now = int(self.clock())
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(t)
                .where(t.c.name == self.name, or_(t.c.holder == self.holder, t.c.expires_at < now))
                .values(holder=self.holder, expires_at=now + self.ttl)
            ).rowcount
            if taken == 1:
                return True
            return insert_ignore(conn, t, [{"name": self.name, "holder": self.holder,
                                            "expires_at": now + self.ttl}]) == 1

    def renew(self) -> bool:
        """Extend the lease; False means it was lost (expired and taken by another)."""
        t = self.table
        with self.engine.begin() as conn:
            return conn.execute(
                update(t).where(t.c.name == self.name, t.c.holder == self.holder)
                .values(expires_at=int(self.clock()) + self.ttl)
            ).rowcount == 1

    def release(self) -> None:
        t = self.table
        with self.engine.begin() as conn:
            conn.execute(update(t).where(t.c.name == self.name, t.c.holder == self.holder)
                         .values(expires_at=0))

    def holder_now(self) -> str | None:
        t = self.table
        with self.engine.connect() as conn:
            row = conn.execute(select(t.c.holder, t.c.expires_at)
                               .where(t.c.name == self.name)).first()
        if row is None or row.expires_at < int(self.clock()):
            return None
        return str(row.holder)
