"""Attribution (DESIGN.md §12): which Booknetic bookings each campaign brought.

A refresh rewrites one campaign's attributions in one transaction of set-based statements —
no loop over recipients:

1. forget the campaign's attributions;
2. INSERT … SELECT the bookings of its `sent` rows: appointments of the same tenant with an
   active status, whose customer has the row's normalised phone (our phones table, parsed
   with the tenant's current region, as segments read it), created inside
   `[sent_at, sent_at + attribution_days]`;
3. DELETE those a later touch takes — a `sent` row of any campaign of the tenant to that
   number, sent after this one (equal times: the higher campaign id) but not after the
   booking, whose own window still holds it;
4. INSERT … SELECT the bookings of its `holdout` rows inside the control window
   `[queued_at, queued_at + attribution_days]` (no last touch: DESIGN.md §12);
5. write each recipient row's earliest booking and its revenue, and the campaign's sums.

Statuses are judged at each refresh, so a booking canceled later drops out at the next one.
Every queue run refreshes the campaigns whose window is open, plus once more after it
closed (`attributed_at` after the window's end means frozen).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Delete,
    Select,
    Table,
    and_,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from ..booknetic import Booknetic
from ..schema import SmsTables
from ..segments import SegmentService, tenant_key
from ..segments.definitions import region_key
from ..tenant_settings import TenantSettings

logger = logging.getLogger(__name__)

DAY = 86400
SENT, HOLDOUT = "sent", "holdout"


@dataclass
class RefreshReport:
    """What one refresh run did: campaign ids and the time each took (seconds)."""

    campaigns: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    errors: int = 0


@dataclass(frozen=True)
class _Campaign:
    id: int
    tenant_id: int | None
    days: int
    queued_at: int


class Attribution:
    """Refreshes the attributed bookings of campaigns (reads Booknetic, writes ours)."""

    def __init__(self, tables: SmsTables, booknetic: Booknetic, segments: SegmentService,
                 settings_for: Callable[[int | None], TenantSettings], *,
                 clock: Callable[[], float] = time.time) -> None:
        self.tables = tables
        self.bk = booknetic
        self.segments = segments
        self.settings_for = settings_for
        self.clock = clock

    # -- which campaigns ----------------------------------------------------------------

    def open_campaigns(self, now: int) -> list[_Campaign]:
        """Sent campaigns whose window is open, or closed since their last refresh."""
        c = self.tables.campaigns
        with self.bk.engine.connect() as conn:
            rows = conn.execute(
                select(c.c.id, c.c.tenant_id, c.c.attribution_days, c.c.queued_at,
                       c.c.finished_at, c.c.attributed_at)
                .where(c.c.kind == "campaign", c.c.queued_at.is_not(None))
                .order_by(c.c.id)).all()
        found: list[_Campaign] = []
        defaults: dict[int, int] = {}
        for row in rows:
            tenant = int(row.tenant_id) or None
            days = row.attribution_days
            if days is None:  # sent before 0007: the tenant's current window
                if int(row.tenant_id) not in defaults:
                    defaults[int(row.tenant_id)] = self.settings_for(tenant).attribution_days
                days = defaults[int(row.tenant_id)]
            closes = None if row.finished_at is None else int(row.finished_at) + days * DAY
            frozen = (row.attributed_at is not None and closes is not None
                      and int(row.attributed_at) > closes)
            if not frozen:
                found.append(_Campaign(int(row.id), tenant, int(days), int(row.queued_at)))
        return found

    def refresh_open(self) -> RefreshReport:
        """Refresh every campaign whose window is open. Never raises: a campaign that
        fails is logged and the others go on (it is retried at the next run)."""
        report = RefreshReport()
        now = int(self.clock())
        try:
            campaigns = self.open_campaigns(now)
        except Exception:
            logger.exception("attribution: could not list campaigns")
            report.errors += 1
            return report
        regions: dict[int | None, str | None] = {}
        for campaign in campaigns:
            started = time.perf_counter()
            try:
                if campaign.tenant_id not in regions:
                    region = self.segments.region(campaign.tenant_id)
                    self.segments.refresh_phones(campaign.tenant_id, region)
                    regions[campaign.tenant_id] = region
                self._refresh(campaign, regions[campaign.tenant_id], now)
            except Exception:
                logger.exception("attribution refresh failed",
                                 extra={"campaign_id": campaign.id})
                report.errors += 1
                continue
            report.campaigns.append(campaign.id)
            report.seconds.append(time.perf_counter() - started)
        return report

    def refresh(self, tenant_id: int | None, campaign_id: int) -> bool:
        """Refresh one campaign of the tenant now (whatever its window); False when it was
        never sent."""
        c = self.tables.campaigns
        with self.bk.engine.connect() as conn:
            row = conn.execute(select(c.c.attribution_days, c.c.queued_at).where(
                c.c.id == campaign_id, c.c.tenant_id == tenant_key(tenant_id))).first()
        if row is None or row.queued_at is None:
            return False
        days = row.attribution_days
        if days is None:
            days = self.settings_for(tenant_id).attribution_days
        region = self.segments.region(tenant_id)
        self.segments.refresh_phones(tenant_id, region)
        self._refresh(_Campaign(campaign_id, tenant_id, int(days), int(row.queued_at)), region,
                      int(self.clock()))
        return True

    # -- one campaign -------------------------------------------------------------------

    def _refresh(self, campaign: _Campaign, region: str | None, now: int) -> None:
        r, x, c = self.tables.recipients, self.tables.attributions, self.tables.campaigns
        columns = ["recipient_id", "appointment_id", "campaign_id", "created_at",
                   "revenue_cents"]
        with self.bk.engine.begin() as conn:
            conn.execute(delete(x).where(x.c.campaign_id == campaign.id))
            conn.execute(insert(x).from_select(columns, self._bookings(campaign, region, SENT)))
            conn.execute(self._drop_later_touches(campaign))
            conn.execute(insert(x).from_select(columns,
                                               self._bookings(campaign, region, HOLDOUT)))
            self._write_rows(conn, campaign.id)
            sums = conn.execute(
                select(r.c.status, func.count().label("bookings"),
                       func.count(func.distinct(x.c.recipient_id)).label("booked"),
                       func.coalesce(func.sum(x.c.revenue_cents), 0).label("cents"))
                .select_from(x.join(r, r.c.id == x.c.recipient_id))
                .where(x.c.campaign_id == campaign.id).group_by(r.c.status)).all()
            by_group = {row.status: row for row in sums}
            opted_out = conn.execute(self._opted_out(campaign)).scalar_one()
            sent, held = by_group.get(SENT), by_group.get(HOLDOUT)
            conn.execute(update(c).where(c.c.id == campaign.id).values(
                bookings=sent.bookings if sent else 0,
                booked_recipients=sent.booked if sent else 0,
                revenue_cents=int(sent.cents) if sent else 0,
                holdout_booked=held.booked if held else 0,
                opted_out=int(opted_out),
                attributed_at=now))

    def _bookings(self, campaign: _Campaign, region: str | None, group: str) -> Select[Any]:
        """SELECT (recipient id, appointment id, campaign id, created_at, revenue cents) of
        the campaign's rows in `group` ('sent' or 'holdout')."""
        r, ph = self.tables.recipients, self.tables.phones
        a = self.bk.appointments
        window = campaign.days * DAY
        if group == SENT:
            in_window = a.c.created_at.between(r.c.sent_at, r.c.sent_at + window)
            extra: list[ColumnElement[bool]] = [r.c.sent_at.is_not(None)]
        else:
            in_window = a.c.created_at.between(campaign.queued_at, campaign.queued_at + window)
            extra = []
        return (
            select(r.c.id, a.c.id, literal(campaign.id), a.c.created_at,
                   self._revenue_cents(a))
            .select_from(
                r.join(ph, and_(ph.c.tenant_id == r.c.tenant_id,
                                ph.c.region == region_key(region), ph.c.e164 == r.c.phone))
                .join(a, a.c.customer_id == ph.c.customer_id))
            .where(r.c.campaign_id == campaign.id, r.c.status == group,
                   self.bk.tenant_clause(a, campaign.tenant_id),
                   self.bk.customer_status_clause(None), a.c.created_at.is_not(None),
                   in_window, *extra)
        )

    def _drop_later_touches(self, campaign: _Campaign) -> Delete:
        """Forget the sent rows' bookings that a later touch takes (last touch). A DELETE
        over the bookings found rather than a condition of the INSERT, so the check runs
        once per booking in a window, not once per appointment of every recipient."""
        x = self.tables.attributions
        mine = self.tables.recipients.alias("mine")
        return delete(x).where(x.c.campaign_id == campaign.id, exists().where(
            mine.c.id == x.c.recipient_id, mine.c.status == SENT,
            self._later_touch(mine, x.c.created_at, campaign)))

    def _later_touch(self, r: Table, created_at: ColumnElement[Any],
                     campaign: _Campaign) -> ColumnElement[bool]:
        """A `sent` row of the same tenant and number (any campaign, not one-off SMS) that
        is a later touch than `r` before the booking and whose window holds it."""
        t = self.tables.recipients.alias("touch")
        tc = self.tables.campaigns.alias("touch_campaign")
        default_days = campaign.days
        return exists().where(
            t.c.phone == r.c.phone, t.c.tenant_id == r.c.tenant_id, t.c.status == SENT,
            t.c.sent_at <= created_at,
            or_(t.c.sent_at > r.c.sent_at,
                and_(t.c.sent_at == r.c.sent_at, t.c.campaign_id > r.c.campaign_id)),
            tc.c.id == t.c.campaign_id, tc.c.kind == "campaign",
            t.c.sent_at + func.coalesce(tc.c.attribution_days, default_days) * DAY
            >= created_at,
        ).correlate_except(t, tc)  # the row and the booking come from the outer queries

    def _opted_out(self, campaign: _Campaign) -> Select[Any]:
        """How many of the campaign's messaged numbers were suppressed by the recipient or
        the carrier (not by an admin) since it was sent."""
        r, s = self.tables.recipients, self.tables.suppressions
        return (select(func.count()).select_from(
            r.join(s, and_(s.c.tenant_id == r.c.tenant_id, s.c.phone == r.c.phone)))
            .where(r.c.campaign_id == campaign.id, r.c.status.in_((SENT, "failed")),
                   s.c.source != "manual", s.c.created_at >= campaign.queued_at))

    def _revenue_cents(self, a: Table) -> ColumnElement[Any]:
        """the sum of price * negative_or_positive over the appointment's price rows, else its
        paid_amount (NULL → 0), in cents rounded half-up (DESIGN.md §12)."""
        paid = a.c.paid_amount if "paid_amount" in a.c else literal(0)
        prices = self.bk.table("appointment_prices", required=False)
        amount: ColumnElement[object]
        if prices is not None and {"appointment_id", "price"} <= set(prices.c.keys()):
            sign = (prices.c.negative_or_positive if "negative_or_positive" in prices.c
                    else literal(1))
            priced = (select(func.sum(prices.c.price * sign))
                      .where(prices.c.appointment_id == a.c.id).scalar_subquery())
            amount = func.coalesce(priced, paid, 0)
        else:
            amount = func.coalesce(paid, 0)
        return cast(func.round(amount * 100), BigInteger)

    def _write_rows(self, conn: Connection, campaign_id: int) -> None:
        """Each recipient row's earliest attributed booking and total revenue (NULL when
        none), one UPDATE with correlated reads of the attributions."""
        r, x = self.tables.recipients, self.tables.attributions
        mine = x.c.recipient_id == r.c.id
        earliest = (select(x.c.appointment_id).where(mine)
                    .order_by(x.c.created_at, x.c.appointment_id).limit(1).scalar_subquery())
        conn.execute(update(r).where(
            r.c.campaign_id == campaign_id,
            or_(r.c.booked_at.is_not(None), exists().where(mine)),
        ).values(
            booked_appointment_id=earliest,
            booked_at=select(func.min(x.c.created_at)).where(mine).scalar_subquery(),
            revenue_cents=select(func.sum(x.c.revenue_cents)).where(mine).scalar_subquery(),
        ))


def cents_to_amount(cents: int | None) -> float | None:
    """Cents as the JSON number of the contract (two decimals)."""
    return None if cents is None else round(cents / 100, 2)


