"""DESIGN.md §11's timezones in plain Python over a fixture `Dataset`: no SQL at all.

Tests compare `Booknetic.recipient_zones()` and `Booknetic.business_zone()` against this.
Written to be obviously literal, not fast, and independent of `sidecar.zones` and
`sidecar.booknetic`: the only thing it shares with the product is the standard library's
`zoneinfo`, which is what the contract calls a valid zone.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from sidecar.sample_data import Dataset


def is_valid_zone(name: Any) -> bool:
    """DESIGN.md §11: a valid zone is one zoneinfo.ZoneInfo accepts."""
    if not isinstance(name, str) or name == "":
        return False
    try:
        ZoneInfo(name)
    except Exception:  # whatever it raises, it did not accept the name
        return False
    return True


def latest_appointment(ds: Dataset, tenant_id: int | None,
                       customer_id: int) -> dict[str, Any] | None:
    """The customer's most recent appointment in the tenant: any status, the greatest
    starts_at, ties to the highest id."""
    theirs = [a for a in ds.appointments
              if a.get("tenant_id") == tenant_id and a["customer_id"] == customer_id]
    if not theirs:
        return None
    return max(theirs, key=lambda a: (a["starts_at"], a["id"]))


def expected_own_zones(ds: Dataset, tenant_id: int | None,
                       customer_ids: list[int] | None = None) -> dict[int, str]:
    """customer id → the valid zone name of that customer's most recent appointment; the
    customers left out are in the business zone (no appointment, or an invalid name on the
    latest one — an older appointment's valid name does not count)."""
    if customer_ids is None:
        customer_ids = sorted({a["customer_id"] for a in ds.appointments
                               if a.get("tenant_id") == tenant_id})
    out: dict[int, str] = {}
    for customer_id in customer_ids:
        latest = latest_appointment(ds, tenant_id, customer_id)
        if latest is not None and is_valid_zone(latest["client_timezone"]):
            out[customer_id] = latest["client_timezone"]
    return out


def expected_business_zone(options: dict[str, str], tenant_id: int | None) -> tuple[str, str]:
    """(name, source) by §11's chain: Booknetic's bkntc_t{ID}_timezone (SaaS), else
    WordPress's timezone_string, else gmt_offset (decimal hours, a fixed offset named
    UTC±HH:MM; 0 is plain UTC), else UTC."""
    if tenant_id is not None:
        value = options.get(f"bkntc_t{tenant_id}_timezone", "").strip()
        if is_valid_zone(value):
            return value, "booknetic"
    value = options.get("timezone_string", "").strip()
    if is_valid_zone(value):
        return value, "wordpress"
    try:
        hours = Decimal(options.get("gmt_offset", "").strip())
    except InvalidOperation:
        return "UTC", "default"
    if not hours.is_finite() or abs(hours) > 14:
        return "UTC", "default"
    minutes = round(hours * 60)
    if minutes == 0:
        return "UTC", "wordpress_offset"
    sign = "+" if minutes > 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}", "wordpress_offset"
