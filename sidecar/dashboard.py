"""The dashboard's figures, from counters kept as messages are recorded (cheap to read):
campaign totals from the campaign rows, the 30-day chart, delivery rate and opt-outs from
`bkntc_sms_daily_stats` (delivered and undelivered messages count on the day they were
sent, so the rate is delivered / sent of the messages sent in the window)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, case, func, select

from .schema import SmsTables
from .segments import tenant_key

CHART_DAYS = 30


class Dashboard:
    def __init__(self, engine: Engine, tables: SmsTables, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine, self.tables, self.clock = engine, tables, clock

    def summary(self, tenant_id: int | None) -> dict[str, Any]:
        c, d = self.tables.campaigns, self.tables.daily
        key = tenant_key(tenant_id)
        # The chart stays in UTC days (and the page says so) while every time shown is in
        # the business zone: daily_stats is incremented per UTC day by the statement that
        # records a batch, so local days would need local-day keys written there (the
        # zone can change, and whole-hour buckets would still split India's +05:30) or a
        # scan of the recipients by sent_at, which daily_stats exists to avoid.
        today = int(self.clock()) // 86400
        first_day = today - CHART_DAYS + 1
        is_campaign = c.c.kind == "campaign"
        with self.engine.connect() as conn:
            totals = conn.execute(select(
                func.sum(case((is_campaign, 1), else_=0)).label("campaigns"),
                func.sum(case((is_campaign & (c.c.status == "completed"), 1), else_=0))
                .label("completed"),
                func.coalesce(func.sum(c.c.sent), 0).label("sent"),
                func.coalesce(func.sum(c.c.failed), 0).label("failed"),
                func.coalesce(func.sum(c.c.pending), 0).label("pending"),
            ).where(c.c.tenant_id == key)).mappings().one()
            recent = conn.execute(
                select(c.c.id, c.c.name, c.c.status, c.c.total, c.c.sent, c.c.failed,
                       c.c.delivered, c.c.undelivered, c.c.updated_at)
                .where(c.c.tenant_id == key, is_campaign)
                .order_by(c.c.updated_at.desc(), c.c.id.desc()).limit(5)).mappings().all()
            # What goes out next on its own (DESIGN.md §11): scheduled, soonest first.
            scheduled = conn.execute(
                select(c.c.id, c.c.name, c.c.send_at)
                .where(c.c.tenant_id == key, is_campaign, c.c.status == "scheduled")
                .order_by(c.c.send_at, c.c.id).limit(5)).mappings().all()
            rows = conn.execute(
                select(d.c.day, d.c.sent, d.c.failed, d.c.delivered, d.c.undelivered,
                       d.c.opt_outs)
                .where(d.c.tenant_id == key, d.c.day >= first_day, d.c.day <= today)).all()
        days = {int(r.day): (int(r.sent), int(r.failed)) for r in rows}
        sent_30 = sum(int(r.sent) for r in rows)
        delivered_30 = sum(int(r.delivered) for r in rows)
        chart = [{"day": time.strftime("%Y-%m-%d", time.gmtime(day * 86400)),
                  "sent": days.get(day, (0, 0))[0], "failed": days.get(day, (0, 0))[1]}
                 for day in range(first_day, today + 1)]
        return {"campaigns": int(totals["campaigns"] or 0),
                "completed": int(totals["completed"] or 0),
                "sent": int(totals["sent"]), "failed": int(totals["failed"]),
                "pending": int(totals["pending"]),
                "opt_outs": sum(int(r.opt_outs) for r in rows),
                "recent": [dict(r) for r in recent], "chart": chart,
                "scheduled": [dict(r) for r in scheduled],
                "deliveries": {
                    "days": CHART_DAYS, "sent": sent_30, "delivered": delivered_30,
                    "undelivered": sum(int(r.undelivered) for r in rows),
                    # delivered / sent of the messages sent in the window; null: none sent
                    "rate": round(delivered_30 / sent_30, 4) if sent_30 else None}}


def chart_svg(chart: list[dict[str, Any]], width: int = 720, height: int = 180) -> dict[str, Any]:
    """Bar geometry for the template's inline SVG (server-rendered, no chart library)."""
    peak = max([day["sent"] + day["failed"] for day in chart] + [1])
    gap = 4
    bar = (width - gap * (len(chart) - 1)) / max(len(chart), 1)
    usable = height - 24
    bars = []
    for index, day in enumerate(chart):
        sent_h = usable * day["sent"] / peak
        failed_h = usable * day["failed"] / peak
        x = index * (bar + gap)
        bars.append({"x": round(x, 1), "w": round(bar, 1), "day": day["day"],
                     "sent": day["sent"], "failed": day["failed"],
                     "sent_y": round(usable - sent_h, 1), "sent_h": round(sent_h, 1),
                     "failed_y": round(usable - sent_h - failed_h, 1),
                     "failed_h": round(failed_h, 1)})
    return {"width": width, "height": height, "bars": bars, "peak": peak,
            "label_y": height - 6}
