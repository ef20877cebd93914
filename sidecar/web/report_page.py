"""The campaign report page `/ui/campaigns/<id>/report` (DESIGN.md §12): the API's report
object, the sends and bookings per day as an SVG drawn here (no chart library, no CDN), and
the top failure reasons linking to the filtered logs."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, g, render_template

from ..dashboard import axis_ticks
from ..outcomes.report import DayCount
from . import business_zone, require
from .api import rt, tenant
from .pages import _chrome, business_currency

blueprint = Blueprint("report_page", __name__, url_prefix="/ui")


def chart_geometry(days: list[DayCount], width: int = 720, height: int = 220) -> dict[str, Any]:
    """Bars for sends and bookings per day with a labelled y axis (at most five ticks) and day
    labels on the x axis; plain numbers for the template to place."""
    left, bottom, top = 44, 28, 8
    plot_w, plot_h = width - left - 4, height - bottom - top
    values = axis_ticks(max([max(d.sent, d.bookings) for d in days] + [1]))
    peak = values[-1]
    slot = plot_w / max(len(days), 1)
    bar = max(min(slot / 2 - 2, 24), 1)
    label_every = max(1, math.ceil(len(days) / 10))
    bars = []
    for index, d in enumerate(days):
        x = left + index * slot
        sent_h = plot_h * d.sent / peak
        booked_h = plot_h * d.bookings / peak
        bars.append({
            "label": datetime.fromtimestamp(d.day * 86400, tz=UTC).strftime("%Y-%m-%d"),
            "sent": d.sent, "bookings": d.bookings,
            "sent_x": round(x + slot / 2 - bar - 1, 1), "booked_x": round(x + slot / 2 + 1, 1),
            "w": round(bar, 1),
            "sent_y": round(top + plot_h - sent_h, 1), "sent_h": round(sent_h, 1),
            "booked_y": round(top + plot_h - booked_h, 1), "booked_h": round(booked_h, 1),
            "label_x": round(x + slot / 2, 1), "show_label": index % label_every == 0,
        })
    # Round, evenly spaced whole numbers (a quarter of a top of 5 is no label for a count).
    ticks = [{"value": v, "y": round(top + plot_h - plot_h * v / peak, 1)} for v in values]
    return {"width": width, "height": height, "left": left, "top": top,
            "base_y": top + plot_h, "right": width - 4, "bars": bars, "ticks": ticks,
            "peak": peak, "label_y": height - 10}


@blueprint.get("/campaigns/<int:campaign_id>/report")
def campaign_report(campaign_id: int) -> str:
    require("sms_campaigns")
    runtime = rt()
    report = runtime.reports.report(tenant(), campaign_id)
    zone = business_zone()
    # Days are the business's days (its UTC offset now), like every time the pages show.
    days = runtime.reports.per_day(campaign_id, zone.offset_at(runtime.clock()))
    return render_template(
        "campaign_report.html", report=report, chart=chart_geometry(days),
        failures=runtime.reports.failure_reasons(campaign_id),
        currency=business_currency(tenant()), can_logs=g.identity.can("sms_campaign_logs"),
        zone_name=zone.name, **_chrome("campaigns"))
