"""Audience segments (DESIGN.md §3): definitions, filters, and their SQL.

A segment plus its filters compiles to ONE SQL statement that the database runs: the
appointment condition is a GROUP BY over the tenant's appointments, phone validity and
"one recipient per phone, lowest customer id" come from our normalised-phone table, and the
suppression exclusion is a join. Nothing loads customers into Python to filter them.

Phone normalisation cannot run in SQL, so `refresh_phones()` keeps `bkntc_sms_phones` in
step with Booknetic's raw `phone_number`: one set-based comparison finds the customers
whose raw phone is new or changed, and only those are parsed again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import (
    Insert,
    Select,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    not_,
    null,
    select,
    true,
    union_all,
)

from .booknetic import Booknetic
from .db import exact_text, upsert
from .phones import normalise_phone
from .schema import SmsTables

DAY = 86400
PHONE_REFRESH_CHUNK = 1000


@dataclass(frozen=True)
class SegmentDef:
    key: str
    label: str
    description: str
    kind: str  # past_window | future_window | exactly | at_least | inactive | canceled | all
    days: int = 0
    count: int = 0


SEGMENTS: dict[str, SegmentDef] = {
    d.key: d
    for d in (
        SegmentDef("booked_last_7", "Booked in the last 7 days",
                   "Customers with an appointment in the last 7 days.", "past_window", days=7),
        SegmentDef("booked_last_30", "Booked in the last 30 days",
                   "Customers with an appointment in the last 30 days.", "past_window",
                   days=30),
        SegmentDef("booked_last_90", "Booked in the last 90 days",
                   "Customers with an appointment in the last 90 days.", "past_window",
                   days=90),
        SegmentDef("upcoming_next_7", "Upcoming in the next 7 days",
                   "Customers with an appointment in the next 7 days.", "future_window",
                   days=7),
        SegmentDef("upcoming_next_30", "Upcoming in the next 30 days",
                   "Customers with an appointment in the next 30 days.", "future_window",
                   days=30),
        SegmentDef("first_time", "First-time customers",
                   "Customers with exactly one appointment.", "exactly", count=1),
        SegmentDef("repeat", "Repeat customers",
                   "Customers with three or more appointments.", "at_least", count=3),
        SegmentDef("inactive_90", "Inactive for 90 days",
                   "Customers who have visited, but not in the last 90 days and with nothing "
                   "booked since.", "inactive", days=90),
        SegmentDef("inactive_180", "Inactive for 180 days",
                   "Customers who have visited, but not in the last 180 days and with nothing "
                   "booked since.", "inactive", days=180),
        SegmentDef("canceled_recent", "Recently canceled",
                   "Customers with a canceled or rejected appointment in the last 30 days.",
                   "canceled", days=30),
        SegmentDef("all_with_phone", "All customers with a phone",
                   "Every customer with a valid phone number.", "all"),
    )
}


class SegmentError(ValueError):
    """Invalid segment or filters; `errors` maps each field to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass(frozen=True)
class SegmentQuery:
    """A segment with its filters, for one tenant."""

    segment: str
    tenant_id: int | None = None
    service_ids: tuple[int, ...] = ()
    location_ids: tuple[int, ...] = ()
    statuses: tuple[str, ...] = ()
    min_appointments: int | None = None
    exclude_suppressed: bool = True

    def __post_init__(self) -> None:
        errors: dict[str, str] = {}
        if self.segment not in SEGMENTS:
            errors["segment"] = (
                f"unknown segment {self.segment!r}; choose one of {', '.join(SEGMENTS)}"
            )
        if any(not isinstance(i, int) or isinstance(i, bool) or i <= 0
               for i in self.service_ids):
            errors["service_ids"] = "service ids must be positive whole numbers"
        if any(not isinstance(i, int) or isinstance(i, bool) or i <= 0
               for i in self.location_ids):
            errors["location_ids"] = "location ids must be positive whole numbers"
        if any(not isinstance(s, str) or not s.strip() or len(s) > 50 for s in self.statuses):
            errors["statuses"] = "statuses must be non-empty text of at most 50 characters"
        if self.min_appointments is not None and (
            not isinstance(self.min_appointments, int) or isinstance(self.min_appointments, bool)
            or not 0 <= self.min_appointments <= 100000
        ):
            errors["min_appointments"] = "minimum appointments must be a whole number ≥ 0"
        if errors:
            raise SegmentError(errors)

    @property
    def definition(self) -> SegmentDef:
        return SEGMENTS[self.segment]

    @property
    def has_appointment_filters(self) -> bool:
        return bool(self.service_ids or self.location_ids or self.statuses)

    def filters(self) -> dict[str, Any]:
        """The filters as stored with a campaign (JSON-able)."""
        return {
            "service_ids": list(self.service_ids),
            "location_ids": list(self.location_ids),
            "statuses": list(self.statuses),
            "min_appointments": self.min_appointments,
            "exclude_suppressed": self.exclude_suppressed,
        }

    @classmethod
    def from_filters(cls, segment: str, filters: Mapping[str, Any],
                     tenant_id: int | None) -> SegmentQuery:
        """Build from untrusted input (JSON body, stored campaign); raises SegmentError."""
        if not isinstance(filters, Mapping):
            raise SegmentError({"filters": "filters must be an object"})
        errors: dict[str, str] = {}

        def ids(name: str) -> tuple[int, ...]:
            raw = filters.get(name) or []
            if not isinstance(raw, list | tuple):
                errors[name] = "must be a list of ids"
                return ()
            try:
                return tuple(sorted({_as_int(v) for v in raw}))
            except ValueError:
                errors[name] = "must be a list of positive whole numbers"
                return ()

        service_ids, location_ids = ids("service_ids"), ids("location_ids")
        raw_statuses = filters.get("statuses") or []
        statuses: tuple[str, ...] = ()
        if not isinstance(raw_statuses, list | tuple) or not all(
            isinstance(s, str) for s in raw_statuses
        ):
            errors["statuses"] = "must be a list of status names"
        else:
            statuses = tuple(sorted({s.strip() for s in raw_statuses if s.strip()}))
        minimum = filters.get("min_appointments")
        if minimum in ("", None):
            minimum = None
        else:
            try:
                minimum = _as_int(minimum, allow_zero=True)
            except ValueError:
                errors["min_appointments"] = "must be a whole number ≥ 0"
                minimum = None
        exclude = filters.get("exclude_suppressed", True)
        if not isinstance(exclude, bool):
            errors["exclude_suppressed"] = "must be true or false"
            exclude = True
        if not isinstance(segment, str) or segment not in SEGMENTS:
            errors["segment"] = f"unknown segment {segment!r}; choose one of {', '.join(SEGMENTS)}"
        if errors:
            raise SegmentError(errors)
        return cls(segment, tenant_id, service_ids, location_ids, statuses, minimum, exclude)


def _as_int(value: Any, *, allow_zero: bool = False) -> int:
    if isinstance(value, bool):
        raise ValueError("boolean")
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit():
            raise ValueError(value)
    number = int(value)
    if number != value and not isinstance(value, str):
        raise ValueError(value)
    if number < (0 if allow_zero else 1):
        raise ValueError(value)
    return number


@dataclass
class Preview:
    segment: str
    count: int
    sample: list[dict[str, Any]] = field(default_factory=list)
    skipped_invalid_phone: int = 0
    skipped_duplicate_phone: int = 0
    skipped_suppressed: int = 0

    @property
    def members(self) -> int:
        """Customers matching the condition, before phone checks."""
        return (self.count + self.skipped_invalid_phone + self.skipped_duplicate_phone
                + self.skipped_suppressed)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def tenant_key(tenant_id: int | None) -> int:
    """Our tables store Booknetic's NULL tenant as 0 (see schema.py)."""
    return tenant_id or 0


class SegmentService:
    """Compiles segments to SQL and runs previews for one WordPress database."""

    # A preview re-checks phones at most this often per tenant (the check scans the
    # tenant's customers); a campaign snapshot always re-checks.
    PREVIEW_REFRESH_SECONDS = 30.0

    def __init__(self, booknetic: Booknetic, tables: SmsTables, *,
                 default_region: str | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.bk = booknetic
        self.tables = tables
        self.default_region = default_region
        self.clock = clock
        self._region_checked = False
        self._refreshed: dict[int, float] = {}  # tenant key -> monotonic time of last check
        self._refresh_lock = threading.Lock()

    # -- phones -------------------------------------------------------------------------

    def refresh_phones(self, tenant_id: int | None, *, max_age: float | None = None) -> int:
        """Bring the tenant's normalised phones up to date; returns how many rows changed.

        One statement finds both kinds of difference with Booknetic: customers with no
        phone row (or one filed under another tenant) or whose raw phone differs
        byte-for-byte from what we parsed last time — only those are parsed and upserted —
        and rows of customers that are gone (deleted, or moved to another tenant), which
        are removed by id. With `max_age`, a check done in this process less than
        `max_age` seconds ago is trusted instead.
        """
        key = tenant_key(tenant_id)
        if max_age is not None and not self._check_due(key, max_age):
            return 0
        self._check_region()
        customers, phones = self.bk.customers, self.tables.phones
        engine = self.bk.engine
        raw_now = exact_text(engine, customers.c.phone_number)
        raw_then = exact_text(engine, phones.c.raw_phone)
        joined = customers.outerjoin(phones, phones.c.customer_id == customers.c.id)
        of_tenant = self.bk.tenant_clause(customers, tenant_id)
        is_stale = (phones.c.customer_id.is_(None) | (phones.c.tenant_id != key)
                    | not_(raw_then.is_not_distinct_from(raw_now)))
        # The usual answer is "nothing changed", and one aggregate says so about half as
        # fast as listing the differences: no stale customer, and every row filed under
        # the tenant belongs to one of its customers (rows == filed).
        ours = phones.alias("ours")
        in_step = select(
            func.coalesce(func.sum(case((is_stale, 1), else_=0)), 0).label("stale"),
            func.coalesce(func.sum(case((phones.c.tenant_id == key, 1), else_=0)), 0)
            .label("filed"),
            select(func.count()).select_from(ours).where(ours.c.tenant_id == key)
            .scalar_subquery().label("rows"),
        ).select_from(joined).where(of_tenant)
        stale = (
            select(customers.c.id.label("customer_id"),
                   customers.c.phone_number.label("raw_phone"), literal(0).label("gone"))
            .select_from(joined)
            .where(of_tenant, is_stale)
        )
        gone = select(phones.c.customer_id, null(), literal(1)).where(
            phones.c.tenant_id == key,
            ~exists().where(customers.c.id == phones.c.customer_id, of_tenant),
        )
        started = time.monotonic()
        now = int(self.clock())
        with engine.connect() as conn:
            counts = conn.execute(in_step).one()
            if counts.stale == 0 and counts.rows == counts.filed:
                rows = []
            else:
                rows = conn.execute(union_all(stale, gone)).all()
        changed = [r for r in rows if not r.gone]
        removed = [int(r.customer_id) for r in rows if r.gone]
        for start in range(0, len(changed), PHONE_REFRESH_CHUNK):
            chunk = [
                {
                    "customer_id": int(r.customer_id),
                    "tenant_id": key,
                    "raw_phone": None if r.raw_phone is None else str(r.raw_phone)[:255],
                    "e164": normalise_phone(
                        None if r.raw_phone is None else str(r.raw_phone),
                        self.default_region,
                    ),
                    "checked_at": now,
                }
                for r in changed[start : start + PHONE_REFRESH_CHUNK]
            ]
            with engine.begin() as conn:
                upsert(conn, phones, chunk, key=["customer_id"],
                       update=["tenant_id", "raw_phone", "e164", "checked_at"])
        for start in range(0, len(removed), PHONE_REFRESH_CHUNK):
            with engine.begin() as conn:
                conn.execute(delete(phones).where(
                    phones.c.tenant_id == key,
                    phones.c.customer_id.in_(removed[start : start + PHONE_REFRESH_CHUNK])))
        with self._refresh_lock:
            self._refreshed[key] = started
        return len(changed) + len(removed)

    def _check_due(self, key: int, max_age: float) -> bool:
        """False when this process checked the tenant's phones less than `max_age` s ago."""
        with self._refresh_lock:
            last = self._refreshed.get(key)
        return last is None or time.monotonic() - last >= max_age

    def _check_region(self) -> None:
        """Parsed phones depend on the default region; re-parse all if it changed."""
        if self._region_checked:
            return
        meta, phones = self.tables.meta, self.tables.phones
        region = self.default_region or ""
        with self.bk.engine.begin() as conn:
            stored = conn.execute(
                select(meta.c.value).where(meta.c.name == "phones_region")
            ).scalar()
            if stored != region:
                conn.execute(delete(phones))
                upsert(conn, meta, [{"name": "phones_region", "value": region,
                                     "updated_at": int(self.clock())}],
                       key=["name"], update=["value", "updated_at"])
        self._region_checked = True

    # -- SQL ----------------------------------------------------------------------------

    def counted_customers(self, query: SegmentQuery, now: int) -> Any:
        """Customer ids meeting the appointment condition (a subquery with `customer_id`),
        or None when the segment is every customer of the tenant."""
        bk = self.bk
        appts = bk.appointments
        definition = query.definition
        minimum = query.min_appointments or 0

        if definition.kind == "all" and not query.has_appointment_filters and minimum == 0:
            return None

        counted = [
            bk.tenant_clause(appts, query.tenant_id),
            bk.customer_status_clause(list(query.statuses),
                                      canceled=definition.kind == "canceled"),
        ]
        if query.service_ids:
            counted.append(appts.c.service_id.in_(query.service_ids))
        if query.location_ids:
            counted.append(appts.c.location_id.in_(query.location_ids))

        starts = appts.c.starts_at
        window = None
        if definition.kind == "past_window":
            window = and_(starts >= now - definition.days * DAY, starts <= now)
        elif definition.kind == "future_window":
            window = and_(starts > now, starts <= now + definition.days * DAY)
        elif definition.kind == "canceled":
            window = starts >= now - definition.days * DAY

        having = []
        if window is not None:
            if minimum > 0:
                # The minimum counts appointments at any time, so the window moves to HAVING.
                having.append(func.sum(case((window, 1), else_=0)) >= 1)
            else:
                # Only rows in the window matter: filter before grouping (far fewer groups).
                counted.append(window)
        elif definition.kind == "exactly":
            having.append(func.count() == definition.count)
        elif definition.kind == "at_least":
            having.append(func.count() >= definition.count)
        elif definition.kind == "inactive":
            # ">=1 in the past and none after now-N days" == "latest start <= now-N days".
            having.append(func.max(starts) <= now - definition.days * DAY)
        if minimum > 0:
            having.append(func.count() >= minimum)

        grouped = (
            select(appts.c.customer_id.label("customer_id"))
            .where(*counted)
            .group_by(appts.c.customer_id)
        )
        if having:
            grouped = grouped.having(and_(*having))
        return grouped.subquery("counted")

    def members_select(self, query: SegmentQuery, now: int) -> Select[Any]:
        """Customer ids in the segment (column `id`), before any phone rule."""
        phones = self.tables.phones
        counted = self.counted_customers(query, now)
        source: Any = phones if counted is None else counted.join(
            phones, phones.c.customer_id == counted.c.customer_id)
        return (select(phones.c.customer_id.label("id")).select_from(source)
                .where(phones.c.tenant_id == tenant_key(query.tenant_id)))

    def _phone_groups(self, query: SegmentQuery, now: int) -> Any:
        """Members grouped by normalised phone: phone (NULL = invalid), lowest id, size,
        and whether the phone is suppressed for the tenant.

        Members are read from our phones table, which has one row per Booknetic customer
        with its tenant (kept by refresh_phones), so the customers table is not joined.
        The grouped appointments come first and MySQL/MariaDB are told to keep that order
        (STRAIGHT_JOIN): otherwise the optimiser may start from every customer, or walk the
        appointments' customer_id index one customer at a time (measured 2-10x slower).
        """
        phones, supp = self.tables.phones, self.tables.suppressions
        key = tenant_key(query.tenant_id)
        counted = self.counted_customers(query, now)
        source: Any = phones if counted is None else counted.join(
            phones, phones.c.customer_id == counted.c.customer_id)
        if query.exclude_suppressed:
            source = source.outerjoin(
                supp, and_(supp.c.tenant_id == key, supp.c.phone == phones.c.e164))
            suppressed = func.max(case((supp.c.id.is_not(None), 1), else_=0))
        else:
            suppressed = literal(0)
        return (
            select(
                phones.c.e164.label("phone"),
                func.min(phones.c.customer_id).label("customer_id"),
                func.count().label("n"),
                suppressed.label("suppressed"),
            )
            .select_from(source)
            .where(phones.c.tenant_id == key)
            .group_by(phones.c.e164)
            .prefix_with("STRAIGHT_JOIN", dialect="mysql")
            .prefix_with("STRAIGHT_JOIN", dialect="mariadb")
            .subquery("by_phone")
        )

    def recipients_select(self, query: SegmentQuery, now: int) -> Select[Any]:
        """THE recipient list: one row per valid, unsuppressed phone (customer_id, phone).

        This is the statement a campaign snapshot inserts from.
        """
        groups = self._phone_groups(query, now)
        return select(groups.c.customer_id, groups.c.phone).where(
            groups.c.phone.is_not(None), groups.c.suppressed == 0
        )

    def snapshot_insert(self, query: SegmentQuery, *, campaign_id: int, now: int) -> Insert:
        """One INSERT ... SELECT that writes a campaign's recipients as `pending` rows.

        Names are copied at snapshot time so that later edits in Booknetic change neither
        who receives the campaign nor what their message says.
        """
        recipients, customers = self.tables.recipients, self.bk.customers
        chosen = self.recipients_select(query, now).subquery("chosen")
        rows = select(
            literal(campaign_id),
            literal(tenant_key(query.tenant_id)),
            chosen.c.customer_id,
            chosen.c.phone,
            func.coalesce(func.substr(customers.c.first_name, 1, 191), ""),
            func.coalesce(func.substr(customers.c.last_name, 1, 191), ""),
            literal("pending"),
            literal(0),
            literal(now),
        ).select_from(chosen.join(customers, customers.c.id == chosen.c.customer_id))
        return insert(recipients).from_select(
            ["campaign_id", "tenant_id", "customer_id", "phone", "first_name", "last_name",
             "status", "attempts", "updated_at"],
            rows,
        )

    def preview(self, query: SegmentQuery, *, limit: int = 10,
                refresh: bool = True) -> Preview:
        """Count, sample and skipped counts for a segment, in one statement.

        With `refresh`, the tenant's phones are checked first unless that was done less
        than PREVIEW_REFRESH_SECONDS ago. The check (a scan of the tenant's customers) runs
        beside the segment statement rather than before it, so in the usual case — nothing
        changed — a preview costs the slower of the two instead of their sum; when phones
        did change, the segment is counted again on the refreshed table.
        """
        self.bk.require_tenant(query.tenant_id)
        if not refresh or not self._check_due(tenant_key(query.tenant_id),
                                              self.PREVIEW_REFRESH_SECONDS):
            return self._preview(query, limit)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="phone-check") as pool:
            check = pool.submit(self.refresh_phones, query.tenant_id,
                                max_age=self.PREVIEW_REFRESH_SECONDS)
            result = self._preview(query, limit)
            changed = check.result()
        return self._preview(query, limit) if changed else result

    def _preview(self, query: SegmentQuery, limit: int) -> Preview:
        now = int(self.clock())
        if self.counted_customers(query, now) is None:
            stmt = self._whole_tenant_preview(query, limit)
        else:
            stmt = self._segment_preview(query, now, limit)
        with self.bk.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        if not rows or not rows[0].members:
            return Preview(query.segment, 0)
        first = rows[0]
        members, invalid = int(first.members), int(first.invalid or 0)
        phones, suppressed = int(first.phones), int(first.suppressed or 0)
        sample = [
            {
                "customer_id": int(r.customer_id),
                "first_name": str(r.first_name or ""),
                "last_name": str(r.last_name or ""),
                "phone": str(r.phone),
            }
            for r in rows[:limit]
            if r.is_recipient
        ]
        return Preview(
            segment=query.segment,
            count=phones - suppressed,
            sample=sample,
            skipped_invalid_phone=invalid,
            skipped_duplicate_phone=members - invalid - phones,
            skipped_suppressed=suppressed,
        )

    def _segment_preview(self, query: SegmentQuery, now: int, limit: int) -> Select[Any]:
        """The preview of a segment with an appointment condition, as one statement.

        Window aggregates carry the totals on every row, so the sample rows (recipients
        first, lowest id first) also bring the counts; even an empty sample keeps one
        non-recipient row when any customer matched. The appointments are grouped once.
        """
        customers = self.bk.customers
        groups = self._phone_groups(query, now)
        is_recipient = case(
            (and_(groups.c.phone.is_not(None), groups.c.suppressed == 0), 1), else_=0
        )
        ranked = (
            select(
                groups.c.customer_id,
                groups.c.phone,
                is_recipient.label("is_recipient"),
                func.sum(groups.c.n).over().label("members"),
                func.sum(case((groups.c.phone.is_(None), groups.c.n), else_=0))
                .over().label("invalid"),
                func.count(groups.c.phone).over().label("phones"),
                func.sum(case((and_(groups.c.phone.is_not(None), groups.c.suppressed == 1), 1),
                              else_=0)).over().label("suppressed"),
            )
            .order_by(is_recipient.desc(), groups.c.customer_id)
            .limit(max(limit, 1))
            .subquery("ranked")
        )
        return (
            select(ranked, customers.c.first_name, customers.c.last_name)
            .select_from(ranked.outerjoin(customers, customers.c.id == ranked.c.customer_id))
            .order_by(ranked.c.is_recipient.desc(), ranked.c.customer_id)
        )

    def _whole_tenant_preview(self, query: SegmentQuery, limit: int) -> Select[Any]:
        """The preview when the segment is every customer of the tenant, as one statement.

        Without an appointment condition there is nothing to group first, and ranking
        every phone group of the tenant to find ten (what `_segment_preview` does) costs
        more than the totals themselves. Here the totals are plain aggregates over the
        (tenant_id, e164, customer_id) index, the suppressed count starts from the short
        suppression list, and the sample walks customers in id order, keeping those that
        hold the lowest id of their phone — it stops after `limit` rows.
        """
        phones, supp, customers = self.tables.phones, self.tables.suppressions, \
            self.bk.customers
        key = tenant_key(query.tenant_id)
        totals = (
            select(
                func.count().label("members"),
                func.coalesce(func.sum(case((phones.c.e164.is_(None), 1), else_=0)), 0)
                .label("invalid"),
                func.count(phones.c.e164.distinct()).label("phones"),
            )
            .where(phones.c.tenant_id == key)
            .subquery("totals")
        )
        holder = phones.alias("holder")  # a customer of the tenant with that phone
        earlier = phones.alias("earlier")  # ... with a lower id than the sampled one
        is_listed = exists().where(supp.c.tenant_id == key, supp.c.phone == phones.c.e164)
        if query.exclude_suppressed:
            suppressed: Any = (
                select(func.count())
                .select_from(supp)
                .where(supp.c.tenant_id == key,
                       exists().where(holder.c.tenant_id == key,
                                      holder.c.e164 == supp.c.phone))
                .scalar_subquery()
            )
        else:
            suppressed = literal(0)
        sample = (
            select(phones.c.customer_id, phones.c.e164.label("phone"))
            .where(
                phones.c.tenant_id == key,
                phones.c.e164.is_not(None),
                ~exists().where(earlier.c.tenant_id == key,
                                earlier.c.e164 == phones.c.e164,
                                earlier.c.customer_id < phones.c.customer_id),
                *([~is_listed] if query.exclude_suppressed else []),
            )
            .order_by(phones.c.customer_id)
            .limit(max(limit, 1))
            .subquery("sample")
        )
        return (
            select(
                sample.c.customer_id,
                sample.c.phone,
                case((sample.c.customer_id.is_not(None), 1), else_=0).label("is_recipient"),
                totals.c.members,
                totals.c.invalid,
                totals.c.phones,
                suppressed.label("suppressed"),
                customers.c.first_name,
                customers.c.last_name,
            )
            .select_from(
                totals.outerjoin(sample, true())
                .outerjoin(customers, customers.c.id == sample.c.customer_id)
            )
            .order_by(sample.c.customer_id)
        )
