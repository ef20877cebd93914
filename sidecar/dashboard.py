"""The dashboard's figures, from counters kept as messages are recorded (cheap to read):
campaign totals from the campaign rows, the 30-day chart, delivery rate and opt-outs from
`bkntc_sms_daily_stats` (delivered and undelivered messages count on the day they were
sent, so the rate is delivered / sent of the messages sent in the window); attributed
bookings and revenue from `bkntc_sms_attributions` (DESIGN.md §12), the bookings made in
the same 30 days that the attribution refresh gave a sent message."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, case, func, select

from .outcomes.attribution import cents_to_amount
from .schema import SmsTables
from .segments import tenant_key

CHART_DAYS = 30


class Dashboard:
    def __init__(self, engine: Engine, tables: SmsTables, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine, self.tables, self.clock = engine, tables, clock

    def summary(self, tenant_id: int | None) -> dict[str, Any]:
        c, d = self.tables.campaigns, self.tables.daily
        r, x = self.tables.recipients, self.tables.attributions
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
            # Bookings made in the chart's days that the stored attribution gave a sent
            # message (holdout rows' bookings are the control group's, not the campaigns'):
            # the tenant's campaigns, then a range on attributions(campaign_id, created_at)
            # each and the recipient row by its key.
            booked = conn.execute(
                select(func.count().label("bookings"),
                       func.coalesce(func.sum(x.c.revenue_cents), 0).label("cents"))
                .select_from(x.join(c, c.c.id == x.c.campaign_id)
                             .join(r, r.c.id == x.c.recipient_id))
                .where(c.c.tenant_id == key, is_campaign, r.c.status == "sent",
                       x.c.created_at >= first_day * 86400,
                       x.c.created_at < (today + 1) * 86400)).mappings().one()
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
                "outcomes": {"days": CHART_DAYS, "bookings": int(booked["bookings"]),
                             "revenue": cents_to_amount(int(booked["cents"]))},
                "deliveries": {
                    "days": CHART_DAYS, "sent": sent_30, "delivered": delivered_30,
                    "undelivered": sum(int(r.undelivered) for r in rows),
                    # delivered / sent of the messages sent in the window; null: none sent
                    "rate": round(delivered_30 / sent_30, 4) if sent_30 else None}}


def axis_ticks(peak: int, most: int = 5) -> list[int]:
    """Whole-number y-axis ticks from 0 to the first round value ≥ `peak`, spaced by 1, 2
    or 5 times a power of ten, at most `most` of them."""
    step = 1
    while math.ceil(max(peak, 1) / step) > most - 1:
        step = _next_round(step)
    return list(range(0, math.ceil(max(peak, 1) / step) * step + 1, step))


def _next_round(step: int) -> int:
    power = 10 ** int(math.log10(step))
    return step * 2 if step // power in (1, 5) else step // 2 * 5


def chart_svg(chart: list[dict[str, Any]], width: int = 720, height: int = 200) -> dict[str, Any]:
    """Bar geometry for the template's inline SVG (server-rendered, no chart library): the
    stacked sent/failed bars, and a y axis with numbered ticks left of them."""
    left, bottom, top, right = 48, 24, 8, 4
    plot_w, plot_h = width - left - right, height - bottom - top
    ticks = axis_ticks(max([day["sent"] + day["failed"] for day in chart] + [1]))
    peak = ticks[-1]
    gap = 4
    bar = (plot_w - gap * (len(chart) - 1)) / max(len(chart), 1)
    base = top + plot_h
    bars = []
    for index, day in enumerate(chart):
        sent_h = plot_h * day["sent"] / peak
        failed_h = plot_h * day["failed"] / peak
        x = left + index * (bar + gap)
        bars.append({"x": round(x, 1), "w": round(bar, 1), "day": day["day"],
                     "sent": day["sent"], "failed": day["failed"],
                     "sent_y": round(base - sent_h, 1), "sent_h": round(sent_h, 1),
                     "failed_y": round(base - sent_h - failed_h, 1),
                     "failed_h": round(failed_h, 1)})
    return {"width": width, "height": height, "bars": bars, "peak": peak,
            "left": left, "right": width - right, "top": top, "base_y": base,
            "ticks": [{"value": v, "y": round(base - plot_h * v / peak, 1)} for v in ticks],
            "title_y": round(top + plot_h / 2, 1), "label_y": height - 6}
