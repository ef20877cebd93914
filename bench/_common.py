"""Shared helpers for the benchmark scripts in bench/ (benchmarks print figures; not tests).

- `open_database()`: a throwaway MariaDB (sidecar.sample_data.throwaway_mariadb) or, when
  BKNTC_SMS_BENCH_DATABASE_URL is set, a fresh database on that server.
- `generate_booknetic()`: a big, seeded, realistic single-site Booknetic data set, as rows.
- `load_rows()`: bulk loading with LOAD DATA LOCAL INFILE or multi-row INSERTs.
- timing, table formatting and SQL capture helpers.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import pymysql
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url

from sidecar.db import make_engine
from sidecar.phones import normalise_phone
from sidecar.sample_data.throwaway_mariadb import MariaDBServer, start_mariadb

ROOT = Path(__file__).resolve().parent.parent
DAY = 86400
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


# --------------------------------------------------------------------------- data set

# Real-looking US area codes; exchanges 200-999 except 555 (and whatever libphonenumber
# rejects, e.g. N11), so the numbers are valid and there are millions of distinct ones.
AREAS = ("202", "212", "312", "415", "617", "713", "305", "206")
GARBAGE = ("n/a", "123", "call me", "0000000", "555-0147", "+1 555", "-", "tbd", "none")
FIRST = ("Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella",
         "Lucas", "Mia", "Mateo", "Amelia", "Benjamin", "Harper", "Zoë", "José", "Łukasz",
         "Aisha", "Chen", "Fatima", "Oliver", "Nora", "Hiro", "Ingrid", "Priya", "Omar",
         "Sofía", "Yusuf", "Grace", "Ethan", "Chloe", "Daniel", "Layla", "Samuel", "Ella")
LAST = ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
        "Rodriguez", "Martinez", "Hernández", "Lopez", "Wilson", "Anderson", "Thomas",
        "Taylor", "Moore", "Jackson", "Martin", "Lee", "Nguyễn", "O'Brien", "Kowalski",
        "Müller", "Rossi", "Kim", "Patel", "Haddad", "Sato", "Ivanova", "Clark", "Lewis")
SERVICES = (("Haircut", 45, "35.00"), ("Colouring", 90, "80.00"), ("Beard trim", 30, "20.00"),
            ("Massage", 60, "70.00"), ("Facial", 45, "55.00"), ("Manicure", 30, "25.00"),
            ("Pedicure", 45, "30.00"), ("Consultation", 30, "0.00"),
            ("Physiotherapy", 60, "75.00"), ("Yoga class", 60, "15.00"))
SERVICE_POPULARITY = (30, 10, 12, 14, 8, 9, 5, 4, 5, 3)
LOCATIONS = ("Downtown", "Riverside", "North branch")
LOCATION_POPULARITY = (55, 30, 15)
TIMEZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles", "UTC")

# Visits per customer: (weight, low, high) — many 1-2, a long tail of regulars.
VISIT_BUCKETS = ((5, 0, 0), (30, 1, 1), (18, 2, 2), (17, 3, 5), (13, 6, 10), (9, 11, 25),
                 (6, 26, 60), (2, 61, 150))
PAST_STATUSES = (("approved", 905), ("canceled", 40), ("rejected", 10), ("no_show", 20),
                 ("pending", 15), ("waiting_payment", 10))
FUTURE_STATUSES = (("approved", 560), ("pending", 360), ("canceled", 60), ("rejected", 10),
                   ("waiting_payment", 10))

CUSTOMER_COLUMNS = ("id", "user_id", "first_name", "last_name", "phone_number", "email",
                    "birthdate", "gender", "notes", "created_by", "created_at", "tenant_id")
APPOINTMENT_COLUMNS = ("id", "location_id", "service_id", "staff_id", "customer_id", "status",
                       "starts_at", "ends_at", "busy_from", "busy_to", "weight", "payment_id",
                       "recurring_id", "payment_method", "payment_status", "paid_amount",
                       "note", "locale", "client_timezone", "created_at", "tenant_id")


@dataclass
class Generated:
    """Rows ready for loading (tuples in the *_COLUMNS order), plus what was generated."""

    customers: list[Row]
    appointments: list[Row]
    services: list[dict[str, Any]]
    locations: list[dict[str, Any]]
    staff: list[dict[str, Any]]
    options: list[dict[str, Any]]
    suppressions: list[dict[str, Any]]
    stats: dict[str, Any] = field(default_factory=dict)


def valid_prefixes() -> list[str]:
    """Area+exchange prefixes (6 digits) whose numbers libphonenumber accepts."""
    found = []
    for area in AREAS:
        for exchange in range(200, 1000):
            if exchange == 555:
                continue
            prefix = f"{area}{exchange}"
            if all(normalise_phone(f"+1{prefix}{line}") == f"+1{prefix}{line}"
                   for line in ("0000", "5309", "9999")):
                found.append(prefix)
    return found


def render_phone(digits: str, style: str) -> str:
    """A 10-digit US number written the way a Booknetic user might (all parse without a
    default region, which is how the benchmark's SegmentService is configured)."""
    a, e, line = digits[:3], digits[3:6], digits[6:]
    if style == "e164":
        return f"+1{digits}"
    if style == "noplus":
        return f"1{digits}"
    if style == "spaced":
        return f"+1 ({a}) {e}-{line}"
    if style == "dashed":
        return f"+1 {a}-{e}-{line}"
    if style == "padded":
        return f" +1 {a} {e} {line} "
    raise ValueError(style)


PHONE_STYLES = (("e164", 72), ("noplus", 8), ("spaced", 10), ("dashed", 7), ("padded", 3))


def _weighted(pairs: Sequence[tuple[T, int]]) -> tuple[list[T], list[int]]:
    values, weights = zip(*pairs, strict=True)
    cum, total = [], 0
    for w in weights:
        total += w
        cum.append(total)
    return list(values), cum


def _expand(pairs: Sequence[tuple[T, int]]) -> tuple[T, ...]:
    """Each value repeated by its weight: `table[int(random() * len(table))]` picks one."""
    return tuple(v for v, w in pairs for _ in range(w))


def generate_booknetic(n_customers: int, n_appointments: int, now: int,
                       seed: int = 20240901) -> Generated:
    """A seeded single-site Booknetic data set (tenant_id NULL everywhere).

    Customers: ~3 % bad phones (empty, NULL, garbage), ~2 % another customer's number
    written differently, the rest distinct valid US numbers in assorted formats.
    Appointments over 3 years, ~10 % in the next 90 days; a skewed number of visits per
    customer; ~5 % canceled/rejected, a little no_show; ids follow creation time.
    """
    rng = random.Random(seed)
    stats: dict[str, Any] = {}

    # -- business
    services = [{"id": i, "name": name, "category_id": 0, "price": price, "duration": minutes,
                 "color": f"#{rng.randrange(0x1000000):06x}", "is_active": 1, "is_visible": 1,
                 "tenant_id": None}
                for i, (name, minutes, price) in enumerate(SERVICES, start=1)]
    locations = [{"id": i, "name": name, "address": f"{rng.randint(1, 999)} {name} Street",
                  "phone_number": f"+1202555{i:04d}", "is_active": 1, "tenant_id": None}
                 for i, name in enumerate(LOCATIONS, start=1)]
    staff = []
    staff_at: dict[int, list[int]] = {loc["id"]: [] for loc in locations}
    for sid in range(1, 9):
        loc = locations[(sid - 1) % len(locations)]["id"]
        staff_at[loc].append(sid)
        staff.append({"id": sid, "user_id": None,
                      "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                      "email": f"staff{sid}@example.com", "phone_number": f"+1312555{sid:04d}",
                      "locations": str(loc), "is_active": 1, "profession": None,
                      "tenant_id": None})
    options = [{"option_id": i, "option_name": k, "option_value": v, "autoload": "yes"}
               for i, (k, v) in enumerate({
                   "siteurl": "http://bench.test", "home": "http://bench.test",
                   "blogname": "Bench", "timezone_string": "UTC",
                   "active_plugins": 'a:1:{i:0;s:18:"booknetic/init.php";}',
                   "bkntc_plugin_version": "4.4.1"}.items(), start=1)]

    # -- phones
    prefixes = valid_prefixes()
    stats["valid_prefixes"] = len(prefixes)
    styles, style_cum = _weighted(PHONE_STYLES)
    used: set[str] = set()

    def fresh_digits() -> str:
        while True:
            d = rng.choice(prefixes) + f"{rng.randrange(10000):04d}"
            if d not in used:
                used.add(d)
                return d

    # -- customers
    customers: list[Row] = []
    customer_digits: dict[int, str] = {}  # customer id -> digits of a valid, own number
    valid_list: list[str] = []
    kinds = {"valid": 0, "dup": 0, "empty": 0, "null": 0, "garbage": 0}
    next_id = 0
    start_dt = now - 3 * 365 * DAY
    for _ in range(n_customers):
        next_id += 1 + (rng.random() < 0.01)  # ~1 % gaps: deleted customers
        r = rng.random()
        phone: str | None
        if r < 0.01:
            phone, kind = "", "empty"
        elif r < 0.02:
            phone, kind = None, "null"
        elif r < 0.03:
            phone, kind = rng.choice(GARBAGE), "garbage"
        elif r < 0.05 and valid_list:
            d = rng.choice(valid_list)
            phone, kind = render_phone(d, rng.choice(("noplus", "spaced", "dashed"))), "dup"
        else:
            d = fresh_digits()
            valid_list.append(d)
            customer_digits[next_id] = d
            phone = render_phone(d, rng.choices(styles, cum_weights=style_cum)[0])
            kind = "valid"
        kinds[kind] += 1
        first, last = rng.choice(FIRST), rng.choice(LAST)
        created = datetime.fromtimestamp(start_dt + rng.randrange(3 * 365 * DAY), UTC)
        customers.append((
            next_id, None, first, last if rng.random() > 0.03 else "", phone,
            None if rng.random() < 0.2 else f"{first}.{last}{rng.randint(1, 999)}@example.com"
            .lower(),
            None if rng.random() < 0.6 else date(rng.randint(1950, 2005), rng.randint(1, 12),
                                                  rng.randint(1, 28)),
            rng.choice((None, "male", "female", "")), None, 1,
            created.replace(tzinfo=None), None,
        ))
    stats["phone_kinds"] = kinds

    # A sample of rendered numbers must mean what the generator thinks they mean.
    for cid in rng.sample(sorted(customer_digits), min(2000, len(customer_digits))):
        d = customer_digits[cid]
        for style in styles:
            got = normalise_phone(render_phone(d, style))
            if got != f"+1{d}":
                raise AssertionError(f"generated phone {render_phone(d, style)!r} parses as "
                                     f"{got!r}, expected +1{d}")
    for junk in GARBAGE:
        if normalise_phone(junk) is not None:
            raise AssertionError(f"garbage phone {junk!r} parses as valid")

    # -- visits per customer
    bucket_values, bucket_cum = _weighted([((lo, hi), w) for w, lo, hi in VISIT_BUCKETS])
    counts = []
    for _ in customers:
        lo, hi = rng.choices(bucket_values, cum_weights=bucket_cum)[0]
        counts.append(rng.randint(lo, hi))
    diff = n_appointments - sum(counts)
    regulars = [i for i, k in enumerate(counts) if k >= 3] or list(range(len(counts)))
    if diff > 0:  # spread the rest over regulars, proportionally to their visits
        for i in rng.choices(regulars, weights=[counts[i] + 1 for i in regulars], k=diff):
            counts[i] += 1
    while diff < 0:
        i = rng.choice(regulars)
        if counts[i] > (3 if len(regulars) < len(counts) else 0):
            counts[i] -= 1
            diff += 1
        elif all(counts[j] <= 3 for j in regulars):
            regulars = [j for j, k in enumerate(counts) if k > 0]
    stats["visits_0"] = sum(1 for k in counts if k == 0)
    stats["visits_1"] = sum(1 for k in counts if k == 1)
    stats["visits_2"] = sum(1 for k in counts if k == 2)
    stats["visits_10plus"] = sum(1 for k in counts if k >= 10)
    stats["visits_max"] = max(counts, default=0)

    # -- appointments (hot loop: weighted picks are lookups into pre-expanded tuples)
    past_pick = _expand(PAST_STATUSES)
    fut_pick = _expand(FUTURE_STATUSES)
    service_ids = [s["id"] for s in services]
    durations = {s["id"]: s["duration"] * 60 for s in services}
    prices = {s["id"]: s["price"] for s in services}
    svc_pick = _expand(list(zip(service_ids, SERVICE_POPULARITY, strict=True)))
    loc_ids = [loc["id"] for loc in locations]
    loc_pick = _expand(list(zip(loc_ids, LOCATION_POPULARITY, strict=True)))
    n_past, n_fut, n_svc, n_loc = len(past_pick), len(fut_pick), len(svc_pick), len(loc_pick)
    horizon = 3 * 365 * DAY
    first_slot = now - now % 900 + 900
    future_slots = (now + 90 * DAY - first_slot) // 900 + 1
    raw: list[tuple[int, int, int, int, str, int]] = []
    future = 0
    rnd = rng.random
    for (cid, *_rest), k in zip(customers, counts, strict=True):
        if not k:
            continue
        # Active customers still come (and have bookings ahead); the others stopped at
        # some point. Regulars are more likely to be active.
        active = rnd() < (0.25 if k <= 2 else 0.55)
        first_at = now - (30 * DAY if active else DAY) - int(rnd() * horizon)
        last_at = now if active else first_at + int((now - first_at) * rnd())
        span = last_at - first_at
        fav_service = svc_pick[int(rnd() * n_svc)]
        fav_loc = loc_pick[int(rnd() * n_loc)]
        p_future = 0.10 if k == 1 else 0.20 if active else 0.0
        for _ in range(k):
            if rnd() < p_future:  # on the 15-minute grid, in (now, now + 90 days]
                starts = first_slot + 900 * int(rnd() * future_slots)
                status = fut_pick[int(rnd() * n_fut)]
                future += 1
            else:
                starts = first_at + int(rnd() * span)
                starts -= starts % 900
                status = past_pick[int(rnd() * n_past)]
            svc = fav_service if rnd() < 0.7 else svc_pick[int(rnd() * n_svc)]
            loc = fav_loc if rnd() < 0.85 else loc_pick[int(rnd() * n_loc)]
            created = min(starts - 3600 - int(rnd() * 21 * DAY), now - 60)
            raw.append((created, cid, svc, loc, status, starts))
    # A handful of orphans: appointments of customers deleted since.
    for _ in range(max(1, len(raw) // 20000)):
        ghost = customers[-1][0] + 1000 + rng.randrange(1000)
        starts = now - rng.randrange(horizon)
        starts -= starts % 900
        raw.append((starts - DAY, ghost, service_ids[0], loc_ids[0], "approved", starts))
    raw.sort()

    appointments: list[Row] = []
    methods = ("local", "local", "local", "stripe", "paypal")
    notes = (None, None, None, None, "", "First visit", "Parking at the back")
    locales = ("en_US", "en_US", "en_GB", "es_ES")
    for appt_id, (created, cid, svc, loc, status, starts) in enumerate(raw, start=1):
        ends = starts + durations[svc]
        buffer = 600 if rnd() < 0.2 else 0
        paid = (status not in ("canceled", "rejected") and starts <= now and rnd() < 0.8)
        appointments.append((
            appt_id, loc, svc, staff_at[loc][appt_id % len(staff_at[loc])], cid, status,
            starts, ends, starts - buffer, ends + buffer, 1,
            f"{rng.getrandbits(128):032x}", None, methods[appt_id % 5],
            "paid" if paid else "pending", prices[svc] if paid else "0.00",
            notes[appt_id % 7], locales[appt_id % 4], TIMEZONES[cid % 4], created, None,
        ))
    stats["future"] = future
    stats["canceled_rejected"] = sum(1 for a in appointments if a[5] in ("canceled", "rejected"))
    stats["no_show"] = sum(1 for a in appointments if a[5] == "no_show")

    # -- suppressions: ~90 % numbers of customers, the rest numbers nobody has
    n_supp = max(1, n_customers // 100)
    suppressed = {f"+1{d}" for d in rng.sample(valid_list, min(len(valid_list),
                                                               n_supp * 9 // 10))}
    while len(suppressed) < n_supp:
        suppressed.add(f"+1{fresh_digits()}")
    reasons = (("STOP reply", "stop"), ("asked by phone", "manual"), ("complaint", "manual"))
    suppressions = []
    for phone in sorted(suppressed):
        reason, source = rng.choice(reasons)
        suppressions.append({"tenant_id": 0, "phone": phone, "reason": reason,
                             "source": source, "created_by": 1,
                             "created_at": now - rng.randrange(400 * DAY)})

    return Generated(customers, appointments, services, locations, staff, options,
                     suppressions, stats)


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
