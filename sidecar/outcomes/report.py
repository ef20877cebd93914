"""The campaign report (DESIGN.md §12): one primary-key read of the campaign row, whose
figures the send engine and the attribution refresh keep; the page's extras (sends and
bookings per day, the top failure reasons) are separate indexed reads of one campaign.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select

from ..campaigns import CampaignNotFound
from ..schema import SmsTables
from ..segments import tenant_key
from .attribution import DAY, cents_to_amount
from .holdout import describe_lift, lift

REPORT_KEYS = ("recipients", "sent", "delivered", "undelivered", "failed", "skipped",
               "opted_out", "bookings", "booked_recipients", "revenue", "holdout", "lift",
               "attribution_days")


def _rate(part: int, whole: int) -> float | None:
    return None if whole <= 0 else round(part / whole, 4)


@dataclass(frozen=True)
class DayCount:
    day: int  # epoch day in the business zone (local midnight // 86400)
    sent: int
    bookings: int


class ReportService:
    """Reads campaign reports of one tenant at a time."""

    def __init__(self, engine: Engine, tables: SmsTables, *,
                 default_days: Callable[[int | None], int]) -> None:
        self.engine = engine
        self.tables = tables
        self.default_days = default_days

    def report(self, tenant_id: int | None, campaign_id: int) -> dict[str, Any]:
        """The §12 report object (plus `campaign_id`, `name`, `status`, `rates`,
        `lift_words`, `attributed_at`), from the campaign row alone."""
        c = self.tables.campaigns
        with self.engine.connect() as conn:
            row = conn.execute(select(c).where(
                c.c.id == campaign_id, c.c.tenant_id == tenant_key(tenant_id),
                c.c.kind == "campaign")).mappings().first()
        if row is None:
            raise CampaignNotFound(campaign_id)
        return self._from_row(tenant_id, row)

    def _from_row(self, tenant_id: int | None, row: Any) -> dict[str, Any]:
        sent, held = int(row["sent"]), int(row["holdout"])
        booked, held_booked = int(row["booked_recipients"]), int(row["holdout_booked"])
        found = lift(sent, booked, held, held_booked)
        days = row["attribution_days"]
        if days is None:
            days = self.default_days(tenant_id)
        skipped = int(row["skipped"]) if "skipped" in row else 0  # the frequency cap's
        return {
            "campaign_id": int(row["id"]), "name": row["name"], "status": row["status"],
            "recipients": int(row["total"]), "sent": sent,
            "delivered": int(row["delivered"]), "undelivered": int(row["undelivered"]),
            "failed": int(row["failed"]), "skipped": skipped,
            "opted_out": int(row["opted_out"]), "bookings": int(row["bookings"]),
            "booked_recipients": booked,
            "revenue": cents_to_amount(int(row["revenue_cents"])),
            "holdout": {"recipients": held, "booked_recipients": held_booked},
            "lift": found.to_dict() if found else None,
            "attribution_days": int(days),
            # Beyond the contract: what the page shows beside the figures.
            "rates": {"sent": _rate(sent, int(row["total"]) - held),
                      "delivered": _rate(int(row["delivered"]), sent),
                      "booked": _rate(booked, sent),
                      "holdout_booked": _rate(held_booked, held)},
            "lift_words": describe_lift(found),
            "attributed_at": row["attributed_at"],
        }

    def per_day(self, campaign_id: int, offset: int = 0) -> list[DayCount]:
        """Messages sent and bookings attributed (sent group) per local day, every day from
        the first to the last that has either; `offset` = the business zone's UTC offset in
        seconds. Two grouped reads on the campaign's indexes."""
        r, x = self.tables.recipients, self.tables.attributions
        sent_day = ((r.c.sent_at + offset) / DAY)
        booked_day = ((x.c.created_at + offset) / DAY)
        with self.engine.connect() as conn:
            sends = conn.execute(
                select(func.floor(sent_day).label("d"), func.count())
                .where(r.c.campaign_id == campaign_id, r.c.status == "sent",
                       r.c.sent_at.is_not(None))
                .group_by(func.floor(sent_day))).all()
            bookings = conn.execute(
                select(func.floor(booked_day).label("d"), func.count())
                .select_from(x.join(r, r.c.id == x.c.recipient_id))
                .where(x.c.campaign_id == campaign_id, r.c.status == "sent")
                .group_by(func.floor(booked_day))).all()
        by_sent = {int(d): int(n) for d, n in sends}
        by_booked = {int(d): int(n) for d, n in bookings}
        days = set(by_sent) | set(by_booked)
        if not days:
            return []
        return [DayCount(d, by_sent.get(d, 0), by_booked.get(d, 0))
                for d in range(min(days), max(days) + 1)]

    def failure_reasons(self, campaign_id: int, limit: int = 5) -> list[dict[str, Any]]:
        """The most common errors of the campaign's failed rows, with counts."""
        r = self.tables.recipients
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(r.c.last_error, func.count().label("n"))
                .where(r.c.campaign_id == campaign_id, r.c.status == "failed")
                .group_by(r.c.last_error).order_by(func.count().desc(), r.c.last_error)
                .limit(limit)).all()
        return [{"reason": str(e or "unknown error"), "count": int(n)} for e, n in rows]
