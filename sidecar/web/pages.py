"""Server-rendered admin pages under /ui (shown inside Booknetic's panel by the bridge).

Pages render data; every change goes through the JSON API from static/app.js, so the
rules live in one place. Links and script calls use relay-relative URLs (`u()` in
templates), never the sidecar's own address.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, g, render_template, request

from ..campaigns import Status
from ..dashboard import chart_svg
from ..delivery_log import DELIVERY_FILTERS, EXPORT_CAP, STATUSES
from ..errors import Invalid
from ..phone_region import country_names
from ..providers.twilio import OPT_OUT_CODES
from ..segments import SEGMENTS
from ..sms_text import GSM7_BASIC, GSM7_EXTENSION, MAX_BODY_CHARS, SHORTCODES
from . import business_zone, require
from .api import rt, tenant
from .inputs import page_args

blueprint = Blueprint("pages", __name__, url_prefix="/ui")

STATUS_TABS = [("", "All")] + [(s.value, s.value.capitalize()) for s in Status]
# Where a suppression came from (DESIGN.md §10), for the suppression list's filter.
SOURCE_LABELS = [("manual", "Added by hand"), ("keyword", "Replied STOP"),
                 ("provider", "Refused by Twilio or the carrier")]
# The logs page's delivery filter (delivery_log.DELIVERY_FILTERS), in words.
DELIVERY_FILTER_LABELS = [("delivered", "Delivered"), ("not_delivered", "Not delivered"),
                          ("undelivered", "Undelivered"), ("failed", "Failed at the carrier"),
                          ("pending", "No delivery report yet")]
# Booknetic's currency option (Helper::getOption('currency'); per tenant in SaaS).
CURRENCY_OPTION = "currency"


def _chrome(active: str) -> dict[str, Any]:
    """What every page shows: navigation, the Twilio banner, a sending halt."""
    runtime = rt()
    twilio = runtime.booknetic.twilio_status()
    return {"active": active, "twilio": twilio.public(), "halt": runtime.outbox.halt_state(),
            "send_blocked": twilio.problem or "",
            "can": {cap: g.identity.can(cap) for cap in (
                "sms_campaigns_create", "sms_campaigns_send", "sms_campaigns_delete",
                "sms_campaign_templates", "sms_campaign_logs", "sms_campaign_suppressions")}}


def business_currency(tenant_id: int | None) -> str:
    """The business's ISO currency code for amounts (the report page, the dashboard),
    '' when Booknetic's option is unset or unusual."""
    bk = rt().booknetic
    name = (f"bkntc_{CURRENCY_OPTION}" if tenant_id is None
            else f"bkntc_t{tenant_id}_{CURRENCY_OPTION}")
    try:
        value = (bk.option(name) or "").strip()
    except Exception:  # an unknown option layout must not break the page
        value = ""
    return value if value.isalpha() and len(value) == 3 else ""


@blueprint.get("/")
@blueprint.get("/campaigns")
def campaigns() -> str:
    require("sms_campaigns")
    page, per_page = page_args(default=20)
    status = request.args.get("status") or None
    if status not in {s.value for s in Status}:
        status = None
    rows, total = rt().campaigns.list(tenant(), status=status, limit=per_page,
                                      offset=(page - 1) * per_page)
    pages = max((total + per_page - 1) // per_page, 1)
    progress_id = request.args.get("progress", type=int)
    return render_template("campaigns.html", campaigns=rows, total=total, page=page,
                           pages=pages, status=status or "", tabs=STATUS_TABS,
                           progress_id=progress_id, **_chrome("campaigns"))


def _sms_json() -> str:
    """The GSM-7 tables for the page's live counter (the server's tables, not a copy)."""
    return json.dumps({"basic": "".join(sorted(GSM7_BASIC)),
                       "extension": "".join(sorted(GSM7_EXTENSION)),
                       "max": MAX_BODY_CHARS}, ensure_ascii=False)


def _form(campaign: dict[str, Any] | None) -> str:
    runtime = rt()
    bk = runtime.booknetic
    options = {
        "services": bk.services(tenant()),
        "locations": bk.locations(tenant()),
        "statuses": bk.statuses(tenant()),
    }
    return render_template(
        "campaign_form.html", campaign=campaign, segments=list(SEGMENTS.values()),
        options=options, templates=runtime.templates.list(tenant()),
        shortcodes=SHORTCODES, sms_json=_sms_json(),
        filters=(campaign or {}).get("filters") or {"exclude_suppressed": True},
        send_at_local=_local_input((campaign or {}).get("send_at")),
        zone_name=business_zone().name,
        holdout_default=runtime.tenant_settings.for_tenant(tenant()).holdout_percent,
        # A campaign the lifecycle no longer lets anyone edit (sent, or on its way) is
        # shown read-only, with a way to send it again.
        readonly=campaign is not None and "edit" not in campaign["actions"],
        **_chrome("campaigns"))


def _local_input(epoch: int | None) -> str:
    """`epoch` as an <input type="datetime-local"> value in the business timezone."""
    if not epoch:
        return ""
    return datetime.fromtimestamp(epoch, business_zone().zone).strftime("%Y-%m-%dT%H:%M")


@blueprint.get("/campaigns/new")
def new_campaign() -> str:
    require("sms_campaigns")
    require("sms_campaigns_create")
    return _form(None)


@blueprint.get("/campaigns/<int:campaign_id>/edit")
def edit_campaign(campaign_id: int) -> str:
    require("sms_campaigns")
    require("sms_campaigns_create")
    return _form(rt().campaigns.get(tenant(), campaign_id))


@blueprint.get("/dashboard")
def dashboard() -> str:
    require("sms_campaigns")
    summary = rt().dashboard.summary(tenant())
    return render_template("dashboard.html", summary=summary, chart=chart_svg(summary["chart"]),
                           currency=business_currency(tenant()), **_chrome("dashboard"))


@blueprint.get("/templates")
def templates() -> str:
    require("sms_campaigns")
    require("sms_campaign_templates")
    return render_template("templates.html", templates=rt().templates.list(tenant()),
                           shortcodes=SHORTCODES, sms_json=_sms_json(),
                           **_chrome("templates"))


@blueprint.get("/suppressions")
def suppressions() -> str:
    require("sms_campaigns")
    require("sms_campaign_suppressions")
    page, per_page = page_args(default=50)
    query = request.args.get("q", "")[:100]
    source = request.args.get("source") or ""
    if source and source not in dict(SOURCE_LABELS):
        raise Invalid({"source": f"use one of {', '.join(dict(SOURCE_LABELS))}"},
                      message=f"unknown source {source!r}")
    rows, total = rt().suppressions.list(tenant(), query=query, limit=per_page,
                                         offset=(page - 1) * per_page, source=source or None)
    return render_template("suppressions.html", rows=rows, total=total, page=page,
                           pages=max((total + per_page - 1) // per_page, 1), q=query,
                           source=source, sources=SOURCE_LABELS,
                           **_chrome("suppressions"))


@blueprint.get("/sms")
def send_sms() -> str:
    require("sms_campaigns")
    require("sms_campaigns_send")
    recent, _ = rt().campaigns.list(tenant(), kind="manual", limit=10)
    return render_template("sms.html", shortcodes=SHORTCODES, sms_json=_sms_json(),
                           recent=recent, **_chrome("sms"))


@blueprint.get("/campaigns/<int:campaign_id>/logs")
def campaign_logs(campaign_id: int) -> str:
    require("sms_campaigns")
    require("sms_campaign_logs")
    page, per_page = page_args(default=50)
    status = request.args.get("status") or ""
    if status and status not in STATUSES:
        raise Invalid({"status": f"use one of {', '.join(STATUSES)}"},
                      message=f"unknown status {status!r}")
    delivery = request.args.get("delivery") or ""
    if delivery and delivery not in DELIVERY_FILTERS:
        raise Invalid({"delivery": f"use one of {', '.join(DELIVERY_FILTERS)}"},
                      message=f"unknown delivery status {delivery!r}")
    query = request.args.get("q", "")[:100]
    logs = rt().logs
    campaign = logs.campaign(tenant(), campaign_id)
    rows, total = logs.rows(tenant(), campaign_id, status=status or None, query=query,
                            delivery=delivery or None, limit=per_page,
                            offset=(page - 1) * per_page)
    csv_query = urlencode([(k, v) for k, v in (("status", status), ("delivery", delivery),
                                               ("q", query)) if v])
    return render_template(
        "logs.html", campaign=campaign, rows=rows, total=total, page=page,
        pages=max((total + per_page - 1) // per_page, 1), status=status, q=query,
        statuses=STATUSES, export_cap=EXPORT_CAP, delivery_filters=DELIVERY_FILTER_LABELS,
        csv_path=f"/api/v1/campaigns/{campaign_id}/logs.csv"
                 + (f"?{csv_query}" if csv_query else ""),
        delivery=delivery, opt_out_codes=OPT_OUT_CODES,
        **_chrome("campaigns"))


@blueprint.get("/settings")
def settings() -> str:
    require("sms_campaigns")
    runtime = rt()
    current = runtime.tenant_settings.for_tenant(tenant())
    price = current.price_per_segment
    return render_template(
        "settings.html", values=current.to_json(), initial=json.dumps(current.to_json()),
        price="" if price is None else format(price, "f"),
        inherited=runtime.regions.inherited(tenant()), countries=country_names(),
        editable=g.identity.can("sms_campaigns_send"), **_chrome("settings"))
