"""Our normalised-phone table, kept in step with Booknetic's raw phone numbers.

Phone normalisation (`phonenumbers`) cannot run in SQL, so `bkntc_sms_phones` holds one
row per Booknetic customer and default region: the raw `phone_number` we parsed, its E.164
form (NULL when missing or invalid) and the customer's tenant. Segments join it on the
tenant's current region (sidecar/phone_region.py) instead of parsing, which lets validity,
"one recipient per phone" and suppression all run in the database.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import and_, case, delete, exists, func, literal, not_, null, select, union_all

from ..booknetic import Booknetic
from ..db import exact_text, upsert
from ..phones import normalise_phone
from ..schema import SmsTables
from .definitions import region_key, tenant_key

PHONE_REFRESH_CHUNK = 1000


class PhoneTable:
    """Keeps `bkntc_sms_phones` in step with `bkntc_customers`, one tenant and default
    region at a time.

    Rows are keyed by (tenant, region, customer): a refresh for one region reads and
    writes only that region's rows, so processes configured with different regions never
    undo each other's work (each parses the tenant's numbers once for its own region).
    """

    def __init__(self, booknetic: Booknetic, tables: SmsTables, *,
                 clock: Callable[[], float]) -> None:
        self.bk = booknetic
        self.tables = tables
        self.clock = clock
        # (tenant key, region) -> monotonic time of the last check
        self._refreshed: dict[tuple[int, str], float] = {}
        self._refresh_lock = threading.Lock()

    def refresh(self, tenant_id: int | None, region: str | None, *,
                max_age: float | None = None) -> int:
        """Bring the tenant's phones parsed with `region` up to date; returns how many rows
        changed.

        The usual answer is "nothing changed", and one aggregate says so: every row of
        the tenant and region belongs to a customer of the tenant whose raw phone is
        byte-for-byte what we parsed, and there are as many rows as customers. It reads
        our rows in primary-key order and looks each customer up by id — as cheap as
        the check was before rows carried a region. Otherwise one statement lists both
        kinds of difference: customers with no row or whose raw phone changed (only
        those are parsed and upserted) and rows of customers that are gone (deleted,
        or moved to another tenant), which are removed by id. With `max_age`, a check of
        the same tenant and region done in this process less than `max_age` s ago is
        trusted instead.
        """
        key, rkey = tenant_key(tenant_id), region_key(region)
        if max_age is not None and not self.check_due(key, rkey, max_age):
            return 0
        customers, phones = self.bk.customers, self.tables.phones
        engine = self.bk.engine
        raw_now = exact_text(engine, customers.c.phone_number)
        raw_then = exact_text(engine, phones.c.raw_phone)
        of_tenant = self.bk.tenant_clause(customers, tenant_id)
        ours = and_(phones.c.tenant_id == key, phones.c.region == rkey)
        same_raw = raw_then.is_not_distinct_from(raw_now)
        # Written as "matches" so that a NULL anywhere (no customer, a NULL tenant) counts
        # as a mismatch rather than vanishing from the sum.
        matches = and_(customers.c.id.is_not(None), of_tenant, same_raw)
        in_step = select(
            func.count().label("rows"),
            func.coalesce(func.sum(case((matches, 0), else_=1)), 0).label("stale"),
            select(func.count()).select_from(customers).where(of_tenant)
            .correlate(None).scalar_subquery().label("customers"),
        ).select_from(
            phones.outerjoin(customers, customers.c.id == phones.c.customer_id)
        ).where(ours)
        joined = customers.outerjoin(
            phones, and_(phones.c.customer_id == customers.c.id, ours))
        stale = (
            select(customers.c.id.label("customer_id"),
                   customers.c.phone_number.label("raw_phone"), literal(0).label("gone"))
            .select_from(joined)
            .where(of_tenant, phones.c.customer_id.is_(None) | not_(same_raw))
        )
        gone = select(phones.c.customer_id, null(), literal(1)).where(
            ours, ~exists().where(customers.c.id == phones.c.customer_id, of_tenant),
        )
        started = time.monotonic()
        now = int(self.clock())
        with engine.connect() as conn:
            counts = conn.execute(in_step).one()
            if counts.stale == 0 and counts.rows == counts.customers:
                rows = []
            else:
                rows = conn.execute(union_all(stale, gone)).all()
        changed = [r for r in rows if not r.gone]
        removed = [int(r.customer_id) for r in rows if r.gone]
        for start in range(0, len(changed), PHONE_REFRESH_CHUNK):
            chunk = [
                {
                    "customer_id": int(r.customer_id),
                    "region": rkey,
                    "tenant_id": key,
                    "raw_phone": None if r.raw_phone is None else str(r.raw_phone)[:255],
                    "e164": normalise_phone(
                        None if r.raw_phone is None else str(r.raw_phone), region),
                    "checked_at": now,
                }
                for r in changed[start : start + PHONE_REFRESH_CHUNK]
            ]
            with engine.begin() as conn:
                upsert(conn, phones, chunk, key=["tenant_id", "region", "customer_id"],
                       update=["raw_phone", "e164", "checked_at"])
        for start in range(0, len(removed), PHONE_REFRESH_CHUNK):
            with engine.begin() as conn:
                conn.execute(delete(phones).where(
                    ours, phones.c.customer_id.in_(removed[start : start + PHONE_REFRESH_CHUNK])))
        with self._refresh_lock:
            self._refreshed[(key, rkey)] = started
        return len(changed) + len(removed)

    def check_due(self, key: int, rkey: str, max_age: float) -> bool:
        """False when this process checked the tenant's phones for the region less than
        `max_age` s ago."""
        with self._refresh_lock:
            last = self._refreshed.get((key, rkey))
        return last is None or time.monotonic() - last >= max_age
