"""The segments of DESIGN.md §3 and the filters a campaign may add: what they mean, and
the validation of untrusted filter input. No SQL here (that is service.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import Invalid
from ..schema import ID_MAX, is_row_id

DAY = 86400
# exclude_upcoming_days: how far ahead a booking may be looked for (a year).
UPCOMING_DAYS_MAX = 365


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


class SegmentError(Invalid):
    """Invalid segment or filters; `errors` maps each field to a message."""


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
    # Drop customers with an active appointment in (now, now + N days] (DESIGN.md §3).
    exclude_upcoming_days: int | None = None

    def __post_init__(self) -> None:
        errors: dict[str, str] = {}
        if self.segment not in SEGMENTS:
            errors["segment"] = (
                f"unknown segment {self.segment!r}; choose one of {', '.join(SEGMENTS)}"
            )
        if not all(is_row_id(i) for i in self.service_ids):
            errors["service_ids"] = f"service ids must be whole numbers from 1 to {ID_MAX}"
        if not all(is_row_id(i) for i in self.location_ids):
            errors["location_ids"] = f"location ids must be whole numbers from 1 to {ID_MAX}"
        if any(not isinstance(s, str) or not s.strip() or len(s) > 50 for s in self.statuses):
            errors["statuses"] = "statuses must be non-empty text of at most 50 characters"
        if self.min_appointments is not None and (
            not isinstance(self.min_appointments, int) or isinstance(self.min_appointments, bool)
            or not 0 <= self.min_appointments <= 100000
        ):
            errors["min_appointments"] = "minimum appointments must be a whole number ≥ 0"
        if self.exclude_upcoming_days is not None and not _is_days(self.exclude_upcoming_days):
            errors["exclude_upcoming_days"] = UPCOMING_DAYS_ERROR
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
            "exclude_upcoming_days": self.exclude_upcoming_days,
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
                errors[name] = f"must be a list of whole numbers from 1 to {ID_MAX}"
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
        upcoming = filters.get("exclude_upcoming_days")
        if upcoming in ("", None):
            upcoming = None
        else:
            try:
                upcoming = _as_int(upcoming, allow_zero=True)
            except ValueError:
                upcoming = None
            if upcoming is None or not _is_days(upcoming):
                errors["exclude_upcoming_days"] = UPCOMING_DAYS_ERROR
                upcoming = None
        exclude = filters.get("exclude_suppressed", True)
        if not isinstance(exclude, bool):
            errors["exclude_suppressed"] = "must be true or false"
            exclude = True
        if not isinstance(segment, str) or segment not in SEGMENTS:
            errors["segment"] = f"unknown segment {segment!r}; choose one of {', '.join(SEGMENTS)}"
        if errors:
            raise SegmentError(errors)
        return cls(segment, tenant_id, service_ids, location_ids, statuses, minimum, exclude,
                   upcoming)


UPCOMING_DAYS_ERROR = f"must be a whole number of days from 0 to {UPCOMING_DAYS_MAX}"


def _is_days(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)
            and 0 <= value <= UPCOMING_DAYS_MAX)


def _as_int(value: Any, *, allow_zero: bool = False) -> int:
    if (not isinstance(value, int | float | str) or isinstance(value, bool)
            or (isinstance(value, float) and not value.is_integer())):
        raise ValueError(value)  # int() would raise TypeError or OverflowError for these
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit():
            raise ValueError(value)
    number = int(value)
    if number != value and not isinstance(value, str):
        raise ValueError(value)
    if not (0 if allow_zero else 1) <= number <= ID_MAX:
        raise ValueError(value)
    return number


def tenant_key(tenant_id: int | None) -> int:
    """Our tables store Booknetic's NULL tenant as 0 (see schema.py)."""
    return tenant_id or 0


def region_key(region: str | None) -> str:
    """Our phones table stores "no default region" as '' (see schema.py)."""
    return region or ""
