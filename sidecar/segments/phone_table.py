"""Our normalised-phone table, kept in step with Booknetic's raw phone numbers.

Phone normalisation (`phonenumbers`) cannot run in SQL, so `bkntc_sms_phones` holds one
row per Booknetic customer and default region: the raw `phone_number` we parsed, its E.164
form (NULL when missing or invalid) and the customer's tenant. Segments join it on the
tenant's current region (sidecar/phone_region.py) instead of parsing, which lets validity,
"one recipient per phone" and suppression all run in the database.
"""

from __future__ import annotations

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
        or moved to another tenant), which are removed by id. Every check, by any process,
        leaves its start time in the meta table (`checked_at`); with `max_age`, a check
        started less than `max_age` s ago is trusted instead.
        """
        key, rkey = tenant_key(tenant_id), region_key(region)
        if max_age is not None:
            last = self.checked_at(tenant_id, region)
            if last is not None and self.clock() - last < max_age:
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
        now = int(self.clock())  # the stamp: everything Booknetic held by then is in
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
        with engine.begin() as conn:
            upsert(conn, self.tables.meta, [{"name": _stamp_name(key, rkey),
                                             "value": str(now), "updated_at": now}],
                   key=["name"], update=["value", "updated_at"])
        return len(changed) + len(removed)

    def checked_at(self, tenant_id: int | None, region: str | None) -> int | None:
        """When the last phone check of the tenant for `region` started (epoch seconds),
        by any process; None if none ever ran. Segment statements see Booknetic's phones
        as they were then."""
        meta = self.tables.meta
        with self.bk.engine.connect() as conn:
            value = conn.execute(select(meta.c.value).where(
                meta.c.name == _stamp_name(tenant_key(tenant_id), region_key(region)))
            ).scalar()
        return None if value is None else int(value)


def _stamp_name(key: int, rkey: str) -> str:
    # One meta row per tenant and region: "phones-checked:<tenant>:<region>" (< 64 chars).
    return f"phones-checked:{key}:{rkey}"
