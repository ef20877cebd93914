"""Quiet hours (DESIGN.md §11): when a campaign message may go out in a recipient's zone.

The window is `[start, end)` of each local day. `window_at()` finds, for an instant, the
window it falls in or the next one, as epoch seconds, by building the local wall times with
`zoneinfo` — so a day of 23 or 25 hours (daylight saving) moves the instants, not the wall
clock: 09:00 in New York is 13:00 UTC in summer and 14:00 UTC in winter. A wall time that
does not exist that day (inside a spring-forward gap) reads with the offset before the
change, i.e. as the first instant after the gap; one that happens twice (fall-back) is the
first of the two.

`decide()` is the one answer for a recipient at send time: send now with a `ValidityPeriod`
(the seconds left in the window, at most 14,400), or hold until the next window start. The
engine's set-based sweep over held rows (outbox/holds.py) and its per-message check both
use it, so they cannot disagree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Connection, Table, func, select, update

from .tenant_settings import QuietHours
from .zones import BusinessZone, RecipientZones, format_time, zone_named

MAX_VALIDITY = 14_400  # seconds; Twilio allows more, the contract caps it at 4 hours
MIN_LEFT = 60  # a recipient with less of the window left is held, not sent
HELD_PREFIX = "held until "


def _local_instant(day: datetime, minute: int, zone: tzinfo) -> int:
    """Epoch seconds of `minute` after midnight on `day`'s date, on the local wall clock."""
    wall = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=zone)
    return int(wall.timestamp())


def window_at(now: int, zone: tzinfo, hours: QuietHours) -> tuple[int, int]:
    """The sending window (start, end) in `zone` that contains `now`, or else the next one
    after it: start ≤ now < end, or now < start."""
    today = datetime.fromtimestamp(now, zone)
    # Two days ahead always reaches a window: each local day has one, and even a day
    # whose window fell into a gap still has its end after its start.
    for ahead in range(3):
        day = today + timedelta(days=ahead)
        start = _local_instant(day, hours.start_minute, zone)
        end = _local_instant(day, hours.end_minute, zone)
        if now < end and start < end:
            return start, end
    raise AssertionError("no sending window in three days")  # pragma: no cover


def next_window_start(now: int, zone: tzinfo, hours: QuietHours) -> int:
    """The first instant ≥ `now` at which a message may go out in `zone`."""
    start, _ = window_at(now, zone, hours)
    return max(start, now)


@dataclass(frozen=True)
class Decision:
    """Send now (`hold_until` None) with `validity` seconds, or hold until `hold_until`."""

    hold_until: int | None = None
    validity: int | None = None  # None: quiet hours are off, no ValidityPeriod


SEND_ANY_TIME = Decision()


def decide(now: int, zone: tzinfo, hours: QuietHours | None) -> Decision:
    """Whether a campaign message to a recipient in `zone` may go out at `now`."""
    if hours is None:
        return SEND_ANY_TIME
    start, end = window_at(now, zone, hours)
    if now < start:
        return Decision(hold_until=start)
    left = end - now
    if left < MIN_LEFT:  # it could not reach the phone before the window closes
        return Decision(hold_until=window_at(end, zone, hours)[0])
    return Decision(validity=min(left, MAX_VALIDITY))


def held_reason(until: int, zone: tzinfo, zone_name: str) -> str:
    """The recipient row's `last_error` while held: "held until 09:00 America/Chicago"."""
    return HELD_PREFIX + format_time(until, zone, zone_name, with_date=False).replace(
        "(", "").replace(")", "")


def held_text(count: int, until: int, zone: tzinfo, zone_name: str) -> str:
    """What progress says about a group of held rows: "3 held until 09:00 (America/Chicago)"."""
    return f"{count} held until {format_time(until, zone, zone_name, with_date=False)}"


ZONE_UPDATE_CHUNK = 1000


def stamp_zones(conn: Connection, recipients: Table, campaign_id: int,
                zones_of: Callable[[list[int]], RecipientZones]) -> Counter[str]:
    """Write each snapshotted recipient's own zone onto its row (NULL stays: the business
    zone), in the snapshot's transaction: one read of the customer ids, one lookup of their
    zones (`zones_of`, Booknetic.recipient_zones), one UPDATE per zone and thousand rows.
    Returns how many rows got each zone."""
    r = recipients
    ids = conn.execute(select(r.c.customer_id).where(
        r.c.campaign_id == campaign_id, r.c.customer_id.is_not(None))).scalars().all()
    if not ids:
        return Counter()
    wanted = set(ids)
    written: Counter[str] = Counter()
    for name, customers in zones_of(sorted(wanted)).customers_by_zone().items():
        mine = [c for c in customers if c in wanted]
        for at in range(0, len(mine), ZONE_UPDATE_CHUNK):
            written[name] += int(conn.execute(update(r).where(
                r.c.campaign_id == campaign_id,
                r.c.customer_id.in_(mine[at:at + ZONE_UPDATE_CHUNK])).values(timezone=name)
            ).rowcount or 0)
    return written


def held_summary(conn: Connection, recipients: Table, campaign_id: int,
                 business: BusinessZone) -> list[dict[str, Any]]:
    """The held rows of a campaign grouped by zone, soonest first: [{"count", "until",
    "timezone", "text": "3 held until 09:00 (America/Chicago)"}] (NULL zone: `business`)."""
    r = recipients
    rows = conn.execute(
        select(r.c.timezone, func.min(r.c.next_attempt_at).label("until"),
               func.count().label("n"))
        .where(r.c.campaign_id == campaign_id, r.c.status == "pending",
               r.c.last_error.startswith(HELD_PREFIX, autoescape=True))
        .group_by(r.c.timezone)).all()
    out = []
    for row in sorted(rows, key=lambda x: (int(x.until), x.timezone or "")):
        own = zone_named(row.timezone)
        zone, name = (own, row.timezone) if own is not None else (business.zone, business.name)
        out.append({"count": int(row.n), "until": int(row.until), "timezone": name,
                    "text": held_text(int(row.n), int(row.until), zone, name)})
    return out
