"""The holdout group and its lift (DESIGN.md §12).

Assignment is a pure function of the campaign id and the E.164 number, so it is the same on
every re-run and on every machine: `sha256("{campaign_id}:{phone}")`, its first 8 hex digits
as an integer, mod 10,000, below `percent * 100` → holdout.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, Table, select, update

HOLDOUT_MAX = 50
MIN_GROUP = 30  # each group needs at least this many recipients before lift is shown
Z95 = 1.96
_CHUNK = 1000  # ids per UPDATE


def in_holdout(campaign_id: int, phone: str, percent: int) -> bool:
    """Whether `phone` (E.164 with '+') is held back from campaign `campaign_id`."""
    if percent <= 0:
        return False
    digest = hashlib.sha256(f"{campaign_id}:{phone}".encode()).hexdigest()
    return int(digest[:8], 16) % 10_000 < percent * 100


def holdout_error(value: Any) -> str | None:
    """Why `value` cannot be a holdout percent, or None (a whole number 0 to 50)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= HOLDOUT_MAX:
        return f"must be a whole number from 0 to {HOLDOUT_MAX}"
    return None


def assign_holdout(conn: Connection, recipients: Table, campaign_id: int,
                   percent: int) -> int:
    """Mark the campaign's pending rows that fall in the holdout as `holdout` (never sent);
    returns how many. Runs inside the snapshot's transaction, after its INSERT."""
    if percent <= 0:
        return 0
    r = recipients
    rows = conn.execute(select(r.c.id, r.c.phone).where(
        r.c.campaign_id == campaign_id, r.c.status == "pending")).all()
    held = [int(row.id) for row in rows if in_holdout(campaign_id, str(row.phone), percent)]
    for start in range(0, len(held), _CHUNK):
        conn.execute(update(r).where(r.c.id.in_(held[start:start + _CHUNK]))
                     .values(status="holdout"))
    return len(held)


@dataclass(frozen=True)
class Lift:
    """Booking rate of sent minus holdout, with its 95% interval (fractions)."""

    absolute: float
    ci95_low: float
    ci95_high: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def lift(sent: int, sent_booked: int, held: int, held_booked: int) -> Lift | None:
    """(ps - ph) +- 1.96 * sqrt(ps(1 - ps)/ns + ph(1 - ph)/nh), unpooled, unclamped, rounded to 4
    decimals; None unless both groups have at least MIN_GROUP recipients."""
    if sent < MIN_GROUP or held < MIN_GROUP:
        return None
    ps, ph = sent_booked / sent, held_booked / held
    diff = ps - ph
    margin = Z95 * math.sqrt(ps * (1 - ps) / sent + ph * (1 - ph) / held)
    return Lift(round(diff, 4), round(diff - margin, 4), round(diff + margin, 4))


def describe_lift(found: Lift | None) -> str:
    """The lift in plain words, in percentage points."""
    if found is None:
        return "not enough recipients to tell"
    low, high = found.ci95_low * 100, found.ci95_high * 100
    return (f"{found.absolute * 100:+.1f} points; likely between {low:+.1f} and "
            f"{high:+.1f} points")


def share(numbers: Iterable[str], campaign_id: int, percent: int) -> float:
    """The fraction of `numbers` held back (for checks and benchmarks)."""
    items = list(numbers)
    return sum(in_holdout(campaign_id, n, percent) for n in items) / max(len(items), 1)
