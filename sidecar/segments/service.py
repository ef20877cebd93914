"""Segments as SQL: each segment with its filters compiles to one statement.

The appointment condition is a GROUP BY over the tenant's appointments; phone validity and
"one recipient per phone, lowest customer id" come from our normalised-phone table
(phone_table.py); the suppression exclusion is a join. Nothing loads customers into Python
to filter them, and a campaign's snapshot is one INSERT ... SELECT.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Insert, Select, and_, case, func, insert, literal, literal_column, select

from ..booknetic import Booknetic
from ..phone_region import RegionResolver
from ..schema import SmsTables
from .definitions import DAY, SegmentQuery, region_key, tenant_key
from .phone_table import PhoneTable
from .preview import Preview, read_preview, segment_preview_select, whole_tenant_preview_select
from .render_report import SNAPSHOT_NAME_CHARS, BodyNeeds, recipient_kinds, summarise


class SegmentService:
    """Compiles segments to SQL and runs previews for one WordPress database."""

    def __init__(self, booknetic: Booknetic, tables: SmsTables, *,
                 regions: RegionResolver | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.bk = booknetic
        self.tables = tables
        self.clock = clock
        self.regions = regions or RegionResolver(booknetic, override=None)
        self.phone_table = PhoneTable(booknetic, tables, clock=clock)

    def region(self, tenant_id: int | None) -> str | None:
        """The tenant's default region for phone numbers (sidecar/phone_region.py)."""
        return self.regions.region(tenant_id)

    def refresh_phones(self, tenant_id: int | None, region: str | None, *,
                       max_age: float | None = None) -> int:
        """Bring the tenant's phones parsed with `region` up to date (PhoneTable.refresh);
        returns how many rows changed. Pass the region the statements will read."""
        return self.phone_table.refresh(tenant_id, region, max_age=max_age)

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

    def upcoming_customers(self, query: SegmentQuery, now: int) -> Any:
        """Customer ids with an active appointment in (now, now + N days], N =
        `exclude_upcoming_days` (a subquery with `customer_id`), or None without the filter.

        Every active appointment of the tenant counts here, whatever the segment's
        service, location and status filters (DESIGN.md §11, Details): someone booked for
        tomorrow is booked, whichever service it is for.
        """
        days = query.exclude_upcoming_days
        if days is None:
            return None
        appts = self.bk.appointments
        starts = appts.c.starts_at
        return (
            select(appts.c.customer_id.label("customer_id"))
            .where(self.bk.tenant_clause(appts, query.tenant_id),
                   self.bk.customer_status_clause([]),
                   starts > now, starts <= now + days * DAY)
            .group_by(appts.c.customer_id)
            .subquery("upcoming")
        )

    def _phone_groups(self, query: SegmentQuery, now: int, region: str | None) -> Any:
        """Members grouped by normalised phone: phone (NULL = invalid), lowest id, size,
        whether the phone is suppressed for the tenant, and `upcoming` (1 for the group of
        members the exclude_upcoming_days filter drops, else 0).

        Members are read from our phones table, which has one row per Booknetic customer
        and region with its tenant (kept by refresh_phones), so the customers table is
        not joined; only rows parsed with `region` are read.
        The grouped appointments come first and MySQL/MariaDB are told to keep that order
        (STRAIGHT_JOIN): otherwise the optimiser may start from every customer, or walk the
        appointments' customer_id index one customer at a time (measured 2-10x slower).
        Members with an upcoming appointment are dropped before phones are grouped (they
        form their own groups, upcoming = 1), so the lowest id of a phone is the lowest
        among the members that remain (DESIGN.md §11: before one-recipient-per-number).
        """
        phones, supp = self.tables.phones, self.tables.suppressions
        key = tenant_key(query.tenant_id)
        counted = self.counted_customers(query, now)
        ours = and_(phones.c.tenant_id == key, phones.c.region == region_key(region))
        source: Any = phones if counted is None else counted.join(
            phones, and_(ours, phones.c.customer_id == counted.c.customer_id))
        upcoming_customers = self.upcoming_customers(query, now)
        upcoming: Any = literal(0)
        if upcoming_customers is not None:
            source = source.outerjoin(
                upcoming_customers, upcoming_customers.c.customer_id == phones.c.customer_id)
            # Written out (not bound) so that GROUP BY repeats the select's expression
            # exactly, as ONLY_FULL_GROUP_BY (MySQL's default) requires.
            upcoming = case((upcoming_customers.c.customer_id.is_not(None), literal_column("1")),
                            else_=literal_column("0"))
        if query.exclude_suppressed:
            source = source.outerjoin(
                supp, and_(supp.c.tenant_id == key, supp.c.phone == phones.c.e164))
            suppressed = func.max(case((supp.c.id.is_not(None), 1), else_=0))
        else:
            suppressed = literal(0)
        grouping = [phones.c.e164] if upcoming_customers is None else [phones.c.e164, upcoming]
        return (
            select(
                phones.c.e164.label("phone"),
                func.min(phones.c.customer_id).label("customer_id"),
                func.count().label("n"),
                suppressed.label("suppressed"),
                upcoming.label("upcoming"),
            )
            .select_from(source)
            .where(ours)
            .group_by(*grouping)
            .prefix_with("STRAIGHT_JOIN", dialect="mysql")
            .prefix_with("STRAIGHT_JOIN", dialect="mariadb")
            .subquery("by_phone")
        )

    def recipients_select(self, query: SegmentQuery, now: int,
                          region: str | None) -> Select[Any]:
        """THE recipient list: one row per valid, unsuppressed phone (customer_id, phone),
        phones as parsed with `region`.

        This is the statement a campaign snapshot inserts from.
        """
        groups = self._phone_groups(query, now, region)
        return select(groups.c.customer_id, groups.c.phone).where(
            groups.c.phone.is_not(None), groups.c.suppressed == 0, groups.c.upcoming == 0
        )

    def snapshot_insert(self, query: SegmentQuery, *, region: str | None, campaign_id: int,
                        now: int) -> Insert:
        """One INSERT ... SELECT that writes a campaign's recipients as `pending` rows.

        Names are copied at snapshot time so that later edits in Booknetic change neither
        who receives the campaign nor what their message says.
        """
        recipients, customers = self.tables.recipients, self.bk.customers
        chosen = self.recipients_select(query, now, region).subquery("chosen")
        rows = select(
            literal(campaign_id),
            literal(tenant_key(query.tenant_id)),
            chosen.c.customer_id,
            chosen.c.phone,
            func.coalesce(func.substr(customers.c.first_name, 1, SNAPSHOT_NAME_CHARS), ""),
            func.coalesce(func.substr(customers.c.last_name, 1, SNAPSHOT_NAME_CHARS), ""),
            literal("pending"),
            literal(0),
            literal(now),
        ).select_from(chosen.join(customers, customers.c.id == chosen.c.customer_id))
        return insert(recipients).from_select(
            ["campaign_id", "tenant_id", "customer_id", "phone", "first_name", "last_name",
             "status", "attempts", "updated_at"],
            rows,
        )

    # -- preview ------------------------------------------------------------------------

    def preview(self, query: SegmentQuery, *, limit: int = 10, refresh: bool = True,
                body: str | None = None,
                price_per_segment: Decimal | None = None) -> Preview:
        """Count, sample and skipped counts for a segment, in one statement, and when the
        phones it read were last checked (`phones_checked_at`); with a `body`, also the
        render report of every recipient's message (render_report.py, one more statement),
        with the estimated cost when `price_per_segment` is known.

        Phones are read as parsed with the tenant's default region, as the last phone
        check left them: the worker keeps them fresh (phone_upkeep.py) and a snapshot
        checks first, so a preview never pays for the check — except, with `refresh`,
        the very first time for a tenant and region, when there is nothing to read yet.
        """
        self.bk.require_tenant(query.tenant_id)
        region = self.region(query.tenant_id)
        checked = self.phone_table.checked_at(query.tenant_id, region)
        if checked is None and refresh:
            self.refresh_phones(query.tenant_id, region)
            checked = self.phone_table.checked_at(query.tenant_id, region)
        preview = self._preview(query, region, limit)
        preview.phones_checked_at = checked
        if body is not None:
            preview.render = self.render_report(query, region, body,
                                                price_per_segment=price_per_segment)
        return preview

    def render_report(self, query: SegmentQuery, region: str | None, body: str, *,
                      price_per_segment: Decimal | None = None) -> dict[str, Any]:
        """Every recipient's message as the engine will render it, summarised (DESIGN.md
        §11): the snapshot's recipients, read with only what `body` needs of them."""
        recipients = self.recipients_select(query, int(self.clock()), region).subquery("chosen")
        with self.bk.engine.connect() as conn:
            kinds = recipient_kinds(conn, recipients, self.bk.customers, BodyNeeds.of(body))
        return summarise(body, kinds, price_per_segment=price_per_segment).to_dict()

    def _preview(self, query: SegmentQuery, region: str | None, limit: int) -> Preview:
        now = int(self.clock())
        if (self.counted_customers(query, now) is None
                and query.exclude_upcoming_days is None):
            stmt = whole_tenant_preview_select(
                self.tables, self.bk.customers, tenant_key(query.tenant_id),
                region_key(region), exclude_suppressed=query.exclude_suppressed, limit=limit)
        else:
            stmt = segment_preview_select(self._phone_groups(query, now, region),
                                          self.bk.customers, limit)
        with self.bk.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return read_preview(query.segment, rows, limit)
