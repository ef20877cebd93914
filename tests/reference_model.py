"""DESIGN.md §3 (segments) in plain Python over a fixture `Dataset`: no SQL at all.

Tests compare the product's SQL against this. It is written to be obviously literal, not fast:
every rule of §3 is one visible line below. Keep it independent of `sidecar.segments`; the only
product code it shares is the definition of a valid phone (`sidecar.phones.normalise_phone`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from sidecar.phones import normalise_phone
from sidecar.sample_data import Dataset

DAY = 86400
SEGMENT_KEYS = [
    "booked_last_7",
    "booked_last_30",
    "booked_last_90",
    "upcoming_next_7",
    "upcoming_next_30",
    "first_time",
    "repeat",
    "inactive_90",
    "inactive_180",
    "canceled_recent",
    "all_with_phone",
]
CANCELED_STATUSES = frozenset({"canceled", "rejected"})


@dataclass
class Expected:
    recipients: dict[str, int]  # E.164 phone -> customer id (lowest id among members)
    skipped_invalid_phone: int
    skipped_duplicate_phone: int
    skipped_suppressed: int
    members: frozenset[int] = field(default_factory=frozenset)  # M, before phone rules
    skipped_upcoming: int = 0  # members of M dropped by exclude_upcoming_days

    @property
    def count(self) -> int:
        return len(self.recipients)

    @property
    def customer_ids(self) -> set[int]:
        return set(self.recipients.values())

    def counts(self) -> dict[str, int]:
        """The numeric fields of a preview (`segments preview --json`), for direct comparison."""
        return {
            "count": self.count,
            "skipped_invalid_phone": self.skipped_invalid_phone,
            "skipped_duplicate_phone": self.skipped_duplicate_phone,
            "skipped_suppressed": self.skipped_suppressed,
            "skipped_upcoming": self.skipped_upcoming,
        }


def _in_scope(row: dict[str, Any], tenant_id: int | None) -> bool:
    # A row without the key comes from a "no_tenant_column" data set: everything counts there.
    return row.get("tenant_id") == tenant_id


def _meets_segment(segment: str, starts: list[int], now: int) -> bool:
    """Does a customer whose counted appointments start at `starts` belong to `segment`?"""
    if segment.startswith("booked_last_"):
        n = int(segment.rsplit("_", 1)[1])
        return any(now - n * DAY <= s <= now for s in starts)
    if segment.startswith("upcoming_next_"):
        n = int(segment.rsplit("_", 1)[1])
        return any(now < s <= now + n * DAY for s in starts)
    if segment == "first_time":
        return len(starts) == 1
    if segment == "repeat":
        return len(starts) >= 3
    if segment.startswith("inactive_"):
        n = int(segment.rsplit("_", 1)[1])
        return any(s <= now for s in starts) and not any(s > now - n * DAY for s in starts)
    if segment == "canceled_recent":
        return any(s >= now - 30 * DAY for s in starts)
    raise ValueError(f"unknown segment {segment!r}")


def segment_members(
    ds: Dataset,
    segment: str,
    *,
    tenant_id: int | None,
    now: int,
    service_ids: Iterable[int] = (),
    location_ids: Iterable[int] = (),
    statuses: Iterable[str] = (),
    min_appointments: int | None = None,
) -> list[dict[str, Any]]:
    """The customer rows of M (segment + filters), in id order, before any phone rule."""
    if segment not in SEGMENT_KEYS:
        raise ValueError(f"unknown segment {segment!r}")
    if ds.kind == "no_tenant_column" and tenant_id is not None:
        raise ValueError("a data set without tenant_id columns only has the NULL tenant")
    services = set(service_ids)
    locations = set(location_ids)
    wanted_statuses = set(statuses)

    def counted(appt: dict[str, Any]) -> bool:
        if wanted_statuses:  # `statuses` replaces the default set, for every segment
            if appt["status"] not in wanted_statuses:
                return False
        elif segment == "canceled_recent":
            if appt["status"] not in CANCELED_STATUSES:
                return False
        elif appt["status"] in CANCELED_STATUSES:  # default: active appointments
            return False
        if services and appt["service_id"] not in services:
            return False
        return not (locations and appt["location_id"] not in locations)

    starts_by_customer: dict[int, list[int]] = {}
    for appt in ds.appointments:
        if _in_scope(appt, tenant_id) and counted(appt):
            starts_by_customer.setdefault(appt["customer_id"], []).append(appt["starts_at"])

    appointment_filter = bool(services or locations or wanted_statuses)
    members = []
    for customer in sorted(ds.customers, key=lambda c: c["id"]):
        if not _in_scope(customer, tenant_id):
            continue
        starts = starts_by_customer.get(customer["id"], [])
        if segment == "all_with_phone":
            if appointment_filter and not starts:
                continue
        elif not _meets_segment(segment, starts, now):
            continue
        if min_appointments is not None and min_appointments > 0 and len(starts) < min_appointments:
            continue
        members.append(customer)
    return members


def expected_preview(
    ds: Dataset,
    segment: str,
    *,
    tenant_id: int | None,
    now: int,
    default_region: str | None = None,
    service_ids: Iterable[int] = (),
    location_ids: Iterable[int] = (),
    statuses: Iterable[str] = (),
    min_appointments: int | None = None,
    exclude_suppressed: bool = True,
    suppressed: Collection[str] = frozenset(),
    exclude_upcoming_days: int | None = None,
) -> Expected:
    """What a preview of `segment` must report (DESIGN.md §3), computed without SQL."""
    members = segment_members(
        ds, segment, tenant_id=tenant_id, now=now, service_ids=service_ids,
        location_ids=location_ids, statuses=statuses, min_appointments=min_appointments,
    )
    all_members = frozenset(c["id"] for c in members)
    upcoming = 0
    if exclude_upcoming_days is not None:
        # §3/§11: drop customers with an *active* appointment in (now, now + N days] —
        # any of theirs in the tenant, whatever the segment's service/location/status
        # filters — before the phone rules (so before one-recipient-per-number).
        booked = upcoming_customers(ds, tenant_id=tenant_id, now=now,
                                    days=exclude_upcoming_days)
        upcoming = sum(1 for c in members if c["id"] in booked)
        members = [c for c in members if c["id"] not in booked]
    invalid = 0
    by_phone: dict[str, int] = {}
    valid = 0
    for customer in members:  # id order, so the first customer seen per phone is the lowest
        phone = normalise_phone(customer["phone_number"], default_region)
        if phone is None:
            invalid += 1
            continue
        valid += 1
        by_phone.setdefault(phone, customer["id"])
    duplicates = valid - len(by_phone)
    suppressed_count = 0
    if exclude_suppressed:
        suppressed_set = set(suppressed)
        dropped = {p for p in by_phone if p in suppressed_set}
        suppressed_count = len(dropped)
        by_phone = {p: cid for p, cid in by_phone.items() if p not in dropped}
    result = Expected(
        recipients=by_phone,
        skipped_invalid_phone=invalid,
        skipped_duplicate_phone=duplicates,
        skipped_suppressed=suppressed_count,
        members=all_members,
        skipped_upcoming=upcoming,
    )
    assert (result.count + invalid + duplicates + suppressed_count + upcoming) \
        == len(all_members)
    return result


def upcoming_customers(ds: Dataset, *, tenant_id: int | None, now: int,
                       days: int) -> set[int]:
    """Customers of the tenant with an active appointment starting in (now, now + days]."""
    return {
        appt["customer_id"] for appt in ds.appointments
        if _in_scope(appt, tenant_id)
        and appt["status"] not in CANCELED_STATUSES
        and now < appt["starts_at"] <= now + days * DAY
    }
