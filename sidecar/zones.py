"""Timezones (DESIGN.md §11): what a zone name means, the business's zone, each recipient's
zone, and the one way a time is shown to people.

Stored times are UTC epoch seconds everywhere; a zone only matters when a time is shown to
a person or compared with a local wall clock (quiet hours, a local `send_at`).

- A *valid* zone name is one `zoneinfo.ZoneInfo` accepts: IANA names and their links
  (`US/Eastern`, `Asia/Calcutta`); empty text, offsets such as `+05:00` and unknown names are
  not. `zone_named()` answers that, cached, so a snapshot can check every recipient's name in
  one pass.
- The *business* zone is chosen from Booknetic's and WordPress's options by
  `Booknetic.business_zone()` (the only reader of options) through `business_zone_from()`
  here: Booknetic's tenant timezone, WordPress's `timezone_string`, WordPress's `gmt_offset`
  (a fixed offset, named like `UTC+05:30`), else UTC.
- A *recipient's* zone is the valid `client_timezone` of the customer's most recent
  appointment, else the business zone: `Booknetic.recipient_zones()` builds a
  `RecipientZones` with one statement and one pass over its rows.

`format_time()` is the one formatting of a time for people ("2 Dec 2026, 14:32
(America/Chicago)"); the pages use it through the `localtime` template filter, and
static/app.js's `BkntcSms.formatTime` writes exactly the same text in the browser.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Where a business zone came from, and how the settings page and `check` say so.
SOURCES = {
    "booknetic": "Booknetic's timezone for this business",
    "wordpress": "WordPress timezone",
    "wordpress_offset": "WordPress UTC offset",
    "default": "nothing set",
}
# Real UTC offsets run from -12:00 to +14:00; WordPress offers the same range.
MAX_OFFSET_HOURS = 14
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@functools.lru_cache(maxsize=4096)
def zone_named(name: str | None) -> ZoneInfo | None:
    """The zone `name` means, or None when `zoneinfo` does not accept it (NULL, empty, an
    offset, an unknown name, a path outside the zone database). Cached: recipients share a
    handful of names, and garbage is looked up once."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # ValueError: not a relative key, or a file in the database that is no zone
        # (zone.tab); OSError: a name the file system cannot even look up.
        return None


def offset_name(offset: timedelta) -> str:
    """A fixed offset as people read it: "UTC+05:30", "UTC-03:00"; no offset is "UTC"."""
    minutes = int(offset.total_seconds()) // 60
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def offset_zone(gmt_offset: str | None) -> timezone | None:
    """WordPress's `gmt_offset` (decimal hours as text: "5.5" is UTC+05:30, "-3", "5.75") as a
    fixed zone, or None when it is empty, not a number or beyond ±14 hours."""
    try:
        hours = Decimal((gmt_offset or "").strip())
    except InvalidOperation:
        return None
    if not hours.is_finite() or abs(hours) > MAX_OFFSET_HOURS:
        return None
    offset = timedelta(minutes=int((hours * 60).to_integral_value()))
    return timezone(offset, offset_name(offset))


@dataclass(frozen=True)
class BusinessZone:
    """The zone a business's times are shown in and where it came from (`SOURCES`)."""

    zone: tzinfo
    name: str  # "America/Chicago", or "UTC+05:30" for a fixed offset
    source: str  # a key of SOURCES
    option: str | None = None  # the option that gave it
    ignored: tuple[str, ...] = ()  # options that were set but are no zone, for `check`

    @property
    def source_label(self) -> str:
        return SOURCES[self.source]

    def describe(self) -> str:
        """"America/Chicago (Booknetic's timezone for this business)"."""
        return f"{self.name} ({self.source_label})"

    def format(self, epoch: float | None, *, with_date: bool = True) -> str:
        return format_time(epoch, self.zone, self.name, with_date=with_date)

    def offset_at(self, epoch: float) -> int:
        """Seconds east of UTC at `epoch` (the browser's fallback for a name it lacks)."""
        offset = datetime.fromtimestamp(epoch, self.zone).utcoffset()
        return int(offset.total_seconds()) if offset is not None else 0

    def to_dict(self) -> dict[str, str | None]:
        return {"name": self.name, "source": self.source, "label": self.source_label,
                "option": self.option}


UTC_ZONE = BusinessZone(UTC, "UTC", "default")


def business_zone_from(values: Mapping[str, str], tenant_option: str | None) -> BusinessZone:
    """The business zone by DESIGN.md §11's chain, from the option values read (missing
    options absent): Booknetic's tenant timezone `tenant_option` (SaaS), WordPress's
    `timezone_string`, `gmt_offset`, else UTC. A set value that is no zone is skipped and
    listed in `ignored`."""
    ignored: list[str] = []
    for source, name in (("booknetic", tenant_option), ("wordpress", "timezone_string")):
        value = values.get(name or "", "").strip()
        if not value:
            continue
        zone = zone_named(value)
        if zone is not None:
            return BusinessZone(zone, value, source, name, tuple(ignored))
        ignored.append(f"{name} = {value!r} (not a timezone name)")
    raw = values.get("gmt_offset", "").strip()
    fixed = offset_zone(raw)
    if fixed is not None:
        return BusinessZone(fixed, offset_name(fixed.utcoffset(None)), "wordpress_offset",
                            "gmt_offset", tuple(ignored))
    if raw:
        ignored.append(f"gmt_offset = {raw!r} (not an offset in hours)")
    return BusinessZone(UTC, "UTC", "default", None, tuple(ignored))


def format_time(epoch: float | None, zone: tzinfo, name: str, *, with_date: bool = True) -> str:
    """`epoch` as people read it in `zone`, named: "2 Dec 2026, 14:32 (America/Chicago)", or
    "14:32 (America/Chicago)" without the date; "" for no time (None or 0). English month
    abbreviations, whatever the server's locale, so the browser's copy matches."""
    if not epoch or not math.isfinite(epoch):
        return ""
    local = datetime.fromtimestamp(int(epoch), zone)
    clock = f"{local.hour:02d}:{local.minute:02d}"
    if not with_date:
        return f"{clock} ({name})"
    return f"{local.day} {MONTHS[local.month - 1]} {local.year}, {clock} ({name})"


@dataclass(frozen=True)
class RecipientZones:
    """Each recipient's zone for one tenant (DESIGN.md §11 "Recipient timezone"): `own` maps
    a customer id to the valid zone name of their most recent appointment; everybody else
    (no appointment, or an invalid name on the latest one) is in the business zone."""

    business: BusinessZone
    own: Mapping[int, str] = field(default_factory=dict)

    def name_of(self, customer_id: int | None) -> str:
        if customer_id is None:
            return self.business.name
        return self.own.get(customer_id, self.business.name)

    def zone_of(self, customer_id: int | None) -> tzinfo:
        name = self.own.get(customer_id) if customer_id is not None else None
        zone = zone_named(name) if name else None
        return zone if zone is not None else self.business.zone

    def customers_by_zone(self) -> dict[str, list[int]]:
        """Zone name → the customers with that zone of their own, sorted: a snapshot can
        write each group with one UPDATE … WHERE customer_id IN (…)."""
        groups: dict[str, list[int]] = {}
        for customer_id, name in sorted(self.own.items()):
            groups.setdefault(name, []).append(customer_id)
        return groups

    def counts(self) -> Counter[str]:
        """How many customers have each zone of their own (for logs and reports)."""
        return Counter(self.own.values())


def valid_zones(raw: Mapping[int, str | None]) -> dict[int, str]:
    """The one pass over a tenant's latest `client_timezone` values: keep the valid names."""
    return {customer_id: name for customer_id, name in raw.items()
            if name and zone_named(name) is not None}
