"""Shared helpers for the benchmark scripts in bench/ (benchmarks print figures; not tests).

- `open_database()`: a throwaway MariaDB (sidecar.sample_data.throwaway_mariadb) or, when
  BKNTC_SMS_BENCH_DATABASE_URL is set, a fresh database on that server.
- `generate_booknetic()`: a big, seeded, realistic single-site Booknetic data set, as rows
  (from sidecar.sample_data.bulk, like every benchmark's data).
- `load_rows()`: bulk loading with LOAD DATA LOCAL INFILE or multi-row INSERTs.
- timing, table formatting and SQL capture helpers.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import pymysql
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url

from sidecar.db import make_engine
from sidecar.sample_data.bulk import (  # noqa: F401 (re-exported for the bench scripts)
    APPOINTMENT_COLUMNS,
    CUSTOMER_COLUMNS,
    generate_booknetic,
    valid_prefixes,
)
from sidecar.sample_data.throwaway_mariadb import MariaDBServer, start_mariadb

ROOT = Path(__file__).resolve().parent.parent
ENV_URL = "BKNTC_SMS_BENCH_DATABASE_URL"

T = TypeVar("T")
Row = tuple[Any, ...]

# --------------------------------------------------------------------------- database


@dataclass
class BenchDatabase:
    server: MariaDBServer
    name: str
    url: str
    engine: Engine
    own_server: bool  # True: a throwaway mariadbd we started (and stop)

    def raw(self, *, local_infile: bool = False) -> pymysql.Connection:
        """A plain PyMySQL connection to the bench database (autocommit)."""
        s = self.server
        return pymysql.connect(host=s.host, port=s.port, user=s.user, password=s.password,
                               database=self.name, charset="utf8mb4", autocommit=True,
                               local_infile=local_infile)

    def close(self, *, keep: bool = False) -> None:
        self.engine.dispose()
        if keep:
            return
        if self.own_server:
            self.server.stop()
        else:
            self.server.drop_database(self.name)


def open_database() -> BenchDatabase:
    """A fresh database: on BKNTC_SMS_BENCH_DATABASE_URL's server, else a throwaway one."""
    given = os.environ.get(ENV_URL)
    if given:
        base = make_url(given).set(database=None).render_as_string(hide_password=False)
        server = MariaDBServer(base)
        own = False
    else:
        server = start_mariadb()  # with a private tmpdir
        own = True
    try:
        name = server.create_database("bench")
        url = server.url(name)
        return BenchDatabase(server, name, url, make_engine(url), own)
    except BaseException:
        if own:
            server.stop()
        raise


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def table_sizes(engine: Engine, like: str) -> list[tuple[str, int, float, float]]:
    """(table, rows, data MB, index MB) for tables whose name matches LIKE `like`.

    Rows are InnoDB's estimate (information_schema), which ANALYZE TABLE refreshes.
    """
    sql = text(
        "SELECT table_name, table_rows, data_length, index_length "
        "FROM information_schema.tables WHERE table_schema = DATABASE() "
        "AND table_name LIKE :like ORDER BY data_length + index_length DESC"
    )
    with engine.connect() as conn:
        return [(str(r[0]), int(r[1] or 0), (r[2] or 0) / 2**20, (r[3] or 0) / 2**20)
                for r in conn.execute(sql, {"like": like})]


@contextlib.contextmanager
def capture_sql(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Record (statement, parameters) of every statement the engine runs in the block."""
    seen: list[tuple[str, Any]] = []

    def listener(_conn: Any, _cursor: Any, statement: str, parameters: Any,
                 _context: Any, _many: bool) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


# --------------------------------------------------------------------------- timing


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """Run `fn` once; (seconds, result)."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def median_ms(fn: Callable[[], T], runs: int,
              between: Callable[[], object] | None = None) -> tuple[float, list[float], T]:
    """Median wall time of `runs` calls in ms, all times, and the last result.

    `between` runs (untimed) before every run after the first.
    """
    seconds, result = timed(fn)
    times = [seconds * 1000]
    for _ in range(max(1, runs) - 1):
        if between is not None:
            between()
        seconds, result = timed(fn)
        times.append(seconds * 1000)
    return statistics.median(times), times, result


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]],
                 align: str | None = None) -> str:
    """A plain-text table; `align` has one 'l' or 'r' per column (default: l then r...)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    align = align or "l" + "r" * (len(headers) - 1)

    def line(row: Sequence[str]) -> str:
        return " | ".join(c.ljust(w) if a == "l" else c.rjust(w)
                          for c, w, a in zip(row, widths, align, strict=True)).rstrip()

    rule = "-+-".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


# --------------------------------------------------------------------------- loading

LOAD_CHUNK = 5000


def _tsv(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    s = str(value)
    if "\\" in s or "\t" in s or "\n" in s:
        s = s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    return s


def _tsv_lines(rows: Sequence[Row], n_columns: int) -> Iterator[str]:
    """LOAD DATA lines: plain str() for the common case, escaping only when needed."""
    tabs = n_columns - 1
    for row in rows:
        line = "\t".join(["\\N" if v is None else str(v) for v in row])
        if line.count("\t") != tabs or "\n" in line or "\\" in line.replace("\\N", ""):
            line = "\t".join(map(_tsv, row))
        yield line + "\n"


def local_infile_available(db: BenchDatabase) -> bool:
    """Whether LOAD DATA LOCAL INFILE can be used (enabling it on the server if we may)."""
    try:
        with db.raw(local_infile=True) as conn, conn.cursor() as cur:
            cur.execute("SELECT @@GLOBAL.local_infile")
            row = cur.fetchone()
            if row and int(row[0]) == 1:
                return True
            cur.execute("SET GLOBAL local_infile = 1")
            return True
    except pymysql.MySQLError:
        return False


def _secondary_indexes(cur: Any, table: str) -> dict[str, tuple[bool, list[str]]]:
    """name -> (unique, column list) of every index but the primary key."""
    cur.execute(f"SHOW INDEX FROM `{table}`")
    names = [d[0] for d in cur.description]
    found: dict[str, tuple[bool, list[tuple[int, str]]]] = {}
    for raw in cur.fetchall():
        r = dict(zip(names, raw, strict=True))
        if r["Key_name"] == "PRIMARY":
            continue
        part = f"`{r['Column_name']}`" + (f"({r['Sub_part']})" if r["Sub_part"] else "")
        _unique, parts = found.setdefault(r["Key_name"], (not int(r["Non_unique"]), []))
        parts.append((int(r["Seq_in_index"]), part))
    return {k: (u, [p for _, p in sorted(parts)]) for k, (u, parts) in found.items()}


def load_rows(db: BenchDatabase, table: str, columns: Sequence[str], rows: Sequence[Row],
              method: str, *, defer_indexes: bool = False) -> float:
    """Bulk-load `rows` into `table`; returns seconds.

    `infile`: write a tab-separated file and LOAD DATA LOCAL INFILE it (one statement).
    `insert`: PyMySQL executemany of INSERT ... VALUES in chunks of LOAD_CHUNK rows (PyMySQL
    folds each chunk into multi-row INSERT statements of up to ~1 MB).
    `defer_indexes`: drop the secondary indexes first and re-create them (same names and
    columns) afterwards, which InnoDB builds by sorting instead of row by row.
    """
    start = time.perf_counter()
    if defer_indexes:
        with db.raw() as conn, conn.cursor() as cur:
            indexes = _secondary_indexes(cur, table)
            if indexes:
                cur.execute(f"ALTER TABLE `{table}` " + ", ".join(
                    f"DROP INDEX `{name}`" for name in indexes))
        _load(db, table, columns, rows, method)
        if indexes:
            with db.raw() as conn, conn.cursor() as cur:
                cur.execute(f"ALTER TABLE `{table}` " + ", ".join(
                    f"ADD {'UNIQUE ' if unique else ''}INDEX `{name}` ({', '.join(cols)})"
                    for name, (unique, cols) in indexes.items()))
    else:
        _load(db, table, columns, rows, method)
    return time.perf_counter() - start


def _load(db: BenchDatabase, table: str, columns: Sequence[str], rows: Sequence[Row],
          method: str) -> None:
    cols = ", ".join(f"`{c}`" for c in columns)
    if method == "infile":
        fd, path = tempfile.mkstemp(prefix=f"bench-{table}-", suffix=".tsv")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
                out.writelines(_tsv_lines(rows, len(columns)))
            with db.raw(local_infile=True) as conn, conn.cursor() as cur:
                cur.execute("SET SESSION unique_checks = 0")
                cur.execute(
                    f"LOAD DATA LOCAL INFILE %s INTO TABLE `{table}` CHARACTER SET utf8mb4 "
                    f"FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' "
                    f"({cols})", (path,))
                loaded = cur.rowcount
                cur.execute("SHOW WARNINGS")
                warnings = cur.fetchall()
            if loaded != len(rows) or warnings:
                raise RuntimeError(f"LOAD DATA into {table}: {loaded} of {len(rows)} rows, "
                                   f"warnings: {list(warnings)[:5]}")
        finally:
            os.unlink(path)
    elif method == "insert":
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO `{table}` ({cols}) VALUES ({marks})"
        with db.raw() as conn, conn.cursor() as cur:
            conn.begin()
            for i in range(0, len(rows), LOAD_CHUNK):
                cur.executemany(sql, rows[i:i + LOAD_CHUNK])
            conn.commit()
    else:
        raise ValueError(f"unknown load method {method!r}")


def dict_rows(rows: Sequence[dict[str, Any]]) -> tuple[list[str], list[Row]]:
    columns = list(rows[0])
    return columns, [tuple(r[c] for c in columns) for r in rows]


def digest(rows: Sequence[Row]) -> str:
    """A short fingerprint of generated rows (shows the seed gives the same data)."""
    h = hashlib.sha1()
    for row in rows[:: max(1, len(rows) // 1000)]:
        h.update(repr(row).encode())
    return h.hexdigest()[:12]
